// Whether a training step runs on the pool or on one thread, measured per batch size.
//
// Whether a step gains from the pool depends on the machine as much as on the model (how far
// apart the cores are, how loaded the host is), so no fixed threshold is right. For each batch
// size (the few most recent, kept apart so an epoch's short last batch does not reset the
// others) and pool size, after 2 warm-up steps the tuner runs up to kPairs pairs of trials, one
// on the pool (woken first) and one on one thread, order alternating; a trial is two steps in one
// mode, both timed, since the first step after a switch pays for moving data between the cores'
// caches. It keeps the faster mode by the trials' second steps: early once every trial of one
// mode is over 1.3x slower than every trial of the other, else by median after kPairs pairs; a
// pool trial whose two steps both take over 20 ms decides for the pool at once (big steps always
// gain), so one slow sample never decides. Both modes give the same bits (every split is
// bit-identical): the choice changes speed, never results. It is measured again every
// kRetuneSteps steps, since the host's load changes.
#pragma once
#include <cstddef>

namespace densenorm {

class StepTuner {
 public:
  static constexpr int kPairs = 6;
  static constexpr int kRetuneSteps = 1000;
  static constexpr int kEntries = 8;  // batch sizes remembered
  static constexpr double kBigStepMs = 20.0;

  enum class Choice { kTuning, kPool, kOneThread };

  // What the next step should do.
  struct Plan {
    bool serial = false;     // run it inside a SerialScope (one thread)
    bool wake_pool = false;  // wake the pool's workers first (outside the timing)
    bool timed = false;      // report its duration with record()
  };

  // enabled: tuning is on (else always the pool). pool_threads: the pool's size.
  Plan plan(size_t batch, int pool_threads, bool enabled);
  // The step planned last took ms milliseconds (ok: it succeeded).
  void record(double ms, bool ok);

  // Runs one step: step(serial) returns a Status-like value with ok(); wake() wakes the pool;
  // now_ms() reads a clock in milliseconds (injected so tests can drive the decisions).
  template <class Step, class Wake, class Clock>
  auto run(size_t batch, int pool_threads, bool enabled, Step&& step, Wake&& wake, Clock&& now_ms) {
    const Plan p = plan(batch, pool_threads, enabled);
    if (p.wake_pool) wake();
    const double t0 = p.timed ? now_ms() : 0.0;
    auto st = step(p.serial);
    if (p.timed) record(now_ms() - t0, st.ok());
    return st;
  }

  // The choice for the batch size of the last step: "tuning", "pool", "one thread", "single"
  // (the pool has one thread) or "none" (no step yet).
  const char* describe() const;
  Choice choice(size_t batch) const;

 private:
  struct Entry {
    size_t batch = 0;
    int threads = 0;
    bool enabled = true;
    Choice choice = Choice::kTuning;
    int n = 0;      // trial steps run (2 warm-ups first)
    int since = 0;  // steps since the decision
    double first_ms = 0;  // a trial's first step
    double ms[2][kPairs] = {};  // the trials' second steps: [0] pool, [1] one thread
    int count[2] = {0, 0};
    unsigned long long used = 0;  // for least-recently-used replacement
  };
  Entry* find(size_t batch);
  void decide(Entry& e);

  Entry entries_[kEntries];
  int live_ = 0;
  unsigned long long clock_ = 0;
  Entry* last_ = nullptr;
  int last_step_ = -1;   // index of the planned step within its entry's tuning, -1 if not tuning
  bool last_serial_ = false;
};

}  // namespace densenorm

// StepTuner's decisions, driven by an injected clock: each fake step advances the clock by the
// duration the test gives its mode, so noise is exactly what the test puts in.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string_view>

#include "core/step_tuner.h"

namespace {

using densenorm::StepTuner;
using Choice = StepTuner::Choice;

struct Ok { bool ok() const { return true; } };

int failures = 0;
void expect(bool cond, const char* what) {
  std::printf("%s %s\n", cond ? "ok  " : "FAIL", what);
  if (!cond) ++failures;
}

// Runs steps of `batch` until the tuner decides (or max steps); duration(serial, step) in ms.
Choice drive(StepTuner& t, size_t batch, int threads, const std::function<double(bool, int)>& duration,
             int max_steps = 100, int* steps_run = nullptr) {
  double now = 0;
  int step = 0;
  bool serial = false;
  for (; step < max_steps && (step < 2 || t.choice(batch) == Choice::kTuning); ++step) {
    t.run(batch, threads, true,
          [&](bool s) { serial = s; now += duration(s, step); return Ok{}; },
          [] {}, [&] { return now; });
  }
  if (steps_run) *steps_run = step;
  return t.choice(batch);
}

}  // namespace

int main() {
  {
    StepTuner t;
    const Choice c = drive(t, 64, 2, [](bool serial, int) { return serial ? 1.0 : 0.6; });
    expect(c == Choice::kPool, "a clearly faster pool is chosen");
  }
  {
    StepTuner t;
    const Choice c = drive(t, 64, 2, [](bool serial, int) { return serial ? 0.6 : 1.0; });
    expect(c == Choice::kOneThread, "a clearly faster single thread is chosen");
  }
  {
    // One thread is 10% faster; one pool step (the first timed pool step) takes 50 ms.
    StepTuner t;
    const Choice c = drive(t, 64, 2, [](bool serial, int step) {
      if (!serial && step == 2) return 50.0;
      return serial ? 0.9 : 1.0;
    });
    expect(c == Choice::kOneThread, "a one-off 50 ms pool step does not lock in the pool");
  }
  {
    // One thread is 10% faster; one one-thread sample is very slow: the median still decides.
    StepTuner t;
    int hit = 0;
    const Choice c = drive(t, 64, 2, [&](bool serial, int) {
      if (serial && hit++ == 3) return 40.0;
      return serial ? 0.9 : 1.0;
    });
    expect(c == Choice::kOneThread, "a one-off slow one-thread sample does not flip the choice");
  }
  {
    StepTuner t;
    const Choice c = drive(t, 64, 2, [](bool serial, int) { return serial ? 60.0 : 30.0; });
    expect(c == Choice::kPool, "a pool trial of two steps over 20 ms decides for the pool");
  }
  {
    // Batch 64 decided; then a 32-row last batch is tuned apart and 64's decision survives it.
    StepTuner t;
    drive(t, 64, 2, [](bool serial, int) { return serial ? 0.6 : 1.0; });
    double now = 0;
    for (int i = 0; i < 3; ++i)
      t.run(32, 2, true, [&](bool) { now += 1; return Ok{}; }, [] {}, [&] { return now; });
    expect(t.choice(64) == Choice::kOneThread, "another batch size does not reset a decision");
    expect(t.choice(32) == Choice::kTuning, "the other batch size tunes on its own");
  }
  {
    StepTuner t;
    double now = 0;
    t.run(64, 1, true, [&](bool) { return Ok{}; }, [] {}, [&] { return now; });
    expect(std::string_view(t.describe()) == "single", "one pool thread: no tuning (single)");
    StepTuner off;
    off.run(64, 2, false, [&](bool s) { expect(!s, "tuning off: always the pool"); return Ok{}; },
            [] {}, [&] { return now; });
    expect(off.choice(64) == Choice::kPool, "tuning off reports the pool");
  }
  {
    StepTuner t;
    drive(t, 64, 2, [](bool serial, int) { return serial ? 0.6 : 1.0; });
    double now = 0;
    bool retuning = false;
    for (int i = 0; i < StepTuner::kRetuneSteps; ++i)
      t.run(64, 2, true, [&](bool) { now += 1; return Ok{}; }, [] {}, [&] { return now; });
    retuning = t.choice(64) == Choice::kTuning;
    expect(retuning, "the choice is measured again after kRetuneSteps steps");
  }
  std::printf(failures ? "%d FAILED\n" : "all passed\n", failures);
  return failures ? 1 : 0;
}

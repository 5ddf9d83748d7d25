#include "core/step_tuner.h"

#include <algorithm>

namespace densenorm {
namespace {
double median_of(const double* v, int n) {
  double t[16];
  std::copy(v, v + n, t);
  std::sort(t, t + n);
  return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}
}  // namespace

StepTuner::Entry* StepTuner::find(size_t batch) {
  for (int i = 0; i < live_; ++i)
    if (entries_[i].batch == batch) return &entries_[i];
  if (live_ < kEntries) return &(entries_[live_++] = Entry{});
  Entry* oldest = &entries_[0];
  for (int i = 1; i < kEntries; ++i)
    if (entries_[i].used < oldest->used) oldest = &entries_[i];
  *oldest = Entry{};
  return oldest;
}

StepTuner::Plan StepTuner::plan(size_t batch, int pool_threads, bool enabled) {
  Entry* e = find(batch);
  if (e->batch != batch || e->threads != pool_threads || e->enabled != enabled) {
    *e = Entry{};
    e->batch = batch;
    e->threads = pool_threads;
    e->enabled = enabled;
    e->choice = pool_threads <= 1 || !enabled ? Choice::kPool : Choice::kTuning;
  }
  e->used = ++clock_;
  last_ = e;
  last_step_ = -1;
  Plan p;
  if (e->choice != Choice::kTuning) {
    if (e->threads > 1 && e->enabled && ++e->since >= kRetuneSteps) {
      e->choice = Choice::kTuning;
      e->since = 0;
      e->n = 2;  // no warm-ups: the workspaces exist
      e->count[0] = e->count[1] = 0;
    }
    p.serial = e->choice == Choice::kOneThread;
    return p;
  }
  const int i = e->n++;
  // Warm-ups (i = 0, 1: workspaces, caches), then trials of two steps: pool first in even
  // pairs, last in odd.
  const int j = i - 2, trial = j / 2, pair = trial / 2;
  p.serial = i < 2 ? i == 1 : ((trial & 1) ^ (pair & 1)) == 1;
  // A pool step right after a one-thread step would find the workers asleep, which steady pool
  // steps never pay.
  p.wake_pool = !p.serial;
  p.timed = i >= 2;
  last_step_ = i;
  last_serial_ = p.serial;
  return p;
}

void StepTuner::record(double ms, bool ok) {
  Entry* e = last_;
  const int i = last_step_;
  last_step_ = -1;
  if (!e || i < 2 || !ok || e->choice != Choice::kTuning) return;
  const bool lead = (i - 2) % 2 == 0;
  if (lead) {
    e->first_ms = ms;
    return;
  }
  if (!last_serial_ && ms > kBigStepMs && e->first_ms > kBigStepMs) {
    e->choice = Choice::kPool;
    return;
  }
  const int m = last_serial_ ? 1 : 0;
  if (e->count[m] < kPairs) e->ms[m][e->count[m]++] = ms;
  decide(*e);
}

void StepTuner::decide(Entry& e) {
  const int np = std::min(e.count[0], e.count[1]);
  if (np < 2 || e.count[0] != e.count[1]) return;
  const double* p = e.ms[0];
  const double* o = e.ms[1];
  const double pmin = *std::min_element(p, p + np), pmax = *std::max_element(p, p + np);
  const double omin = *std::min_element(o, o + np), omax = *std::max_element(o, o + np);
  if (omin > 1.3 * pmax) e.choice = Choice::kPool;
  else if (pmin > 1.3 * omax) e.choice = Choice::kOneThread;
  else if (np == kPairs) e.choice = median_of(o, np) < median_of(p, np) ? Choice::kOneThread : Choice::kPool;
}

StepTuner::Choice StepTuner::choice(size_t batch) const {
  for (int i = 0; i < live_; ++i)
    if (entries_[i].batch == batch) return entries_[i].choice;
  return Choice::kTuning;
}

const char* StepTuner::describe() const {
  if (!last_ || last_->threads == 0) return "none";
  if (last_->threads == 1) return "single";
  switch (last_->choice) {
    case Choice::kTuning: return "tuning";
    case Choice::kPool: return "pool";
    case Choice::kOneThread: return "one thread";
  }
  return "none";
}

}  // namespace densenorm

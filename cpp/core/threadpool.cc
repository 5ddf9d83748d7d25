// Persistent thread pool behind parallel.h (no OpenMP runtime to ship).
//
// One pool per process, created lazily and never destroyed (workers blocked on a condition
// variable are simply dropped at exit; joining from static destructors can hang in an addon).
// parallel_for: the caller claims the pool with a non-blocking try-lock (an atomic flag, which,
// unlike std::mutex::try_lock, is well-defined when the owning thread asks again from inside a
// task); if it is taken (another caller, or a nested call from a task) the tasks run inline.
// Otherwise the job is published under the mutex, workers are woken, and caller + workers pull
// task indices from an atomic counter. The caller returns once every worker has left the job, so
// `fn` is never touched after parallel_for returns.
//
// Waking a thread blocked on a condition variable costs tens of microseconds, as much as a whole
// small layer, so a worker that finishes a job spins (cpu_relax) for up to kSpinUs watching
// the job counter before it blocks, and the caller spins likewise while the helpers finish. A
// training step or a batch-1 prediction runs its jobs back to back and never pays the wake-up;
// an idle pool still sleeps (after kSpinUs), so it costs nothing between requests.
#include <sched.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "densenorm/parallel.h"
#include "densenorm/settings.h"
#include "densenorm/spin.h"

namespace densenorm {
namespace {

constexpr int64_t kSpinUs = 200;

// Spins until done() or kSpinUs have passed; returns done().
template <class F>
bool spin_until(F done) {
  using clock = std::chrono::steady_clock;
  const auto end = clock::now() + std::chrono::microseconds(kSpinUs);
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (clock::now() >= end) return done();
  }
}

int default_threads() {
  if (const int n = settings::num_threads()) return n;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n >= 1) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc >= 1 ? static_cast<int>(hc) : 1;
}

class Pool {
 public:
  explicit Pool(int n) { start(n); }

  int size() const { return n_threads_; }

  // Claims the pool (non-blocking). Returns false if busy.
  bool try_claim() {
    bool expected = false;
    return busy_.compare_exchange_strong(expected, true, std::memory_order_acquire);
  }
  void claim_blocking() {
    while (!try_claim()) std::this_thread::yield();
  }
  void release() { busy_.store(false, std::memory_order_release); }

  // Requires the pool claimed.
  void resize(int n) {
    stop_workers();
    start(n);
  }

  // Requires the pool claimed.
  void run(size_t n_tasks, const std::function<void(size_t)>& fn) {
    const int helpers = static_cast<int>(
        (n_tasks - 1) < workers_.size() ? (n_tasks - 1) : workers_.size());
    {
      std::lock_guard<std::mutex> lk(mu_);
      fn_ = &fn;
      n_tasks_ = n_tasks;
      next_.store(0, std::memory_order_relaxed);
      error_ = nullptr;
      active_.store(helpers, std::memory_order_relaxed);
      wanted_ = helpers;
      generation_.store(generation_.load(std::memory_order_relaxed) + 1,
                        std::memory_order_release);
    }
    if (helpers == static_cast<int>(workers_.size())) work_cv_.notify_all();
    else for (int i = 0; i < helpers; ++i) work_cv_.notify_one();
    work(fn, n_tasks);
    spin_until([&] { return active_.load(std::memory_order_acquire) == 0; });
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [&] { return active_.load(std::memory_order_relaxed) == 0; });
    fn_ = nullptr;
    std::exception_ptr err = error_;
    error_ = nullptr;
    lk.unlock();
    if (err) std::rethrow_exception(err);
  }

 private:
  void start(int n) {
    n_threads_ = n < 1 ? 1 : n;
    stop_ = false;
    workers_.clear();
    // The generation is captured here, not read by the new thread: a job published before the
    // thread gets scheduled must still be seen as new by it.
    const uint64_t gen = generation_.load(std::memory_order_relaxed);
    for (int i = 0; i < n_threads_ - 1; ++i)
      workers_.emplace_back([this, gen] { worker_loop(gen); });
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

  void work(const std::function<void(size_t)>& fn, size_t n_tasks) {
    for (;;) {
      size_t i = next_.fetch_add(1, std::memory_order_relaxed);
      if (i >= n_tasks) break;
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lk(mu_);
        if (!error_) error_ = std::current_exception();
      }
    }
  }

  void worker_loop(uint64_t seen) {
    for (;;) {
      spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; });
      std::unique_lock<std::mutex> lk(mu_);
      work_cv_.wait(lk, [&] {
        return stop_ || (generation_.load(std::memory_order_relaxed) != seen && wanted_ > 0);
      });
      if (stop_) return;
      seen = generation_.load(std::memory_order_relaxed);
      --wanted_;
      const std::function<void(size_t)>* fn = fn_;
      const size_t n = n_tasks_;
      lk.unlock();
      work(*fn, n);
      lk.lock();
      if (active_.fetch_sub(1, std::memory_order_acq_rel) == 1) done_cv_.notify_one();
    }
  }

  int n_threads_ = 1;
  std::vector<std::thread> workers_;
  std::atomic<bool> busy_{false};
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  bool stop_ = false;
  std::atomic<uint64_t> generation_{0};  // written under mu_; read without it while spinning
  int wanted_ = 0;                 // helpers still to join the current job
  std::atomic<int> active_{0};     // helpers that have not finished the current job (under mu_)
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t n_tasks_ = 0;
  std::atomic<size_t> next_{0};
  std::exception_ptr error_;
};

Pool& pool() {
  static Pool* p = new Pool(default_threads());  // intentionally leaked, see top comment
  return *p;
}

// SerialScope depth of this thread: while > 0 its parallel work runs inline.
thread_local int t_serial = 0;

}  // namespace

SerialScope::SerialScope(bool on) : on_(on) {
  if (on_) ++t_serial;
}
SerialScope::~SerialScope() {
  if (on_) --t_serial;
}

int num_threads() { return t_serial ? 1 : pool().size(); }
int pool_threads() { return pool().size(); }

void set_num_threads(int n) {
  if (n < 1) n = 1;
  Pool& p = pool();
  p.claim_blocking();
  if (n != p.size()) p.resize(n);
  p.release();
}

void parallel_for(size_t n_tasks, const std::function<void(size_t)>& fn) {
  if (n_tasks == 0) return;
  Pool& p = pool();
  if (n_tasks == 1 || t_serial || p.size() == 1 || !p.try_claim()) {
    for (size_t i = 0; i < n_tasks; ++i) fn(i);
    return;
  }
  try {
    p.run(n_tasks, fn);
  } catch (...) {
    p.release();
    throw;
  }
  p.release();
}

// Every task blocks until the whole team has started (callers synchronize), so no thread can take
// a second task: with team − 1 helpers woken, each of the team's threads runs exactly one task.
size_t parallel_team(size_t n, const std::function<void(size_t, size_t)>& fn) {
  Pool& p = pool();
  size_t team = n < static_cast<size_t>(p.size()) ? n : static_cast<size_t>(p.size());
  if (team <= 1 || t_serial || !p.try_claim()) {
    fn(0, 1);
    return 1;
  }
  try {
    p.run(team, [&](size_t i) { fn(i, team); });
  } catch (...) {
    p.release();
    throw;
  }
  p.release();
  return team;
}

}  // namespace densenorm

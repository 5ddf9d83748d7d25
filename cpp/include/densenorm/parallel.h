// Persistent thread pool (no OpenMP runtime to ship) and the threaded GEMM driver.
#pragma once
#include <cstddef>
#include <functional>

#include "densenorm/kernels.h"

namespace densenorm {

// Number of threads the pool uses (caller included); 1 inside a SerialScope. Default:
// DENSENORM_NUM_THREADS if set, else the CPUs this process may run on (sched_getaffinity), >= 1.
int num_threads();
// The pool's size, whatever SerialScope says (num_threads() is 1 inside one).
int pool_threads();
// While one is alive (and constructed with on = true), this thread's parallel_for and
// parallel_team run inline and num_threads() is 1, so every split decision takes its one-thread
// branch: the work gives the same bits as with the pool (every split is bit-identical), on one
// core. Nests; other threads are unaffected.
class SerialScope {
 public:
  explicit SerialScope(bool on);
  ~SerialScope();
  SerialScope(const SerialScope&) = delete;
  SerialScope& operator=(const SerialScope&) = delete;

 private:
  bool on_;
};
// Resizes the pool (n >= 1). Safe to call between operations.
void set_num_threads(int n);

// Runs fn(0) … fn(n_tasks−1), spread over the pool; the calling thread takes part and the call
// returns when all tasks finished. Tasks must write disjoint outputs, so results never depend on
// which thread ran which task. Re-entrant and safe from several threads at once: a call made while
// the pool is busy (another caller, or from inside a task) runs its tasks inline on the caller.
void parallel_for(size_t n_tasks, const std::function<void(size_t)>& fn);

// Runs fn(tid, team) for tid = 0 … team−1 on `team` distinct threads at the same time (so the
// tasks may synchronize with each other), team = min(n, num_threads()); returns team. When the
// pool is busy (another caller, or a call from inside a task) it runs fn(0, 1) on the caller.
size_t parallel_team(size_t n, const std::function<void(size_t tid, size_t team)>& fn);

// When gemm runs a team: M >= min_rows_per_thread·threads and N < max_cols_per_thread·threads.
// 0 restores a default (DENSENORM_GEMM_TEAM_ROWS / _COLS, else 256 and 64); under the default
// policy the team also needs N > kGemmDirectMaxN (op(A) packed). Process-wide; for tests (to reach
// either path on any shape) and tuning. Results are the same bits either way.
void set_gemm_team_policy(size_t min_rows_per_thread, size_t max_cols_per_thread);

// Threaded GEMM over kernels().gemm / gemm_team, same contract as KernelTable::gemm. Tall,
// narrow problems (M >= 256·threads, 128 < N < 64·threads: set_gemm_team_policy) run as a team (row
// chunks claimed dynamically, op(B) packed once and shared); others split C into balanced column
// ranges of whole register tiles (rows when N is too narrow). Results are bit-identical for every thread count; problems under 1 MFLOP stay on one
// thread.
// stats (nullable): the batch-statistics epilogue (kernels.h GemmColStats), bit-identical for
// every thread count too.
// cols_done (nullable): called as (*cols_done)(j0, j1) for disjoint column ranges covering
// [0, N) once those columns of C (and of the statistics) are final. When C is split by columns,
// each task calls it for its own columns right after computing them (the layer's batch-norm pass
// then runs on both threads, on data still in that core's cache); otherwise the ranges are
// spread over the pool after the product. Ranges may run concurrently, and differ with the
// thread count: the callback must give every column the same result whatever range it comes in
// (core/net.cc: batch statistics, scale/shift and activation, per feature).
// table (nullable: kernels()): whose gemm entries run (densenorm/bf16.h's in mixed_bfloat16).
using ColsDone = std::function<void(size_t j0, size_t j1)>;
void gemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K,
          const float* A, size_t lda, const float* B, size_t ldb,
          float* C, size_t ldc, bool accumulate, const GemmColStats* stats = nullptr,
          const ColsDone* cols_done = nullptr, const KernelTable* table = nullptr);

// C[M×N] = op(A) · op(B) with op(B) pre-packed by kernels().gemm_pack_b (K×N, the active table's
// layout): threaded like gemm's column/row grid, same bits as gemm on the unpacked op(B). Net
// uses it from 9 rows; fewer rows stream B on gemm's own path, which never packs.
void gemm_prepacked(bool trans_a, size_t M, size_t N, size_t K, const float* A, size_t lda,
                    const float* BP, float* C, size_t ldc, const ColsDone* cols_done = nullptr,
                    const KernelTable* table = nullptr);

}  // namespace densenorm

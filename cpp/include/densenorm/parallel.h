// Persistent thread pool (no OpenMP runtime to ship) and the threaded GEMM driver.
#pragma once
#include <cstddef>
#include <functional>

namespace densenorm {

// Number of threads the pool uses (caller included). Default: DENSENORM_NUM_THREADS if set,
// else the CPUs this process may run on (sched_getaffinity), at least 1.
int num_threads();
// Resizes the pool (n >= 1). Safe to call between operations.
void set_num_threads(int n);

// Runs fn(0) … fn(n_tasks−1), spread over the pool; the calling thread takes part and the call
// returns when all tasks finished. Tasks must write disjoint outputs, so results never depend on
// which thread ran which task. Re-entrant and safe from several threads at once: a call made while
// the pool is busy (another caller, or from inside a task) runs its tasks inline on the caller.
void parallel_for(size_t n_tasks, const std::function<void(size_t)>& fn);

// Threaded GEMM over kernels().gemm, same contract as KernelTable::gemm. Splits C into column
// ranges (multiples of the kernel's register tile) so results are bit-identical for every thread
// count; problems under ~1 MFLOP stay on one thread.
void gemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K,
          const float* A, size_t lda, const float* B, size_t ldb,
          float* C, size_t ldc, bool accumulate);

}  // namespace densenorm

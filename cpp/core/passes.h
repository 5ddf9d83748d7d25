// The memory-bound passes of a layer, threaded so that the result never depends on the thread
// count: elementwise and row-wise passes compute each element or row exactly as one call would;
// per-column reductions split by column ranges (each lane sums its column in row order); the
// batch-norm backward reduction sums fixed kRowChunk-row chunks combined in chunk order. Passes
// under kParMin elements stay on the calling thread (the pool would cost more than the work).
#pragma once
#include <algorithm>
#include <cstddef>

#include "densenorm/kernels.h"
#include "densenorm/parallel.h"

namespace densenorm {

constexpr size_t kParMin = 64 * 1024;
constexpr size_t kRowChunk = 128;  // a power of two (see bn_dx)
constexpr size_t kColAlign = 16;   // widest SIMD vector, in floats
constexpr size_t kFlatAlign = 64;

inline bool elementwise(Act a) { return a != Act::softmax; }

// Row-wise softmax and its backward (not elementwise, so not in the ISA table).
void softmax_rows(const float* x, size_t rows, size_t cols, float* y);
void softmax_backward_rows(const float* dy, const float* y, size_t rows, size_t cols, float* dx);

namespace threaded {

// Runs fn(begin, end) over [0, total) in ranges aligned to `align`: one call when the pass is
// small (`elems` < kParMin) or the pool has one thread, else a few ranges per thread.
template <class F>
void for_ranges(size_t total, size_t elems, size_t align, F&& fn) {
  const size_t nt = static_cast<size_t>(num_threads());
  if (total == 0) return;
  if (elems < kParMin || nt <= 1 || total <= align) {
    fn(size_t{0}, total);
    return;
  }
  size_t per = (total + nt * 4 - 1) / (nt * 4);
  per = (per + align - 1) / align * align;
  const size_t tasks = (total + per - 1) / per;
  if (tasks <= 1) {
    fn(size_t{0}, total);
    return;
  }
  parallel_for(tasks, [&](size_t t) {
    const size_t b = t * per;
    fn(b, std::min(total, b + per));
  });
}

void scale_shift_act(const KernelTable& K, const float* X, size_t rows, size_t cols, size_t ldx,
                     const float* scale, const float* shift, Act act, float* Y, size_t ldy);
void act_backward(const KernelTable& K, const float* dY, const float* Y, size_t n, Act act, float* dX);
void col_mean_var(const KernelTable& K, const float* X, size_t rows, size_t cols, size_t ld,
                  float* mean, float* var);
void col_sum(const KernelTable& K, const float* X, size_t rows, size_t cols, size_t ld, float* out);
void softmax_rows(const float* x, size_t rows, size_t cols, float* y);
void softmax_backward_rows(const float* dy, const float* y, size_t rows, size_t cols, float* dx);

// Y = act(X) for X [rows × cols] (Y may alias X; linear copies).
void apply_act(const KernelTable& K, const float* X, size_t rows, size_t cols, Act act, float* Y);
// dX = dY ⊙ act'(Y), Y the activation's output (dX may alias dY; linear copies).
void act_grad(const KernelTable& K, const float* dY, const float* Y, size_t rows, size_t cols,
              Act act, float* dX);

// bn_backward_reduce; part holds [ceil(rows / kRowChunk) × 2 × cols] partial sums.
void bn_reduce(const KernelTable& K, float* part, const float* dY, const float* Y, const float* Z,
               size_t rows, size_t cols, Act act, const float* mean, const float* invstd,
               float* dU, float* sum_du, float* sum_du_xhat);
// bn_backward_dx split by rows; prescaled holds [4 × cols].
void bn_dx(const KernelTable& K, float* prescaled, const float* dU, const float* Z, size_t rows,
           size_t cols, const float* mean, const float* invstd, const float* gamma,
           const float* sum_du, const float* sum_du_xhat, float* dZ);

}  // namespace threaded

// Batch mean and (biased) variance of columns [j0, j1) of A (rows × cols) from the GEMM
// epilogue's per-chunk shifted sums (kernels.h GemmColStats), falling back to the exact two-pass
// statistics for a column whose shift was poor. Any split of the columns gives the same bits.
void bn_stats_cols(const KernelTable& K, const float* part, const float* shift, const float* A,
                   size_t rows, size_t cols, size_t j0, size_t j1, float* mean, float* var);

// Copies count floats unless src and dst are the same.
void copy_rows(const float* src, float* dst, size_t count);

}  // namespace densenorm

// Threaded GEMM driver (parallel.h): splits C into a grid of blocks and runs kernels().gemm on each.
// Column ranges are multiples of kColAlign (a multiple of every microkernel NR: 4, 16, 32), row
// ranges multiples of kRowAlign (a multiple of every MR: 4, 6, 8). Bit-identical results for any
// thread count hold regardless, because the kernels' K-summation order per C(i,j) is independent
// of M, N and the block (see cpp/kernels/README.md); the alignment only avoids edge tiles.
#include <cstddef>

#include "densenorm/kernels.h"
#include "densenorm/parallel.h"

namespace densenorm {

namespace {
constexpr size_t kColAlign = 64;
constexpr size_t kRowAlign = 24;
constexpr double kMinFlops = 2e6;       // below ~1 MFLOP (2*M*N*K < 2e6): one thread
constexpr double kMinFlopsPerTask = 1e6;

size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }
}  // namespace

void gemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const float* A, size_t lda,
          const float* B, size_t ldb, float* C, size_t ldc, bool accumulate) {
  const KernelTable& kt = kernels();
  if (M == 0 || N == 0) return;
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  size_t nt = static_cast<size_t>(num_threads());
  if (nt <= 1 || K == 0 || flops < kMinFlops) {
    kt.gemm(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
    return;
  }
  const size_t max_tasks = static_cast<size_t>(flops / kMinFlopsPerTask);
  if (nt > max_tasks) nt = max_tasks < 1 ? 1 : max_tasks;

  // Columns first (each task then packs only its own part of B); rows when N alone is too narrow.
  const size_t col_blocks = ceil_div(N, kColAlign);
  const size_t row_blocks = ceil_div(M, kRowAlign);
  size_t tn = nt < col_blocks ? nt : col_blocks;
  size_t tm = nt / tn;
  if (tm > row_blocks) tm = row_blocks;
  if (tm < 1) tm = 1;
  const size_t cols_per = ceil_div(col_blocks, tn) * kColAlign;
  const size_t rows_per = ceil_div(row_blocks, tm) * kRowAlign;
  tn = ceil_div(N, cols_per);
  tm = ceil_div(M, rows_per);
  if (tn * tm <= 1) {
    kt.gemm(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
    return;
  }

  parallel_for(tn * tm, [&](size_t t) {
    const size_t bi = t / tn, bj = t % tn;
    const size_t i0 = bi * rows_per, j0 = bj * cols_per;
    const size_t m = (M - i0) < rows_per ? (M - i0) : rows_per;
    const size_t n = (N - j0) < cols_per ? (N - j0) : cols_per;
    const float* a = trans_a ? A + i0 : A + i0 * lda;      // op(A) rows i0..
    const float* b = trans_b ? B + j0 * ldb : B + j0;      // op(B) cols j0..
    kt.gemm(trans_a, trans_b, m, n, K, a, lda, b, ldb, C + i0 * ldc + j0, ldc, accumulate);
  });
}

}  // namespace densenorm

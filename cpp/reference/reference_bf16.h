// References for the bf16 GEMM (cpp/kernels/bf16_impl.h): a bit-level one (the exact operations,
// written independently of the kernels: RNE rounding by integer arithmetic, pairs in the SDM's
// VDPBF16PS order, K blocks of 256) and a double-precision one on the bf16-rounded operands.
#pragma once
#include <cstddef>

namespace densenorm {
namespace ref {

float bf16_round(float x);  // VCVTNEPS2BF16: RNE, denormals → signed zero, NaN quieted

// C (=|+=) bf16(op(A))·bf16(op(B)), bit for bit as every bf16 path computes it (row-major, ldc = N).
void gemm_bf16_bits(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const float* A,
                    size_t lda, const float* B, size_t ldb, float* C, bool accumulate);
// The same product of the rounded operands in double (out: M×N doubles, accumulate from C0).
void gemm_bf16_double(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const float* A,
                      size_t lda, const float* B, size_t ldb, const float* C0, bool accumulate,
                      double* out);

}  // namespace ref
}  // namespace densenorm

#include "reference_bf16.h"

#include <cstdint>
#include <cstring>

namespace densenorm {
namespace ref {

float bf16_round(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7f800000u) == 0) u &= 0x80000000u;
  else if ((u & 0x7fffffffu) > 0x7f800000u) u = (u | 0x00400000u) & 0xffff0000u;
  else u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  float r;
  std::memcpy(&r, &u, sizeof r);
  return r;
}

namespace {
float opa(bool ta, const float* A, size_t lda, size_t i, size_t k) {
  return bf16_round(ta ? A[k * lda + i] : A[i * lda + k]);
}
float opb(bool tb, const float* B, size_t ldb, size_t k, size_t j) {
  return bf16_round(tb ? B[j * ldb + k] : B[k * ldb + j]);
}
// One fp32 rounding of acc + p, p an exact bf16 product: through double, which holds the sum of
// two floats exactly enough (53 >= 2·24 + 2 bits) that rounding it to float is correct.
float add_f(float acc, double p) { return static_cast<float>(static_cast<double>(acc) + p); }
}  // namespace

void gemm_bf16_bits(bool ta, bool tb, size_t M, size_t N, size_t K, const float* A, size_t lda,
                    const float* B, size_t ldb, float* C, bool accumulate) {
  constexpr size_t kKB = 256;
  for (size_t i = 0; i < M; ++i)
    for (size_t j = 0; j < N; ++j) {
      float c = accumulate ? C[i * N + j] : 0.0f;
      for (size_t k0 = 0; k0 < K; k0 += kKB) {
        const size_t kend = k0 + kKB < K ? k0 + kKB : K;
        float acc = 0.0f;
        for (size_t k = k0; k < kend; k += 2) {
          const double odd = k + 1 < kend ? static_cast<double>(opa(ta, A, lda, i, k + 1)) *
                                                opb(tb, B, ldb, k + 1, j)
                                          : 0.0;
          acc = add_f(acc, odd);
          acc = add_f(acc, static_cast<double>(opa(ta, A, lda, i, k)) * opb(tb, B, ldb, k, j));
        }
        c = (k0 == 0 && !accumulate) ? acc : c + acc;
      }
      C[i * N + j] = c;
    }
}

void gemm_bf16_double(bool ta, bool tb, size_t M, size_t N, size_t K, const float* A, size_t lda,
                      const float* B, size_t ldb, const float* C0, bool accumulate, double* out) {
  for (size_t i = 0; i < M; ++i)
    for (size_t j = 0; j < N; ++j) {
      double s = accumulate ? C0[i * N + j] : 0.0;
      for (size_t k = 0; k < K; ++k)
        s += static_cast<double>(opa(ta, A, lda, i, k)) * opb(tb, B, ldb, k, j);
      out[i * N + j] = s;
    }
}

}  // namespace ref
}  // namespace densenorm

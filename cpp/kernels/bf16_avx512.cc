// bf16 GEMM, AVX-512 tables: the emulation on 8x32 tiles, and the native VDPBF16PS kernel
// (AVX512_BF16; its functions carry target("avx512bf16") and run only after the CPUID check in
// dispatch/bf16_dispatch.cc). Both give the same bits (bf16_impl.h), denormals aside.
#if !defined(__AVX512F__)
#error "bf16_avx512.cc must be compiled with -mavx512f (and dq/vl/bw, fma)"
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define DENSENORM_KERNEL_NS avx512
#include "bf16_impl.h"

namespace densenorm {
namespace avx512 {
namespace bf16 {
using Avx512Emu = EmuKernel<Avx512, 8, 2>;

#if defined(__GNUC__) || defined(__clang__)
#define DN_BF16_NATIVE 1
#define DN_TARGET_BF16 __attribute__((target("avx512bf16")))

// Native layout: one dword per pair, the even element in the low half (VDPBF16PS's operand order).
struct NativeLayout {
  static constexpr size_t kPairFloats = 1;
  static inline float pair(float even, float odd) {
    const uint32_t u = static_cast<uint32_t>(round_bits(even)) |
                       (static_cast<uint32_t>(round_bits(odd)) << 16);
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
  }
  static void pack_b_panel(bool tb, const float* B, size_t ldb, size_t k0, size_t kc, size_t j0,
                           size_t nr_valid, size_t NR, float* out) {
    const size_t kp = (kc + 1) / 2;
    for (size_t p = 0; p < kp; ++p) {
      const size_t ke = k0 + 2 * p;
      const bool has_o = 2 * p + 1 < kc;
      for (size_t j = 0; j < NR; ++j) {
        const bool v = j < nr_valid;
        out[p * NR + j] = pair(v ? at_b(tb, B, ldb, ke, j0 + j) : 0.0f,
                               (v && has_o) ? at_b(tb, B, ldb, ke + 1, j0 + j) : 0.0f);
      }
    }
  }
  static void pack_a_panel(bool ta, const float* A, size_t lda, size_t i0, size_t mr_valid,
                           size_t k0, size_t kc, size_t MR, float* out) {
    const size_t kp = (kc + 1) / 2;
    for (size_t p = 0; p < kp; ++p) {
      const size_t ke = k0 + 2 * p;
      const bool has_o = 2 * p + 1 < kc;
      for (size_t i = 0; i < MR; ++i) {
        const bool v = i < mr_valid;
        out[p * MR + i] = pair(v ? at_a(ta, A, lda, i0 + i, ke) : 0.0f,
                               (v && has_o) ? at_a(ta, A, lda, i0 + i, ke + 1) : 0.0f);
      }
    }
  }
};

// 8x32: 16 zmm accumulators, 2 B vectors of 16 pairs, one broadcast pair per row.
struct NativeKernel {
  static constexpr size_t NR = 32;
  static constexpr size_t MR = 8;
  DN_TARGET_BF16 static void run(size_t kp, const float* a, const float* b, float* t) {
    __m512 acc[MR][2];
    for (size_t i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (size_t p = 0; p < kp; ++p) {
      const __m512i b0 = _mm512_loadu_si512(b);
      const __m512i b1 = _mm512_loadu_si512(b + 16);
      for (size_t i = 0; i < MR; ++i) {
        int32_t ai;
        std::memcpy(&ai, a + i, sizeof ai);
        const __m512i av = _mm512_set1_epi32(ai);
        acc[i][0] = _mm512_dpbf16_ps(acc[i][0], (__m512bh)b0, (__m512bh)av);
        acc[i][1] = _mm512_dpbf16_ps(acc[i][1], (__m512bh)b1, (__m512bh)av);
      }
      a += MR;
      b += NR;
    }
    for (size_t i = 0; i < MR; ++i) {
      _mm512_storeu_ps(t + i * NR, acc[i][0]);
      _mm512_storeu_ps(t + i * NR + 16, acc[i][1]);
    }
  }
};
#endif
}  // namespace bf16
}  // namespace avx512
}  // namespace densenorm

DENSENORM_DEFINE_BF16_GEMM(avx512, EmuLayout, DENSENORM_KERNEL_NS::bf16::Avx512Emu, 8)
#if DN_BF16_NATIVE
DENSENORM_DEFINE_BF16_GEMM(avx512bf16, NativeLayout, DENSENORM_KERNEL_NS::bf16::NativeKernel, 8)
#endif

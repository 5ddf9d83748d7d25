// bf16 GEMM (mixed_bfloat16): C (=|+=) bf16(op(A))·bf16(op(B)) with fp32 accumulation, written
// once as a template over the vector struct (simd.h); the bf16_<isa>.cc files only instantiate.
//
// Arithmetic (the contract every path meets, bit for bit):
//  * operands rounded to bf16 while packed: RNE, fp32 denormals to a signed zero, NaN quieted
//    (VCVTNEPS2BF16's rules);
//  * K cut into fixed blocks of kBf16KB = 256 (independent of the ISA, so every ISA path gives
//    the same bits); in each block pairs (k, k+1) from the block start, an odd tail paired with
//    a zero; per C(i,j) and block: acc = 0; for each pair acc += a[k+1]·b[k+1]; acc += a[k]·b[k]
//    (the Intel SDM's VDPBF16PS order: the odd element first); then C = acc or C + acc;
//  * each bf16 product is exact in fp32 (8 × 8 significand bits), so one fp32 FMA or a multiply
//    then an add gives VDPBF16PS's single RNE rounding per accumulation. The native instruction
//    also treats denormal inputs as zero and flushes denormal results (DAZ/FTZ, MXCSR ignored);
//    the emulation does not, so the two differ only where a product or partial sum is an fp32
//    denormal (|x| < 2^-126), and in NaN payloads.
// Layouts: Emu packs fp32 values of the rounded operands, per pair [odd row][even row];
// Native (AVX512_BF16, cpp/kernels/bf16_avx512.cc) packs bf16 pairs in one dword (even low).
// Statistics (GemmColStats): summed in ascending row order per column during the last K block's
// store into C, so any split that keeps kStatRows chunks whole gives the same bits.
// Same ODR rules as kernels_impl.h: no standard-library templates here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "densenorm/kernels.h"
#include "simd.h"

namespace densenorm {

float* kernel_scratch(int slot, size_t n);  // kernels_scalar.cc

namespace DENSENORM_KERNEL_NS {
namespace bf16 {

constexpr size_t kBf16KB = 256;  // K block (even): fixed, so every ISA sums the same blocks
constexpr size_t kBf16NC = 1024;
constexpr size_t kBf16MC = 96;   // a multiple of kStatRows and of every MR

static inline size_t mins(size_t a, size_t b) { return a < b ? a : b; }

// fp32 → bf16 bits, RNE; denormals → signed zero; NaN → quiet NaN (VCVTNEPS2BF16).
static inline uint16_t round_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7f800000u) == 0) return static_cast<uint16_t>((u >> 16) & 0x8000u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
static inline float widen(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
static inline float round_f(float x) { return widen(round_bits(x)); }

// op(A)(i,k) and op(B)(k,j) of the row-major inputs.
static inline float at_a(bool ta, const float* A, size_t lda, size_t i, size_t k) {
  return ta ? A[k * lda + i] : A[i * lda + k];
}
static inline float at_b(bool tb, const float* B, size_t ldb, size_t k, size_t j) {
  return tb ? B[j * ldb + k] : B[k * ldb + j];
}

// Emulated layout: a pair is 2 floats per row/column (odd element, then even).
// pack_b writes one NR panel of kp pairs: [p][0][NR] = b[k0+2p+1], [p][1][NR] = b[k0+2p].
struct EmuLayout {
  static constexpr size_t kPairFloats = 2;  // floats per pair and per row/column
  static void pack_b_panel(bool tb, const float* B, size_t ldb, size_t k0, size_t kc, size_t j0,
                           size_t nr_valid, size_t NR, float* out) {
    const size_t kp = (kc + 1) / 2;
    for (size_t p = 0; p < kp; ++p) {
      float* odd = out + p * 2 * NR;
      float* even = odd + NR;
      const size_t ke = k0 + 2 * p, ko = ke + 1;
      const bool has_o = 2 * p + 1 < kc;
      for (size_t j = 0; j < NR; ++j) {
        const bool v = j < nr_valid;
        even[j] = v ? round_f(at_b(tb, B, ldb, ke, j0 + j)) : 0.0f;
        odd[j] = (v && has_o) ? round_f(at_b(tb, B, ldb, ko, j0 + j)) : 0.0f;
      }
    }
  }
  // [p][MR][2]: (odd, even) per row.
  static void pack_a_panel(bool ta, const float* A, size_t lda, size_t i0, size_t mr_valid,
                           size_t k0, size_t kc, size_t MR, float* out) {
    const size_t kp = (kc + 1) / 2;
    for (size_t p = 0; p < kp; ++p) {
      float* o = out + p * 2 * MR;
      const size_t ke = k0 + 2 * p, ko = ke + 1;
      const bool has_o = 2 * p + 1 < kc;
      for (size_t i = 0; i < MR; ++i) {
        const bool v = i < mr_valid;
        o[2 * i] = (v && has_o) ? round_f(at_a(ta, A, lda, i0 + i, ko)) : 0.0f;
        o[2 * i + 1] = v ? round_f(at_a(ta, A, lda, i0 + i, ke)) : 0.0f;
      }
    }
  }
};

// The emulated MR × (NV·W) microkernel: per pair, acc = fma(a_odd, b_odd, acc) then
// fma(a_even, b_even, acc). Writes the whole tile to t (row stride NR).
template <class V, size_t MR, size_t NV>
struct EmuKernel {
  static constexpr size_t NR = NV * V::W;
  static void run(size_t kp, const float* a, const float* b, float* t) {
    using T = typename V::T;
    T acc[MR][NV];
    for (size_t i = 0; i < MR; ++i)
      for (size_t v = 0; v < NV; ++v) acc[i][v] = V::zero();
    for (size_t p = 0; p < kp; ++p) {
      T bo[NV], be[NV];
      for (size_t v = 0; v < NV; ++v) {
        bo[v] = V::load(b + v * V::W);
        be[v] = V::load(b + NR + v * V::W);
      }
      for (size_t i = 0; i < MR; ++i) {
        const T ao = V::set1(a[2 * i]);
        const T ae = V::set1(a[2 * i + 1]);
        for (size_t v = 0; v < NV; ++v) {
          acc[i][v] = V::fma(ao, bo[v], acc[i][v]);
          acc[i][v] = V::fma(ae, be[v], acc[i][v]);
        }
      }
      a += 2 * MR;
      b += 2 * NR;
    }
    for (size_t i = 0; i < MR; ++i)
      for (size_t v = 0; v < NV; ++v) V::store(t + i * NR + v * V::W, acc[i][v]);
  }
};

// Packed-B sizes (floats): per K block, ceil(N/NR) panels of kp pairs × PairFloats × NR.
template <class L>
static inline size_t block_floats(size_t kc, size_t N, size_t NR) {
  return (N + NR - 1) / NR * ((kc + 1) / 2) * L::kPairFloats * NR;
}
template <class L>
static inline size_t packed_b_size(size_t K, size_t N, size_t NR) {
  size_t s = 0;
  for (size_t k0 = 0; k0 < K; k0 += kBf16KB) s += block_floats<L>(mins(kBf16KB, K - k0), N, NR);
  return s;
}
template <class L>
static void pack_b_block(bool tb, const float* B, size_t ldb, size_t k0, size_t kc, size_t j0,
                         size_t N, size_t NR, float* out) {
  const size_t pstride = ((kc + 1) / 2) * L::kPairFloats * NR;
  for (size_t jp = 0; jp * NR < N; ++jp)
    L::pack_b_panel(tb, B, ldb, k0, kc, j0 + jp * NR, mins(NR, N - jp * NR), NR,
                    out + jp * pstride);
}

// The driver loop shared by the packing and the prepacked entries. BP (nullable): op(B) already
// packed by pack_b (full width ldbp), this call's columns starting at panel j0/NR.
template <class L, class Kern, size_t MR>
static void run(bool ta, bool tb, size_t M, size_t N, size_t K, const float* A, size_t lda,
                const float* B, size_t ldb, const float* BP, size_t ldbp, size_t j0, float* C,
                size_t ldc, bool accumulate, const GemmColStats* stats) {
  constexpr size_t NR = Kern::NR;
  if (M == 0 || N == 0) return;
  if (stats) {
    for (size_t q = 0; q * kStatRows < M; ++q) {
      std::memset(stats->part + q * 2 * stats->ldp, 0, N * sizeof(float));
      std::memset(stats->part + q * 2 * stats->ldp + stats->ldp, 0, N * sizeof(float));
    }
  }
  if (K == 0) {
    if (!accumulate)
      for (size_t i = 0; i < M; ++i) std::memset(C + i * ldc, 0, N * sizeof(float));
    if (stats)
      for (size_t i = 0; i < M; ++i) {
        float* p1 = stats->part + (i / kStatRows) * 2 * stats->ldp;
        float* p2 = p1 + stats->ldp;
        for (size_t j = 0; j < N; ++j) {
          const float d = C[i * ldc + j] - stats->shift[j];
          p1[j] = p1[j] + d;
          p2[j] = p2[j] + d * d;
        }
      }
    return;
  }
  const size_t nc_max = mins(kBf16NC, (N + NR - 1) / NR * NR);
  const size_t kp_max = (mins(kBf16KB, K) + 1) / 2;
  float* bpack = BP ? nullptr : kernel_scratch(0, kp_max * L::kPairFloats * nc_max);
  const size_t mc_max = mins(kBf16MC, (M + MR - 1) / MR * MR);
  float* apack = kernel_scratch(1, kp_max * L::kPairFloats * mc_max);
  alignas(64) float tile[MR * NR];
  for (size_t jc = 0; jc < N; jc += kBf16NC) {
    const size_t nc = mins(kBf16NC, N - jc);
    size_t bp_off = 0;  // offset of the K block inside BP
    for (size_t k0 = 0; k0 < K; k0 += kBf16KB) {
      const size_t kc = mins(kBf16KB, K - k0), kp = (kc + 1) / 2;
      const size_t pstride = kp * L::kPairFloats * NR;
      const float* bblk;
      if (BP) {
        bblk = BP + bp_off + (j0 + jc) / NR * pstride;
        bp_off += block_floats<L>(kc, ldbp, NR);
      } else {
        pack_b_block<L>(tb, B, ldb, k0, kc, jc, nc, NR, bpack);
        bblk = bpack;
      }
      const bool first = k0 == 0, last = k0 + kc == K;
      for (size_t ic = 0; ic < M; ic += kBf16MC) {
        const size_t mc = mins(kBf16MC, M - ic);
        for (size_t ip = 0; ip * MR < mc; ++ip)
          L::pack_a_panel(ta, A, lda, ic + ip * MR, mins(MR, mc - ip * MR), k0, kc, MR,
                          apack + ip * kp * L::kPairFloats * MR);
        for (size_t jp = 0; jp * NR < nc; ++jp) {
          const size_t nr = mins(NR, nc - jp * NR), jg = jc + jp * NR;
          for (size_t ip = 0; ip * MR < mc; ++ip) {
            const size_t mr = mins(MR, mc - ip * MR), ig = ic + ip * MR;
            Kern::run(kp, apack + ip * kp * L::kPairFloats * MR, bblk + jp * pstride, tile);
            for (size_t i = 0; i < mr; ++i) {
              float* c = C + (ig + i) * ldc + jg;
              const float* t = tile + i * NR;
              if (first && !accumulate)
                for (size_t j = 0; j < nr; ++j) c[j] = t[j];
              else
                for (size_t j = 0; j < nr; ++j) c[j] = c[j] + t[j];
              if (last && stats) {
                float* p1 = stats->part + ((ig + i) / kStatRows) * 2 * stats->ldp + jg;
                float* p2 = p1 + stats->ldp;
                const float* s = stats->shift + jg;
                for (size_t j = 0; j < nr; ++j) {
                  const float d = c[j] - s[j];
                  p1[j] = p1[j] + d;
                  p2[j] = p2[j] + d * d;
                }
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace bf16
}  // namespace DENSENORM_KERNEL_NS
}  // namespace densenorm

// Defines densenorm_bf16_table_<name>() for one layout/microkernel: the bf16 GEMM entries of a
// KernelTable (core/bf16.h merges them into the ISA's fp32 table).
#define DENSENORM_DEFINE_BF16_GEMM(name, LAYOUT, KERN, MR)                                         \
  namespace densenorm {                                                                           \
  namespace bf16_tbl_##name {                                                                     \
  using BL_ = DENSENORM_KERNEL_NS::bf16::LAYOUT;                                                  \
  using BK_ = KERN;                                                                               \
  void bf16_gemm_(bool ta, bool tb, size_t M, size_t N, size_t K, const float* A, size_t lda,    \
                  const float* B, size_t ldb, float* C, size_t ldc, bool acc,                     \
                  const GemmColStats* st) {                                                       \
    DENSENORM_KERNEL_NS::bf16::run<BL_, BK_, MR>(ta, tb, M, N, K, A, lda, B, ldb, nullptr, 0, 0,  \
                                                 C, ldc, acc, st);                                \
  }                                                                                               \
  size_t bf16_kblock_(size_t) { return DENSENORM_KERNEL_NS::bf16::kBf16KB; }                      \
  size_t bf16_packed_size_(size_t K, size_t N) {                                                  \
    return DENSENORM_KERNEL_NS::bf16::packed_b_size<BL_>(K, N, BK_::NR);                          \
  }                                                                                               \
  void bf16_pack_b_(bool tb, const float* B, size_t ldb, size_t K, size_t N, float* out) {       \
    for (size_t k0 = 0; k0 < K; k0 += DENSENORM_KERNEL_NS::bf16::kBf16KB) {                       \
      const size_t kc = DENSENORM_KERNEL_NS::bf16::mins(DENSENORM_KERNEL_NS::bf16::kBf16KB,       \
                                                        K - k0);                                  \
      DENSENORM_KERNEL_NS::bf16::pack_b_block<BL_>(tb, B, ldb, k0, kc, 0, N, BK_::NR, out);       \
      out += DENSENORM_KERNEL_NS::bf16::block_floats<BL_>(kc, N, BK_::NR);                        \
    }                                                                                             \
  }                                                                                               \
  void bf16_prepacked_(bool ta, size_t M, size_t N, size_t K, const float* A, size_t lda,        \
                       const float* BP, size_t ldbp, size_t j0, float* C, size_t ldc, bool acc) { \
    DENSENORM_KERNEL_NS::bf16::run<BL_, BK_, MR>(ta, false, M, N, K, A, lda, nullptr, 0, BP,      \
                                                 ldbp, j0, C, ldc, acc, nullptr);                 \
  }                                                                                               \
  }                                                                                               \
  void densenorm_bf16_table_##name(KernelTable* t) {                                              \
    t->gemm = &bf16_tbl_##name::bf16_gemm_;                                                       \
    t->gemm_team = nullptr;                                                                       \
    t->gemm_kblock = &bf16_tbl_##name::bf16_kblock_;                                              \
    t->gemm_nr = bf16_tbl_##name::BK_::NR;                                                        \
    t->gemm_packed_b_size = &bf16_tbl_##name::bf16_packed_size_;                                  \
    t->gemm_pack_b = &bf16_tbl_##name::bf16_pack_b_;                                              \
    t->gemm_prepacked = &bf16_tbl_##name::bf16_prepacked_;                                        \
  }                                                                                               \
  }

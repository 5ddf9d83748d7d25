// int8 GEMM + fused requantization epilogue (densenorm/int8.h has the contract), written once
// over a path struct; int8_<path>.cc only instantiate it. A path struct gives the int32 vector
// I and fp32 vector F (W lanes), how one k-step multiplies (KS values of K per step: 4 u8·s8
// quads for VNNI and scalar, 2 s16 pairs for the widening route) and the epilogue's lane ops.
// Packed weights: blocks of W columns, [block][k-step][W][KS] of BElem, zero padded in K and N.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "densenorm/int8.h"

#ifndef DENSENORM_KERNEL_NS
#error "define DENSENORM_KERNEL_NS before including int8_impl.h"
#endif
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace densenorm {
namespace int8 {
namespace DENSENORM_KERNEL_NS {

// GCC contracts a mul intrinsic followed by an add into an FMA (one rounding instead of two),
// which would make the vector paths differ from the scalar one: the empty asm hides the product.
#if defined(__GNUC__) || defined(__clang__)
#define DN_QBARRIER(r) __asm__("" : "+v"(r))
#else
#define DN_QBARRIER(r) ((void)0)
#endif

// Shared scalar lane semantics (the vector structs match them bit for bit).
inline float qmax(float a, float b) { return a > b ? a : b; }
inline float qmin(float a, float b) { return a < b ? a : b; }
// rne for |x| < 2^22 via the 1.5·2^23 trick (the epilogue clamps to [0, 255] first).
inline int32_t qrne(float x) {
  const float b = 12582912.0f;
  return static_cast<int32_t>((x + b) - b);
}

struct ScalarQ {
  static constexpr size_t W = 1, KS = 4, MR = 4, NV = 4;
  static constexpr bool kWide = false;
  using BElem = int8_t;
  using AElem = uint8_t;
  using I = int32_t;
  using F = float;
  struct Abc { int32_t a0, a1, a2, a3; };
  static Abc bcast(const AElem* a) { return {a[0], a[1], a[2], a[3]}; }
  static I dot(I acc, Abc a, const BElem* b) { return acc + a.a0 * b[0] + a.a1 * b[1] + a.a2 * b[2] + a.a3 * b[3]; }
  static I zeroi() { return 0; }
  static I loadi(const int32_t* p) { return *p; }
  static I subi(I a, I b) { return a - b; }
  static F cvt(I a) { return static_cast<float>(a); }
  static F loadf(const float* p) { return *p; }
  static F loadf_partial(const float* p, size_t n) { return n ? *p : 0.0f; }
  static F set1(float x) { return x; }
  static F mul(F a, F b) { return a * b; }
  static F add(F a, F b) { return a + b; }
  static F max(F a, F b) { return qmax(a, b); }
  static F min(F a, F b) { return qmin(a, b); }
  static I rne(F x) { return qrne(x); }
  static void store_u8(uint8_t* p, I v, size_t n) { if (n) *p = static_cast<uint8_t>(v); }
  static void store_f32(float* p, F v, size_t n) { if (n) *p = v; }
};

#if defined(__AVX2__)
struct Avx2Common {
  using I = __m256i;
  using F = __m256;
  static constexpr size_t W = 8;
  static __m256i tail_mask(size_t n) {
    alignas(32) static const int32_t kMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask + 8 - n));
  }
  static I zeroi() { return _mm256_setzero_si256(); }
  static I loadi(const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static I subi(I a, I b) { return _mm256_sub_epi32(a, b); }
  static F cvt(I a) { return _mm256_cvtepi32_ps(a); }
  static F loadf(const float* p) { return _mm256_loadu_ps(p); }
  static F loadf_partial(const float* p, size_t n) { return _mm256_maskload_ps(p, tail_mask(n)); }
  static F set1(float x) { return _mm256_set1_ps(x); }
  static F mul(F a, F b) {
    F r = _mm256_mul_ps(a, b);
    DN_QBARRIER(r);
    return r;
  }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static I rne(F x) { return _mm256_cvtps_epi32(x); }  // MXCSR's default round to nearest even
  static void store_u8(uint8_t* p, I v, size_t n) {
    const __m256i sh = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                        0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i t = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, sh), _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
    alignas(16) uint8_t b[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(b), _mm256_castsi256_si128(t));
    std::memcpy(p, b, n);
  }
  static void store_f32(float* p, F v, size_t n) {
    if (n == W) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, tail_mask(n), v);
  }
};

// Pre-VNNI route: u8 and s8 widened to s16, vpmaddwd (exact: no vpmaddubsw 16-bit saturation).
struct Avx2Wide : Avx2Common {
  static constexpr size_t KS = 2, MR = 4, NV = 2;
  static constexpr bool kWide = true;
  using BElem = int16_t;
  using AElem = int16_t;
  using Abc = __m256i;
  static Abc bcast(const AElem* a) {
    int32_t v;
    std::memcpy(&v, a, 4);
    return _mm256_set1_epi32(v);
  }
  static I dot(I acc, Abc a, const BElem* b) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b))));
  }
};
#endif

#if defined(__AVX512F__)
struct Avx512Common {
  using I = __m512i;
  using F = __m512;
  static constexpr size_t W = 16;
  static __mmask16 mask(size_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static I zeroi() { return _mm512_setzero_si512(); }
  static I loadi(const int32_t* p) { return _mm512_loadu_si512(p); }
  static I subi(I a, I b) { return _mm512_sub_epi32(a, b); }
  static F cvt(I a) { return _mm512_cvtepi32_ps(a); }
  static F loadf(const float* p) { return _mm512_loadu_ps(p); }
  static F loadf_partial(const float* p, size_t n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static F set1(float x) { return _mm512_set1_ps(x); }
  static F mul(F a, F b) {
    F r = _mm512_mul_ps(a, b);
    DN_QBARRIER(r);
    return r;
  }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static I rne(F x) { return _mm512_cvtps_epi32(x); }
  static void store_u8(uint8_t* p, I v, size_t n) { _mm_mask_storeu_epi8(p, mask(n), _mm512_cvtepi32_epi8(v)); }
  static void store_f32(float* p, F v, size_t n) { _mm512_mask_storeu_ps(p, mask(n), v); }
};

struct Avx512Wide : Avx512Common {
  static constexpr size_t KS = 2, MR = 8, NV = 2;
  static constexpr bool kWide = true;
  using BElem = int16_t;
  using AElem = int16_t;
  using Abc = __m512i;
  static Abc bcast(const AElem* a) {
    int32_t v;
    std::memcpy(&v, a, 4);
    return _mm512_set1_epi32(v);
  }
  static I dot(I acc, Abc a, const BElem* b) { return _mm512_add_epi32(acc, _mm512_madd_epi16(a, _mm512_loadu_si512(b))); }
};

#if defined(__AVX512VNNI__)
struct Vnni512 : Avx512Common {
  // 8 rows × 2 blocks: the 32-column weight panel (K·32 bytes) stays in L1 over the row tiles.
  static constexpr size_t KS = 4, MR = 8, NV = 2;
  static constexpr bool kWide = false;
  using BElem = int8_t;
  using AElem = uint8_t;
  using Abc = __m512i;
  static Abc bcast(const AElem* a) {
    int32_t v;
    std::memcpy(&v, a, 4);
    return _mm512_set1_epi32(v);
  }
  // vpdpbusd, not the saturating vpdpbusds: int32 never overflows for K < 65,800 (K is capped below).
  static I dot(I acc, Abc a, const BElem* b) { return _mm512_dpbusd_epi32(acc, a, _mm512_loadu_si512(b)); }
};
#endif
#endif

template <class P>
size_t packed_bytes(size_t K, size_t N) {
  const size_t blocks = (N + P::W - 1) / P::W;
  return blocks * padded_k(K) * P::W * sizeof(typename P::BElem);
}

template <class P>
void pack(const int8_t* w, size_t K, size_t N, void* dst) {
  using B = typename P::BElem;
  B* d = static_cast<B*>(dst);
  const size_t ks = padded_k(K) / P::KS;
  const size_t blocks = (N + P::W - 1) / P::W;
  for (size_t jb = 0; jb < blocks; ++jb)
    for (size_t s = 0; s < ks; ++s)
      for (size_t c = 0; c < P::W; ++c)
        for (size_t q = 0; q < P::KS; ++q) {
          const size_t k = s * P::KS + q, n = jb * P::W + c;
          *d++ = static_cast<B>(k < K && n < N ? w[k * N + n] : 0);
        }
}

template <class P, size_t R, size_t NV>
void tile(const QGemm& g, const typename P::AElem* A, size_t lda, size_t i0, size_t jb) {
  using I = typename P::I;
  using F = typename P::F;
  const size_t ks = padded_k(g.K) / P::KS;
  const size_t bstride = ks * P::W * P::KS;  // elements between consecutive blocks
  const typename P::BElem* B = static_cast<const typename P::BElem*>(g.Bp) + jb * bstride;
  I acc[R][NV];
  for (size_t r = 0; r < R; ++r)
    for (size_t v = 0; v < NV; ++v) acc[r][v] = P::zeroi();
  const typename P::AElem* a = A + i0 * lda;
  for (size_t s = 0; s < ks; ++s) {
    const typename P::BElem* b = B + s * P::W * P::KS;
    for (size_t r = 0; r < R; ++r) {
      const typename P::Abc x = P::bcast(a + r * lda + s * P::KS);
      for (size_t v = 0; v < NV; ++v) acc[r][v] = P::dot(acc[r][v], x, b + v * bstride);
    }
  }
  for (size_t v = 0; v < NV; ++v) {
    const size_t col = (jb + v) * P::W;
    if (col >= g.N) break;
    const size_t n = g.N - col < P::W ? g.N - col : P::W;
    const I comp = P::loadi(g.comp + col);
    const F mult = P::loadf(g.mult + col), bias = P::loadf(g.bias + col);
    for (size_t r = 0; r < R; ++r) {
      F y = P::add(P::mul(P::cvt(P::subi(acc[r][v], comp)), mult), bias);
      if (g.relu) y = P::max(y, P::set1(0.0f));
      const size_t o = (i0 + r) * g.ldo + col;
      if (g.out_f32) {
        P::store_f32(g.out_f32 + o, y, n);
      } else {
        F t = P::add(P::mul(y, P::set1(g.inv)), P::set1(g.zp));
        t = P::min(P::max(t, P::set1(0.0f)), P::set1(255.0f));
        P::store_u8(g.out_u8 + o, P::rne(t), n);
      }
    }
  }
}

template <class P, size_t R>
void tile_nv(size_t nv, const QGemm& g, const typename P::AElem* A, size_t lda, size_t i0, size_t jb) {
  if constexpr (P::NV >= 4) {
    if (nv >= 4) return tile<P, R, 4>(g, A, lda, i0, jb);
    if (nv == 3) return tile<P, R, 3>(g, A, lda, i0, jb);
  }
  if (nv >= 2) return tile<P, R, 2>(g, A, lda, i0, jb);
  tile<P, R, 1>(g, A, lda, i0, jb);
}

// A tile of r < MR rows (the bottom edge): the instance with exactly r rows.
template <class P, size_t R>
void tile_rows(size_t r, size_t nv, const QGemm& g, const typename P::AElem* A, size_t i0, size_t jb) {
  if constexpr (R > 1) {
    if (r < R) return tile_rows<P, R - 1>(r, nv, g, A, i0, jb);
  }
  tile_nv<P, R>(nv, g, A, g.lda, i0, jb);
}

template <class P>
void gemm(const QGemm& g, const int16_t* a16, size_t m0, size_t m1, size_t b0, size_t b1) {
  const typename P::AElem* A;
  if constexpr (P::kWide) A = a16;
  else A = g.A;
  (void)a16;
  for (size_t jb = b0; jb < b1; jb += P::NV) {
    const size_t nv = b1 - jb < P::NV ? b1 - jb : P::NV;
    size_t i = m0;
    for (; i + P::MR <= m1; i += P::MR) tile_nv<P, P::MR>(nv, g, A, g.lda, i, jb);
    if (i < m1) tile_rows<P, P::MR - 1>(m1 - i, nv, g, A, i, jb);
  }
}

template <class P>
void quantize(const float* x, size_t n, float inv, float zp, uint8_t* out) {
  using F = typename P::F;
  size_t i = 0;
  const F vi = P::set1(inv), vz = P::set1(zp), lo = P::set1(0.0f), hi = P::set1(255.0f);
  for (; i < n; i += P::W) {
    const size_t m = n - i < P::W ? n - i : P::W;
    F t = P::add(P::mul(m == P::W ? P::loadf(x + i) : P::loadf_partial(x + i, m), vi), vz);
    t = P::min(P::max(t, lo), hi);
    P::store_u8(out + i, P::rne(t), m);
  }
}

template <class P>
Table make_table(Path path) {
  return Table{path, P::W, P::MR, P::kWide, &packed_bytes<P>, &pack<P>, &gemm<P>, &quantize<P>};
}

}  // namespace DENSENORM_KERNEL_NS
}  // namespace int8
}  // namespace densenorm

// Thin SIMD abstraction used by kernels_impl.h. One struct per ISA, all with the same static
// interface, so every kernel is written once as a template over the vector type:
//
//   T                       the register type            W     lanes (floats)
//   zero() set1(x)          broadcast                    load(p) store(p,v)    unaligned
//   load_partial(p,n)       first n<W lanes, rest 0      store_partial(p,v,n)  first n<W lanes
//   add sub mul div min max sqrt abs
//   fma(a,b,c)  = a*b+c     fnma(a,b,c) = c-a*b          (fused on AVX2/AVX-512/NEON, a*b+c on scalar)
//   select_gt(a,b,x,y)      = a>b ? x : y (lane-wise)    copysign(mag,s)
//   round(x)                round-to-nearest-even        pow2i(n)  2^n for integral n in [-126,127]
//
// Generic math built on that interface (exp, sigmoid, tanh) lives at the bottom.
//
// ODR safety: this header is compiled into translation units with different -m flags. Everything
// here lives in the namespace densenorm::DENSENORM_KERNEL_NS (defined by the including .cc as
// scalar/avx2/avx512/neon), so inline functions of one ISA never get merged with another ISA's copy by
// the linker. Do not include <cmath>/<algorithm> here: their inline functions would be emitted as
// COMDATs with ISA-specific code under shared names.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#ifndef DENSENORM_KERNEL_NS
#error "define DENSENORM_KERNEL_NS (scalar|avx2|avx512|neon) before including simd.h"
#endif

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#endif

// GCC and clang builtins; MSVC gets the <cmath> functions (the same IEEE results).
#if defined(__GNUC__) || defined(__clang__)
#define DN_SQRTF(x) __builtin_sqrtf(x)
#define DN_FABSF(x) __builtin_fabsf(x)
#define DN_COPYSIGNF(a, b) __builtin_copysignf(a, b)
#define DN_PREFETCH(p, rw, loc) __builtin_prefetch(p, rw, loc)
#else
#include <cmath>
#define DN_SQRTF(x) std::sqrt(x)
#define DN_FABSF(x) std::fabs(x)
#define DN_COPYSIGNF(a, b) std::copysign(a, b)
#define DN_PREFETCH(p, rw, loc) ((void)(p))  // a hint only; MSVC builds go without
#endif

namespace densenorm {
namespace DENSENORM_KERNEL_NS {

// ---------------------------------------------------------------------------------------------
// Scalar: width 1. Also the reference for what every lane of the vector versions computes.
struct Scalar {
  using T = float;
  static constexpr size_t W = 1;
  static inline T zero() { return 0.0f; }
  static inline T set1(float x) { return x; }
  static inline T load(const float* p) { return *p; }
  static inline void store(float* p, T v) { *p = v; }
  static inline T load_partial(const float* p, size_t n) { return n ? *p : 0.0f; }
  static inline void store_partial(float* p, T v, size_t n) { if (n) *p = v; }
  static inline T add(T a, T b) { return a + b; }
  static inline T sub(T a, T b) { return a - b; }
  static inline T mul(T a, T b) { return a * b; }
  static inline T div(T a, T b) { return a / b; }
  static inline T min(T a, T b) { return b < a ? b : a; }
  static inline T max(T a, T b) { return a < b ? b : a; }
  static inline T sqrt(T a) { return DN_SQRTF(a); }
  static inline T abs(T a) { return DN_FABSF(a); }
  static inline T fma(T a, T b, T c) { return a * b + c; }
  static inline T fnma(T a, T b, T c) { return c - a * b; }
  static inline T select_gt(T a, T b, T x, T y) { return a > b ? x : y; }
  static inline T copysign(T mag, T s) { return DN_COPYSIGNF(mag, s); }
  // Round to nearest even via the 1.5*2^23 trick (valid for |x| < 2^22; callers clamp first).
  static inline T round(T x) {
    const float b = 12582912.0f;  // not folded: no -ffast-math in this project
    return (x + b) - b;
  }
  static inline T pow2i(T n) {
    int32_t e = static_cast<int32_t>(n) + 127;
    uint32_t bits = static_cast<uint32_t>(e) << 23;
    float r;
    std::memcpy(&r, &bits, sizeof r);
    return r;
  }
};

// ---------------------------------------------------------------------------------------------
#if defined(__AVX2__) && defined(__FMA__)
struct Avx2 {
  using T = __m256;
  static constexpr size_t W = 8;
  static inline __m256i tail_mask(size_t n) {
    alignas(32) static const int32_t kMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                  0,  0,  0,  0,  0,  0,  0,  0};
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask + 8 - n));
  }
  static inline T zero() { return _mm256_setzero_ps(); }
  static inline T set1(float x) { return _mm256_set1_ps(x); }
  static inline T load(const float* p) { return _mm256_loadu_ps(p); }
  static inline void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static inline T load_partial(const float* p, size_t n) { return _mm256_maskload_ps(p, tail_mask(n)); }
  static inline void store_partial(float* p, T v, size_t n) { _mm256_maskstore_ps(p, tail_mask(n), v); }
  static inline T add(T a, T b) { return _mm256_add_ps(a, b); }
  static inline T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static inline T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static inline T div(T a, T b) { return _mm256_div_ps(a, b); }
  static inline T min(T a, T b) { return _mm256_min_ps(a, b); }
  static inline T max(T a, T b) { return _mm256_max_ps(a, b); }
  static inline T sqrt(T a) { return _mm256_sqrt_ps(a); }
  static inline T abs(T a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static inline T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static inline T fnma(T a, T b, T c) { return _mm256_fnmadd_ps(a, b, c); }
  static inline T select_gt(T a, T b, T x, T y) {
    return _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_GT_OQ));
  }
  static inline T copysign(T mag, T s) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(sign, mag), _mm256_and_ps(sign, s));
  }
  static inline T round(T x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static inline T pow2i(T n) {
    __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
};
#endif

// ---------------------------------------------------------------------------------------------
#if defined(__AVX512F__)
struct Avx512 {
  using T = __m512;
  static constexpr size_t W = 16;
  static inline __mmask16 tail_mask(size_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static inline T zero() { return _mm512_setzero_ps(); }
  static inline T set1(float x) { return _mm512_set1_ps(x); }
  static inline T load(const float* p) { return _mm512_loadu_ps(p); }
  static inline void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static inline T load_partial(const float* p, size_t n) { return _mm512_maskz_loadu_ps(tail_mask(n), p); }
  static inline void store_partial(float* p, T v, size_t n) { _mm512_mask_storeu_ps(p, tail_mask(n), v); }
  static inline T add(T a, T b) { return _mm512_add_ps(a, b); }
  static inline T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static inline T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static inline T div(T a, T b) { return _mm512_div_ps(a, b); }
  static inline T min(T a, T b) { return _mm512_min_ps(a, b); }
  static inline T max(T a, T b) { return _mm512_max_ps(a, b); }
  static inline T sqrt(T a) { return _mm512_sqrt_ps(a); }
  static inline T abs(T a) {
    return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff)));
  }
  static inline T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static inline T fnma(T a, T b, T c) { return _mm512_fnmadd_ps(a, b, c); }
  static inline T select_gt(T a, T b, T x, T y) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_GT_OQ), y, x);  // mask bit set -> x
  }
  static inline T copysign(T mag, T s) {
    const __m512i sign = _mm512_set1_epi32(static_cast<int>(0x80000000u));
    __m512i m = _mm512_andnot_si512(sign, _mm512_castps_si512(mag));
    __m512i g = _mm512_and_si512(sign, _mm512_castps_si512(s));
    return _mm512_castsi512_ps(_mm512_or_si512(m, g));
  }
  static inline T round(T x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static inline T pow2i(T n) {
    __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
};
#endif

// ---------------------------------------------------------------------------------------------
// AArch64 Advanced SIMD (always present on AArch64, so no run-time check and no extra flags).
#if defined(__aarch64__) && defined(__ARM_NEON)
struct Neon {
  using T = float32x4_t;
  static constexpr size_t W = 4;
  static inline T zero() { return vdupq_n_f32(0.0f); }
  static inline T set1(float x) { return vdupq_n_f32(x); }
  static inline T load(const float* p) { return vld1q_f32(p); }
  static inline void store(float* p, T v) { vst1q_f32(p, v); }
  // No masked loads on NEON: a stack copy, so nothing past p[n-1] is touched.
  static inline T load_partial(const float* p, size_t n) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    std::memcpy(t, p, n * sizeof(float));
    return vld1q_f32(t);
  }
  static inline void store_partial(float* p, T v, size_t n) {
    float t[4];
    vst1q_f32(t, v);
    std::memcpy(p, t, n * sizeof(float));
  }
  static inline T add(T a, T b) { return vaddq_f32(a, b); }
  static inline T sub(T a, T b) { return vsubq_f32(a, b); }
  static inline T mul(T a, T b) { return vmulq_f32(a, b); }
  static inline T div(T a, T b) { return vdivq_f32(a, b); }
  // Compare + select, not vminq/vmaxq (which return NaN for a NaN in either operand): the same
  // lane result as Scalar::min/max for every input.
  static inline T min(T a, T b) { return vbslq_f32(vcltq_f32(b, a), b, a); }
  static inline T max(T a, T b) { return vbslq_f32(vcltq_f32(a, b), b, a); }
  static inline T sqrt(T a) { return vsqrtq_f32(a); }
  static inline T abs(T a) { return vabsq_f32(a); }
  static inline T fma(T a, T b, T c) { return vfmaq_f32(c, a, b); }
  static inline T fnma(T a, T b, T c) { return vfmsq_f32(c, a, b); }
  static inline T select_gt(T a, T b, T x, T y) { return vbslq_f32(vcgtq_f32(a, b), x, y); }
  static inline T copysign(T mag, T s) { return vbslq_f32(vdupq_n_u32(0x80000000u), s, mag); }
  static inline T round(T x) { return vrndnq_f32(x); }  // to nearest, ties to even
  static inline T pow2i(T n) {
    int32x4_t e = vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
  }
};
#endif

// ---------------------------------------------------------------------------------------------
// Generic math over any of the structs above.

// expf, Cephes-style: x = n*ln2 + r with |r| <= ln2/2 (two-constant Cody-Waite reduction),
// exp(r) by a degree-6 polynomial, times 2^n. Max relative error ~1.5e-7 on [-87.3, 88.3].
// Inputs are clamped to [-87.33, 88.37] (so the result is finite and never NaN for finite x);
// below -87.33 the result is exactly 0 (flush, instead of a wrong denormal).
template <class V>
static inline typename V::T exp_approx(typename V::T x) {
  using T = typename V::T;
  const T lo = V::set1(-87.3365447505f);
  const T hi = V::set1(88.3762626647949f);
  T xc = V::min(V::max(x, lo), hi);
  T n = V::round(V::mul(xc, V::set1(1.44269504088896341f)));
  T r = V::fnma(n, V::set1(0.693359375f), xc);
  r = V::fnma(n, V::set1(-2.12194440e-4f), r);
  T z = V::mul(r, r);
  T p = V::set1(1.9875691500E-4f);
  p = V::fma(p, r, V::set1(1.3981999507E-3f));
  p = V::fma(p, r, V::set1(8.3334519073E-3f));
  p = V::fma(p, r, V::set1(4.1665795894E-2f));
  p = V::fma(p, r, V::set1(1.6666665459E-1f));
  p = V::fma(p, r, V::set1(5.0000001201E-1f));
  p = V::fma(p, z, V::add(r, V::set1(1.0f)));
  T res = V::mul(p, V::pow2i(n));
  return V::select_gt(lo, x, V::zero(), res);  // x < lo -> 0
}

// sigmoid(x) = 1/(1+e^-x), evaluated with e = exp(-|x|) <= 1 so nothing overflows:
// x >= 0: 1/(1+e);  x < 0: e/(1+e). Large |x| gives exactly 1 / (near) 0.
template <class V>
static inline typename V::T sigmoid(typename V::T x) {
  using T = typename V::T;
  T e = exp_approx<V>(V::sub(V::zero(), V::abs(x)));
  T r = V::div(V::set1(1.0f), V::add(V::set1(1.0f), e));
  return V::select_gt(V::zero(), x, V::mul(e, r), r);
}

// tanh: |x| < 0.625: odd polynomial (Cephes tanhf) for relative accuracy near 0;
// otherwise (1-t)/(1+t) with t = exp(-2|x|) <= 1, sign restored. |x| > 9 gives exactly ±1.
template <class V>
static inline typename V::T tanh(typename V::T x) {
  using T = typename V::T;
  T ax = V::abs(x);
  T t = exp_approx<V>(V::mul(ax, V::set1(-2.0f)));
  T big = V::div(V::sub(V::set1(1.0f), t), V::add(V::set1(1.0f), t));
  T s = V::mul(x, x);
  T p = V::set1(-5.70498872745E-3f);
  p = V::fma(p, s, V::set1(2.06390887954E-2f));
  p = V::fma(p, s, V::set1(-5.37397155531E-2f));
  p = V::fma(p, s, V::set1(1.33314422036E-1f));
  p = V::fma(p, s, V::set1(-3.33332819422E-1f));
  T small = V::fma(V::mul(p, s), x, x);
  return V::select_gt(V::set1(0.625f), ax, small, V::copysign(big, x));
}

}  // namespace DENSENORM_KERNEL_NS
}  // namespace densenorm

// Test-only: the kernel templates instantiated with a portable width-16 vector (plain float
// arrays) and the AVX-512 tile shape (8x32), so the width-16 tail/tile logic that the AVX-512
// table uses is exercised on machines without AVX-512. Only the Avx512 struct in simd.h (a
// one-intrinsic-per-op mapping) is left unexecuted there.
#include <cmath>
#include <cstdint>
#include <cstring>

#define DENSENORM_KERNEL_NS emu16
#include "../kernels/kernels_impl.h"

namespace densenorm {
namespace emu16 {

struct Emu16 {
  struct T {
    float v[16];
  };
  static constexpr size_t W = 16;
  template <class F>
  static inline T map(F f) {
    T r;
    for (size_t i = 0; i < W; ++i) r.v[i] = f(i);
    return r;
  }
  static inline T zero() { return set1(0.0f); }
  static inline T set1(float x) { return map([&](size_t) { return x; }); }
  static inline T load(const float* p) { return map([&](size_t i) { return p[i]; }); }
  static inline void store(float* p, T a) { for (size_t i = 0; i < W; ++i) p[i] = a.v[i]; }
  static inline T load_partial(const float* p, size_t n) { return map([&](size_t i) { return i < n ? p[i] : 0.0f; }); }
  static inline void store_partial(float* p, T a, size_t n) { for (size_t i = 0; i < n; ++i) p[i] = a.v[i]; }
  static inline T add(T a, T b) { return map([&](size_t i) { return a.v[i] + b.v[i]; }); }
  static inline T sub(T a, T b) { return map([&](size_t i) { return a.v[i] - b.v[i]; }); }
  static inline T mul(T a, T b) { return map([&](size_t i) { return a.v[i] * b.v[i]; }); }
  static inline T div(T a, T b) { return map([&](size_t i) { return a.v[i] / b.v[i]; }); }
  static inline T min(T a, T b) { return map([&](size_t i) { return b.v[i] < a.v[i] ? b.v[i] : a.v[i]; }); }
  static inline T max(T a, T b) { return map([&](size_t i) { return a.v[i] < b.v[i] ? b.v[i] : a.v[i]; }); }
  static inline T sqrt(T a) { return map([&](size_t i) { return std::sqrt(a.v[i]); }); }
  static inline T abs(T a) { return map([&](size_t i) { return std::fabs(a.v[i]); }); }
  static inline T fma(T a, T b, T c) { return map([&](size_t i) { return std::fma(a.v[i], b.v[i], c.v[i]); }); }
  static inline T fnma(T a, T b, T c) { return map([&](size_t i) { return std::fma(-a.v[i], b.v[i], c.v[i]); }); }
  static inline T select_gt(T a, T b, T x, T y) { return map([&](size_t i) { return a.v[i] > b.v[i] ? x.v[i] : y.v[i]; }); }
  static inline T copysign(T m, T s) { return map([&](size_t i) { return std::copysign(m.v[i], s.v[i]); }); }
  static inline T round(T a) { return map([&](size_t i) { return std::nearbyint(a.v[i]); }); }
  static inline T pow2i(T n) { return map([&](size_t i) { return std::ldexp(1.0f, static_cast<int>(n.v[i])); }); }
};

}  // namespace emu16
}  // namespace densenorm

DENSENORM_DEFINE_KERNEL_TABLE_AS(emu16, Isa::avx512, Emu16, 8, 2, 8x32)

// Row normalization kernels (layer and group normalization, RMSNorm): statistics over each of
// `groups` contiguous feature groups of one row, then the affine map and an elementwise
// activation. Included by kernels_impl.h inside the ISA namespace; each row is computed alone,
// so any split of the rows across threads gives the same bits.
#pragma once

namespace densenorm {
namespace DENSENORM_KERNEL_NS {

// Lane sum in fixed lane order (the same bits for a given vector width).
template <class V>
static inline float lane_sum(typename V::T v) {
  alignas(64) float t[16];
  V::store(t, v);
  float s = 0.0f;
  for (size_t i = 0; i < V::W; ++i) s += t[i];
  return s;
}

// Calls f(j, partial, n) for each vector of [j0, j1).
template <class V, class F>
static inline void for_span(size_t j0, size_t j1, F&& f) {
  constexpr size_t W = V::W;
  size_t j = j0;
  for (; j + W <= j1; j += W) f(j, false, W);
  if (j < j1) f(j, true, j1 - j);
}

// For rows [0, rows) of X [rows × cols]: per group g of G = cols / groups features,
//   m = mean(x) (0 when rms), v = mean((x − m)²), invstd = 1/√(v + eps),
//   x̂ = (x − m)·invstd, Y = act(γ·x̂ + β)   (γ nullptr: 1, β nullptr: 0).
// mean and invstd are [rows × groups]; xhat (nullable) receives x̂. Y may alias X.
template <class V, Act A>
static void row_norm_forward_t(const float* X, size_t rows, size_t cols, size_t groups, bool rms,
                               float eps, const float* gamma, const float* beta, float* xhat,
                               float* mean, float* invstd, float* Y) {
  using T = typename V::T;
  const size_t G = cols / groups;
  const float inv_g = 1.0f / static_cast<float>(G);
  for (size_t i = 0; i < rows; ++i) {
    const float* x = X + i * cols;
    for (size_t g = 0; g < groups; ++g) {
      const size_t j0 = g * G, j1 = j0 + G;
      float m = 0.0f;
      if (!rms) {
        T acc = V::zero();
        for_span<V>(j0, j1, [&](size_t j, bool p, size_t n) { acc = V::add(acc, vld<V>(x + j, p, n)); });
        m = lane_sum<V>(acc) * inv_g;
      }
      const T mv = V::set1(m);
      // A partial load of m gives 0 past the group, so those lanes add (0 − 0)² = 0.
      alignas(64) float mfill[16];
      for (size_t l = 0; l < V::W; ++l) mfill[l] = m;
      T acc2 = V::zero();
      for_span<V>(j0, j1, [&](size_t j, bool p, size_t n) {
        const T d = V::sub(vld<V>(x + j, p, n), vld<V>(mfill, p, n));
        acc2 = V::fma(d, d, acc2);
      });
      const float is = 1.0f / __builtin_sqrtf(lane_sum<V>(acc2) * inv_g + eps);
      mean[i * groups + g] = m;
      invstd[i * groups + g] = is;
      const T isv = V::set1(is);
      float* y = Y + i * cols;
      float* h = xhat ? xhat + i * cols : nullptr;
      for_span<V>(j0, j1, [&](size_t j, bool p, size_t n) {
        const T xh = V::mul(V::sub(vld<V>(x + j, p, n), mv), isv);
        if (h) vst<V>(h + j, xh, p, n);
        const T ga = gamma ? vld<V>(gamma + j, p, n) : V::set1(1.0f);
        const T be = beta ? vld<V>(beta + j, p, n) : V::zero();
        vst<V>(y + j, act_fwd<V, A>(V::fma(xh, ga, be)), p, n);
      });
    }
  }
}

template <class V>
static void row_norm_forward(const float* X, size_t rows, size_t cols, size_t groups, bool rms,
                             float eps, const float* gamma, const float* beta, Act act,
                             float* xhat, float* mean, float* invstd, float* Y) {
  switch (act) {
    case Act::relu: row_norm_forward_t<V, Act::relu>(X, rows, cols, groups, rms, eps, gamma, beta, xhat, mean, invstd, Y); break;
    case Act::sigmoid: row_norm_forward_t<V, Act::sigmoid>(X, rows, cols, groups, rms, eps, gamma, beta, xhat, mean, invstd, Y); break;
    case Act::tanh: row_norm_forward_t<V, Act::tanh>(X, rows, cols, groups, rms, eps, gamma, beta, xhat, mean, invstd, Y); break;
    default: row_norm_forward_t<V, Act::linear>(X, rows, cols, groups, rms, eps, gamma, beta, xhat, mean, invstd, Y); break;
  }
}

// The input gradient from dU (the gradient of γ·x̂ + β), per row and group, with u = γ·dU:
//   dX = invstd·(u − mean(u) − x̂·mean(u·x̂))   (rms: no mean(u) term). dX may alias dU.
template <class V>
static void row_norm_backward(const float* dU, const float* xhat, size_t rows, size_t cols,
                              size_t groups, bool rms, const float* gamma, const float* invstd,
                              float* dX) {
  using T = typename V::T;
  const size_t G = cols / groups;
  const float inv_g = 1.0f / static_cast<float>(G);
  for (size_t i = 0; i < rows; ++i) {
    const float* du = dU + i * cols;
    const float* h = xhat + i * cols;
    float* dx = dX + i * cols;
    for (size_t g = 0; g < groups; ++g) {
      const size_t j0 = g * G, j1 = j0 + G;
      T s1 = V::zero(), s2 = V::zero();
      for_span<V>(j0, j1, [&](size_t j, bool p, size_t n) {
        const T u = gamma ? V::mul(vld<V>(du + j, p, n), vld<V>(gamma + j, p, n)) : vld<V>(du + j, p, n);
        s1 = V::add(s1, u);
        s2 = V::fma(u, vld<V>(h + j, p, n), s2);
      });
      const T a = V::set1(rms ? 0.0f : lane_sum<V>(s1) * inv_g);
      const T b = V::set1(lane_sum<V>(s2) * inv_g);
      const T is = V::set1(invstd[i * groups + g]);
      for_span<V>(j0, j1, [&](size_t j, bool p, size_t n) {
        const T u = gamma ? V::mul(vld<V>(du + j, p, n), vld<V>(gamma + j, p, n)) : vld<V>(du + j, p, n);
        const T d = V::fnma(vld<V>(h + j, p, n), b, V::sub(u, a));
        vst<V>(dx + j, V::mul(is, d), p, n);
      });
    }
  }
}

}  // namespace DENSENORM_KERNEL_NS
}  // namespace densenorm

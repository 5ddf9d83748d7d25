// The row-normalization kernels (layer/group normalization, RMSNorm) of one table against the
// double-precision reference on odd shapes and group counts, with aliasing and the bytes past
// every output checked untouched. Called by selftest.cc's main for every table.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "densenorm/kernels.h"
#include "reference.h"

namespace densenorm {

void test_row_norm(const KernelTable& kt, size_t* pass, size_t* fail) {
  std::mt19937 rng(777);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  const auto rnd = [&](size_t n, float off) {
    std::vector<float> v(n);
    for (float& x : v) x = d(rng) + off;
    return v;
  };
  constexpr float kSentinel = -12345.678f;
  constexpr double kTol = 2e-5;
  const auto check = [&](const char* what, const float* got, const float* ref, size_t n,
                         const float* past, double scale, const char* name) {
    double worst = 0;
    for (size_t i = 0; i < n; ++i) worst = std::fmax(worst, std::fabs(got[i] - ref[i]) / (scale + std::fabs(ref[i])));
    bool ok = worst <= kTol && std::isfinite(worst);
    for (size_t i = 0; past && i < 16; ++i) ok = ok && past[i] == kSentinel;
    if (ok) {
      ++*pass;
    } else {
      ++*fail;
      std::printf("FAIL %s %s: worst relative error %.3g\n", name, what, worst);
    }
  };
  const size_t shapes[][2] = {{1, 1}, {3, 1}, {3, 3}, {17, 1}, {33, 3}, {33, 11}, {257, 1},
                              {64, 4}, {1024, 32}, {100, 10}};
  for (const auto& sh : shapes) {
    const size_t cols = sh[0], groups = sh[1];
    for (size_t rows : {1, 5}) {
      for (int rms = 0; rms < 2; ++rms) {
        for (Act a : {Act::linear, Act::relu, Act::tanh}) {
          for (int alias = 0; alias < 2; ++alias) {
            const size_t n = rows * cols, ng = rows * groups;
            std::vector<float> X = rnd(n, 0.3f), gamma = rnd(cols, 1.0f), beta = rnd(cols, 0.0f);
            std::vector<float> xr(n), mr(ng), ir(ng), yr(n);
            const float* g = alias ? nullptr : gamma.data();
            const float* b = alias || rms ? nullptr : beta.data();
            reference::row_norm_forward(X.data(), rows, cols, groups, rms, 1e-3f, g, b, a, xr.data(),
                                        mr.data(), ir.data(), yr.data());
            std::vector<float> xg(n + 16, kSentinel), mg(ng + 16, kSentinel), ig(ng + 16, kSentinel),
                yg(n + 16, kSentinel), Xin = X;
            Xin.resize(n + 16, kSentinel);
            float* Y = alias ? Xin.data() : yg.data();
            kt.row_norm_forward(Xin.data(), rows, cols, groups, rms, 1e-3f, g, b, a, xg.data(),
                                mg.data(), ig.data(), Y);
            char name[128];
            std::snprintf(name, sizeof name, "%s row_norm cols=%zu groups=%zu rows=%zu rms=%d act=%d alias=%d",
                          isa_name(kt.isa), cols, groups, rows, rms, static_cast<int>(a), alias);
            check("forward Y", Y, yr.data(), n, Y + n, 1.0, name);  // x̂ is O(1): absolute error counts
            check("forward xhat", xg.data(), xr.data(), n, xg.data() + n, 1.0, name);
            check("forward invstd", ig.data(), ir.data(), ng, ig.data() + ng, 0.0, name);
            check("forward mean", mg.data(), mr.data(), ng, mg.data() + ng, 1.0, name);
            std::vector<float> dU = rnd(n, 0.0f), dr(n);
            reference::row_norm_backward(dU.data(), xr.data(), rows, cols, groups, rms, g, ir.data(), dr.data());
            std::vector<float> dUin = dU, dg(n + 16, kSentinel);
            dUin.resize(n + 16, kSentinel);
            float* dX = alias ? dUin.data() : dg.data();
            kt.row_norm_backward(dUin.data(), xr.data(), rows, cols, groups, rms, g, ir.data(), dX);
            double mag = 0;
            for (size_t i = 0; i < n; ++i) mag = std::fmax(mag, std::fabs(dr[i]));
            check("backward dX", dX, dr.data(), n, dX + n, mag + 1e-6, name);
          }
        }
      }
    }
  }
}

}  // namespace densenorm

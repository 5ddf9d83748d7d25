// densenorm_kernel_selftest: compares every KernelTable this CPU can run against the
// double-precision reference on odd shapes, checks that nothing is written outside the outputs,
// that activations stay accurate and NaN-free at extreme inputs, and that the threaded gemm()
// of parallel.h is bit-identical for 1..4 threads. Prints "N passed, 0 failed"; exit 1 on failure.
//
//   DENSENORM_ISA=scalar|avx2|avx512 selects the table used by kernels() / gemm() (all tables the
//   CPU supports are compared against the reference regardless).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "densenorm/kernels.h"
#include "densenorm/parallel.h"
#include "reference.h"

using namespace densenorm;

namespace densenorm {
// selftest_emu16.cc: the templates at width 16 / tile 8x32 (the AVX-512 shape), portable code.
const KernelTable* densenorm_kernel_table_emu16();
// selftest_row_norm.cc
void test_row_norm(const KernelTable& kt, size_t* pass, size_t* fail);
// selftest_int8.cc
void test_int8(size_t* pass, size_t* fail);
// selftest_bf16.cc: the bf16 GEMM tables (emulated on every ISA, native where the CPU has it)
void test_bf16(size_t* pass, size_t* fail);
}

namespace {

size_t g_pass = 0, g_fail = 0;
std::mt19937 g_rng(12345);
constexpr float kSentinel = -12345.678f;
constexpr double kTol = 1e-4;

std::vector<float> rnd(size_t n, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(g_rng);
  return v;
}

const char* act_name(Act a) {
  switch (a) {
    case Act::relu: return "relu";
    case Act::sigmoid: return "sigmoid";
    case Act::tanh: return "tanh";
    default: return "linear";
  }
}

// One test case: got vs ref over n values, tolerance kTol*(|ref| + scale[i]) (scale may be null).
struct Case {
  std::string name;
  double worst = 0;
  size_t bad_index = 0;
  bool ok = true;
  explicit Case(std::string n) : name(std::move(n)) {}
  void cmp(const float* got, const float* ref, size_t n, const double* scale = nullptr,
           double floor = 1e-30) {
    for (size_t i = 0; i < n; ++i) {
      const double g = got[i], r = ref[i];
      const double s = std::fabs(r) + (scale ? scale[i] : 0.0) + floor;
      const double e = std::fabs(g - r) / s;
      if (!(e <= kTol)) {  // also catches NaN
        if (ok || e > worst) {
          worst = e;
          bad_index = i;
        }
        ok = false;
      }
    }
  }
  void sentinels(const float* p, size_t n, const char* what) {
    for (size_t i = 0; i < n; ++i)
      if (p[i] != kSentinel) {
        if (ok) std::printf("  [%s] wrote outside %s at %zu\n", name.c_str(), what, i);
        ok = false;
        return;
      }
  }
  ~Case() {
    if (ok) {
      ++g_pass;
    } else {
      ++g_fail;
      std::printf("FAIL %s (worst rel err %.3g at %zu)\n", name.c_str(), worst, bad_index);
    }
  }
};

// ------------------------------------------------------------------------------------------------
void test_gemm(const KernelTable& kt) {
  const size_t sizes[] = {1, 3, 7, 17, 33, 257};
  for (size_t M : sizes)
    for (size_t N : sizes)
      for (size_t K : sizes)
        for (int ta = 0; ta < 2; ++ta)
          for (int tb = 0; tb < 2; ++tb)
            for (int acc = 0; acc < 2; ++acc) {
              const size_t arows = ta ? K : M, acols = ta ? M : K;
              const size_t brows = tb ? N : K, bcols = tb ? K : N;
              const size_t lda = acols + 3, ldb = bcols + 5, ldc = N + 2;
              std::vector<float> A = rnd(arows * lda), B = rnd(brows * ldb);
              std::vector<float> C0 = rnd(M * ldc);
              std::vector<float> Cg = C0, Cr = C0;
              for (size_t i = 0; i < M; ++i)
                for (size_t j = N; j < ldc; ++j) Cg[i * ldc + j] = kSentinel;
              kt.gemm(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, Cg.data(), ldc, acc, nullptr);
              reference::gemm(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, Cr.data(), ldc, acc);
              // magnitude: |C0|*acc + |A|·|B|
              std::vector<float> Aa(A), Ba(B), Cm(M * ldc, 0.0f);
              for (float& x : Aa) x = std::fabs(x);
              for (float& x : Ba) x = std::fabs(x);
              reference::gemm(ta, tb, M, N, K, Aa.data(), lda, Ba.data(), ldb, Cm.data(), ldc, false);
              char nm[128];
              std::snprintf(nm, sizeof nm, "%s gemm M=%zu N=%zu K=%zu ta=%d tb=%d acc=%d",
                            isa_name(kt.isa), M, N, K, ta, tb, acc);
              Case c(nm);
              for (size_t i = 0; i < M; ++i) {
                std::vector<double> sc(N);
                for (size_t j = 0; j < N; ++j)
                  sc[j] = Cm[i * ldc + j] + (acc ? std::fabs(C0[i * ldc + j]) : 0.0);
                c.cmp(Cg.data() + i * ldc, Cr.data() + i * ldc, N, sc.data());
                c.sentinels(Cg.data() + i * ldc + N, ldc - N, "C row padding");
              }
            }
  // K = 0
  for (int acc = 0; acc < 2; ++acc) {
    std::vector<float> C = rnd(7 * 9), R = C;
    kt.gemm(false, false, 7, 9, 0, nullptr, 1, nullptr, 9, C.data(), 9, acc, nullptr);
    reference::gemm(false, false, 7, 9, 0, nullptr, 1, nullptr, 9, R.data(), 9, acc);
    Case c(std::string(isa_name(kt.isa)) + " gemm K=0 acc=" + std::to_string(acc));
    c.cmp(C.data(), R.data(), C.size(), nullptr, 1e-30);
  }
}

// The batch-statistics epilogue: per kStatRows-row chunk and column, Σ(c−s) and Σ(c−s)² of the
// final C, against double sums of the kernel's own C (so only the epilogue is under test), and
// nothing written outside part.
void test_gemm_stats(const KernelTable& kt) {
  const size_t sizes[] = {1, 3, 7, 17, 24, 25, 33, 49, 257};
  const size_t ks[] = {0, 1, 7, 257};
  for (size_t M : sizes)
    for (size_t N : sizes)
      for (size_t K : ks)
        for (int ta = 0; ta < 2; ++ta)
          for (int tb = 0; tb < 2; ++tb) {
            const bool acc = ((M + N + K) & 1) != 0;
            const size_t lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 3, ldc = N + 2;
            std::vector<float> A = rnd((ta ? K : M) * lda + 1), B = rnd((tb ? N : K) * ldb + 1);
            std::vector<float> C = rnd(M * ldc), shift = rnd(N);
            const size_t chunks = (M + kStatRows - 1) / kStatRows, ldp = N + 4;
            std::vector<float> part(chunks * 2 * ldp, kSentinel);
            const GemmColStats st{shift.data(), part.data(), ldp};
            kt.gemm(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, C.data(), ldc, acc, &st);
            std::vector<float> got(2 * N), want(2 * N);
            std::vector<double> mag(2 * N);
            char nm[128];
            std::snprintf(nm, sizeof nm, "%s gemm stats M=%zu N=%zu K=%zu ta=%d tb=%d acc=%d",
                          isa_name(kt.isa), M, N, K, ta, tb, acc);
            Case c(nm);
            for (size_t q = 0; q < chunks; ++q) {
              for (size_t j = 0; j < N; ++j) {
                double s1 = 0, s2 = 0, m1 = 0;
                for (size_t i = q * kStatRows; i < std::min(M, (q + 1) * kStatRows); ++i) {
                  const double d = static_cast<double>(C[i * ldc + j]) - shift[j];
                  s1 += d;
                  s2 += d * d;
                  m1 += std::fabs(d);
                }
                want[j] = static_cast<float>(s1), want[N + j] = static_cast<float>(s2);
                mag[j] = m1, mag[N + j] = 0;
                got[j] = part[q * 2 * ldp + j];
                got[N + j] = part[q * 2 * ldp + ldp + j];
              }
              c.cmp(got.data(), want.data(), 2 * N, mag.data());
              c.sentinels(part.data() + q * 2 * ldp + N, ldp - N, "part row padding");
              c.sentinels(part.data() + q * 2 * ldp + ldp + N, ldp - N, "part row padding");
            }
          }
}

const size_t kRows[] = {1, 2, 3, 7, 17, 33, 100, 300};
const size_t kCols[] = {1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 65, 257};

void test_col_reductions(const KernelTable& kt) {
  for (size_t rows : kRows)
    for (size_t cols : kCols) {
      const size_t ld = cols + 5;
      std::vector<float> X = rnd(rows * ld, 9.0f, 11.0f);  // offset: exercises the two-pass variance
      std::vector<float> mg(cols + 16, kSentinel), vg(cols + 16, kSentinel), sg(cols + 16, kSentinel);
      std::vector<float> mr(cols), vr(cols), sr(cols);
      kt.col_mean_var(X.data(), rows, cols, ld, mg.data(), vg.data());
      kt.col_sum(X.data(), rows, cols, ld, sg.data());
      reference::col_mean_var(X.data(), rows, cols, ld, mr.data(), vr.data());
      reference::col_sum(X.data(), rows, cols, ld, sr.data());
      std::vector<double> abs_sum(cols, 0.0), var_floor(cols, 1e-7);
      for (size_t i = 0; i < rows; ++i)
        for (size_t j = 0; j < cols; ++j) abs_sum[j] += std::fabs(X[i * ld + j]);
      char nm[96];
      std::snprintf(nm, sizeof nm, "%s col_mean_var rows=%zu cols=%zu", isa_name(kt.isa), rows, cols);
      {
        Case c(nm);
        c.cmp(mg.data(), mr.data(), cols);
        c.cmp(vg.data(), vr.data(), cols, var_floor.data());
        c.sentinels(mg.data() + cols, 16, "mean");
        c.sentinels(vg.data() + cols, 16, "var");
      }
      std::snprintf(nm, sizeof nm, "%s col_sum rows=%zu cols=%zu", isa_name(kt.isa), rows, cols);
      {
        Case c(nm);
        c.cmp(sg.data(), sr.data(), cols, abs_sum.data());
        c.sentinels(sg.data() + cols, 16, "out");
      }
    }
}

const Act kActs[] = {Act::linear, Act::relu, Act::sigmoid, Act::tanh};

void test_scale_shift_act(const KernelTable& kt) {
  for (size_t rows : {1, 2, 3, 7, 17, 33, 300})
    for (size_t cols : kCols)
      for (Act a : kActs)
        for (int mode = 0; mode < 4; ++mode) {  // bit0: scale/shift present, bit1: in place
          const bool ss = mode & 1, inplace = mode & 2;
          const size_t ldx = cols + 3, ldy = inplace ? ldx : cols + 7;
          std::vector<float> X = rnd(rows * ldx, -6.0f, 6.0f);
          std::vector<float> scale = rnd(cols, 0.5f, 3.0f), shift = rnd(cols, -2.0f, 2.0f);
          const float* sc = ss ? scale.data() : nullptr;
          const float* sh = ss ? shift.data() : nullptr;
          std::vector<float> Yr(rows * ldy), Yg(rows * ldy, kSentinel);
          reference::scale_shift_act(X.data(), rows, cols, ldx, sc, sh, a, Yr.data(), ldy);
          std::vector<double> mag(rows * ldy);
          for (size_t i = 0; i < rows; ++i)
            for (size_t j = 0; j < cols; ++j)
              mag[i * ldy + j] = std::fabs(X[i * ldx + j] * (sc ? sc[j] : 1.0f)) + (sh ? std::fabs(sh[j]) : 0.0);
          if (inplace) {
            Yg = X;
            for (size_t i = 0; i < rows; ++i)
              for (size_t j = cols; j < ldx; ++j) Yg[i * ldx + j] = kSentinel;
            kt.scale_shift_act(Yg.data(), rows, cols, ldx, sc, sh, a, Yg.data(), ldy);
          } else {
            kt.scale_shift_act(X.data(), rows, cols, ldx, sc, sh, a, Yg.data(), ldy);
          }
          char nm[128];
          std::snprintf(nm, sizeof nm, "%s scale_shift_act %s rows=%zu cols=%zu ss=%d inplace=%d",
                        isa_name(kt.isa), act_name(a), rows, cols, ss, inplace);
          Case c(nm);
          for (size_t i = 0; i < rows; ++i) {
            c.cmp(Yg.data() + i * ldy, Yr.data() + i * ldy, cols, mag.data() + i * ldy);
            c.sentinels(Yg.data() + i * ldy + cols, ldy - cols, "Y row padding");
          }
        }
}

// Accuracy and robustness of sigmoid/tanh over the whole float range (relative error, no NaN).
void test_activation_accuracy(const KernelTable& kt) {
  std::vector<float> x;
  for (float v = -100.0f; v <= 100.0f; v += 0.01f) x.push_back(v);
  for (float v = 1e-8f; v < 1.0f; v *= 1.07f) {
    x.push_back(v);
    x.push_back(-v);
  }
  for (float v : {0.0f, -0.0f, 87.0f, -87.0f, 87.5f, -87.5f, 88.5f, -88.5f, 89.0f, -89.0f, 1e4f,
                  -1e4f, 1e30f, -1e30f, 3e38f, -3e38f, INFINITY, -INFINITY})
    x.push_back(v);
  std::vector<float> y(x.size());
  for (Act a : {Act::sigmoid, Act::tanh}) {
    kt.scale_shift_act(x.data(), 1, x.size(), x.size(), nullptr, nullptr, a, y.data(), x.size());
    double worst = 0;
    float worst_x = 0;
    bool nan = false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (std::isnan(y[i])) nan = true;
      const double r = reference::act(a, x[i]);
      // relative error where the reference is a normal float; absolute below
      const double e = std::fabs(y[i] - r) / (std::fabs(r) > 1e-37 ? std::fabs(r) : 1.0);
      if (e > worst) {
        worst = e;
        worst_x = x[i];
      }
    }
    char nm[128];
    std::snprintf(nm, sizeof nm, "%s %s accuracy (max rel err %.3g at x=%g)%s", isa_name(kt.isa),
                  act_name(a), worst, worst_x, nan ? " NaN!" : "");
    std::printf("  %s\n", nm);
    Case c(nm);
    c.ok = !nan && worst < 1e-6;
    // exact saturation
    float big[4] = {50.0f, -50.0f, 1e30f, -1e30f}, out[4];
    kt.scale_shift_act(big, 1, 4, 4, nullptr, nullptr, a, out, 4);
    if (a == Act::sigmoid) c.ok = c.ok && out[0] == 1.0f && out[2] == 1.0f && out[3] == 0.0f && out[1] < 2e-22f;
    else c.ok = c.ok && out[0] == 1.0f && out[1] == -1.0f && out[2] == 1.0f && out[3] == -1.0f;
  }
}

void test_act_backward(const KernelTable& kt) {
  for (size_t n : {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 257, 1000})
    for (Act a : kActs)
      for (int inplace = 0; inplace < 2; ++inplace) {
        std::vector<float> pre = rnd(n, -4.0f, 4.0f), Y(n), dY = rnd(n);
        for (size_t i = 0; i < n; ++i) Y[i] = static_cast<float>(reference::act(a, pre[i]));
        if (a == Act::relu && n > 2) Y[1] = 0.0f;
        std::vector<float> dXr(n), dXg(n + 16, kSentinel);
        reference::act_backward(dY.data(), Y.data(), n, a, dXr.data());
        if (inplace) {
          std::copy(dY.begin(), dY.end(), dXg.begin());
          kt.act_backward(dXg.data(), Y.data(), n, a, dXg.data());
        } else {
          kt.act_backward(dY.data(), Y.data(), n, a, dXg.data());
        }
        char nm[96];
        std::snprintf(nm, sizeof nm, "%s act_backward %s n=%zu inplace=%d", isa_name(kt.isa),
                      act_name(a), n, inplace);
        Case c(nm);
        c.cmp(dXg.data(), dXr.data(), n, nullptr, 1e-6);
        c.sentinels(dXg.data() + n, 16, "dX");
      }
}

void test_bn_backward(const KernelTable& kt) {
  for (size_t rows : kRows)
    for (size_t cols : kCols)
      for (Act a : kActs)
        for (int variant = 0; variant < 2; ++variant) {  // 1: dU aliases dY, gamma null, dZ aliases dU
          const size_t n = rows * cols;
          std::vector<float> Z = rnd(n, -2.0f, 3.0f), dY = rnd(n), Y(n), mean(cols), var(cols),
                             invstd(cols), gamma = rnd(cols, 0.5f, 2.0f);
          reference::col_mean_var(Z.data(), rows, cols, cols, mean.data(), var.data());
          for (size_t j = 0; j < cols; ++j) invstd[j] = 1.0f / std::sqrt(var[j] + 1e-3f);
          for (size_t i = 0; i < n; ++i)
            Y[i] = static_cast<float>(reference::act(a, (Z[i] - mean[i % cols]) * invstd[i % cols]));
          std::vector<float> dUr(n), s1r(cols), s2r(cols);
          reference::bn_backward_reduce(dY.data(), Y.data(), Z.data(), rows, cols, a, mean.data(),
                                        invstd.data(), dUr.data(), s1r.data(), s2r.data());
          std::vector<float> dUg(n + 16, kSentinel), s1g(cols + 16, kSentinel), s2g(cols + 16, kSentinel);
          std::vector<float> dYcopy = dY;
          dYcopy.resize(n + 16, kSentinel);
          float* dU = variant ? dYcopy.data() : dUg.data();
          kt.bn_backward_reduce(dYcopy.data(), Y.data(), Z.data(), rows, cols, a, mean.data(),
                                invstd.data(), dU, s1g.data(), s2g.data());
          std::vector<double> m1(cols, 0.0), m2(cols, 0.0);
          for (size_t i = 0; i < n; ++i) {
            const size_t j = i % cols;
            m1[j] += std::fabs(dUr[i]);
            m2[j] += std::fabs(dUr[i] * (Z[i] - mean[j]) * invstd[j]);
          }
          char nm[128];
          std::snprintf(nm, sizeof nm, "%s bn_backward_reduce %s rows=%zu cols=%zu alias=%d",
                        isa_name(kt.isa), act_name(a), rows, cols, variant);
          {
            Case c(nm);
            c.cmp(dU, dUr.data(), n, nullptr, 1e-6);
            c.cmp(s1g.data(), s1r.data(), cols, m1.data());
            c.cmp(s2g.data(), s2r.data(), cols, m2.data());
            c.sentinels(dU + n, 16, "dU");
            c.sentinels(s1g.data() + cols, 16, "sum_du");
            c.sentinels(s2g.data() + cols, 16, "sum_du_xhat");
          }
          // dx, from the reference reductions
          const float* g = variant ? nullptr : gamma.data();
          std::vector<float> dZr(n);
          reference::bn_backward_dx(dUr.data(), Z.data(), rows, cols, mean.data(), invstd.data(), g,
                                    s1r.data(), s2r.data(), dZr.data());
          std::vector<float> dUin = dUr;
          dUin.resize(n + 16, kSentinel);
          std::vector<float> dZg(n + 16, kSentinel);
          float* dZ = variant ? dUin.data() : dZg.data();
          kt.bn_backward_dx(dUin.data(), Z.data(), rows, cols, mean.data(), invstd.data(), g,
                            s1r.data(), s2r.data(), dZ);
          std::vector<double> mag(n);
          for (size_t i = 0; i < n; ++i) {
            const size_t j = i % cols;
            const double k = std::fabs((g ? g[j] : 1.0f) * invstd[j]);
            mag[i] = k * (std::fabs(dUr[i]) + std::fabs(s1r[j]) / rows +
                          std::fabs((Z[i] - mean[j]) * invstd[j] * s2r[j]) / rows);
          }
          std::snprintf(nm, sizeof nm, "%s bn_backward_dx rows=%zu cols=%zu act=%s alias=%d",
                        isa_name(kt.isa), rows, cols, act_name(a), variant);
          Case c(nm);
          c.cmp(dZ, dZr.data(), n, mag.data());
          c.sentinels(dZ + n, 16, "dZ");
        }
}

void test_optimizers(const KernelTable& kt) {
  for (size_t n : {1, 3, 7, 8, 15, 16, 17, 33, 257, 1000}) {
    for (float mom : {0.0f, 0.9f})
      for (int nest = 0; nest < 2; ++nest)
        for (float wd : {0.0f, 0.01f})
          for (int null_vel = 0; null_vel < 2; ++null_vel) {
            if (null_vel && mom != 0.0f) continue;
            std::vector<float> p = rnd(n + 16), g = rnd(n), v = rnd(n + 16, -0.1f, 0.1f);
            for (size_t i = n; i < n + 16; ++i) p[i] = v[i] = kSentinel;
            std::vector<float> pr(p), vr(v);
            float* vg = null_vel ? nullptr : v.data();
            kt.sgd_update(n, p.data(), g.data(), vg, 0.05f, mom, nest, wd);
            reference::sgd_update(n, pr.data(), g.data(), null_vel ? nullptr : vr.data(), 0.05f, mom, nest, wd);
            char nm[128];
            std::snprintf(nm, sizeof nm, "%s sgd n=%zu mom=%g nesterov=%d wd=%g nullvel=%d",
                          isa_name(kt.isa), n, mom, nest, wd, null_vel);
            Case c(nm);
            c.cmp(p.data(), pr.data(), n, nullptr, 1e-3);
            c.cmp(v.data(), vr.data(), n, nullptr, 1e-3);
            c.sentinels(p.data() + n, 16, "p");
            if (!null_vel) c.sentinels(v.data() + n, 16, "velocity");
          }
    for (float wd : {0.0f, 0.01f})
      for (int t : {1, 10}) {
        const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-7f;
        const float lr_t = lr * std::sqrt(1.0f - std::pow(b2, t)) / (1.0f - std::pow(b1, t));
        const float eps_hat = eps * std::sqrt(1.0f - std::pow(b2, t));
        std::vector<float> p = rnd(n + 16), g = rnd(n), m = rnd(n + 16, -0.1f, 0.1f),
                           v = rnd(n + 16, 0.0f, 0.01f);
        if (t == 1)
          for (size_t i = 0; i < n; ++i) m[i] = v[i] = 0.0f;
        for (size_t i = n; i < n + 16; ++i) p[i] = m[i] = v[i] = kSentinel;
        std::vector<float> pr(p), mr(m), vr(v);
        kt.adam_update(n, p.data(), g.data(), m.data(), v.data(), lr, lr_t, b1, b2, eps_hat, wd);
        reference::adam_update(n, pr.data(), g.data(), mr.data(), vr.data(), lr, lr_t, b1, b2, eps_hat, wd);
        char nm[96];
        std::snprintf(nm, sizeof nm, "%s adam n=%zu t=%d wd=%g", isa_name(kt.isa), n, t, wd);
        Case c(nm);
        c.cmp(p.data(), pr.data(), n, nullptr, 1e-3);
        c.cmp(m.data(), mr.data(), n, nullptr, 1e-3);
        c.cmp(v.data(), vr.data(), n, nullptr, 1e-6);
        c.sentinels(p.data() + n, 16, "p");
        c.sentinels(m.data() + n, 16, "m");
        c.sentinels(v.data() + n, 16, "v");
      }
    for (float mom : {0.0f, 0.9f})
      for (float wd : {0.0f, 0.01f})
        for (int null_mom = 0; null_mom < 2; ++null_mom) {
          if (null_mom && mom != 0.0f) continue;
          std::vector<float> p = rnd(n + 16), g = rnd(n), ms = rnd(n + 16, 0.0f, 0.01f),
                             mo = rnd(n + 16, -0.01f, 0.01f);
          for (size_t i = n; i < n + 16; ++i) p[i] = ms[i] = mo[i] = kSentinel;
          std::vector<float> pr(p), msr(ms), mor(mo);
          kt.rmsprop_update(n, p.data(), g.data(), ms.data(), null_mom ? nullptr : mo.data(), 1e-3f,
                            0.9f, mom, 1e-7f, wd);
          reference::rmsprop_update(n, pr.data(), g.data(), msr.data(), null_mom ? nullptr : mor.data(),
                                    1e-3f, 0.9f, mom, 1e-7f, wd);
          char nm[128];
          std::snprintf(nm, sizeof nm, "%s rmsprop n=%zu mom=%g wd=%g nullmom=%d", isa_name(kt.isa),
                        n, mom, wd, null_mom);
          Case c(nm);
          c.cmp(p.data(), pr.data(), n, nullptr, 1e-3);
          c.cmp(ms.data(), msr.data(), n, nullptr, 1e-6);
          c.cmp(mo.data(), mor.data(), n, nullptr, 1e-3);
          c.sentinels(p.data() + n, 16, "p");
          c.sentinels(ms.data() + n, 16, "ms");
          if (!null_mom) c.sentinels(mo.data() + n, 16, "mom");
        }
  }
}

// parallel.h gemm(): bit-identical for 1..4 threads, and close to the reference.
void test_threaded_gemm() {
  struct Shape { size_t M, N, K; };
  const Shape shapes[] = {{300, 513, 129}, {1000, 10, 200}, {64, 2000, 300}, {257, 257, 257},
                          {33, 70, 600}, {5, 7, 3},
                          // rows split 24 + 6 at 2+ threads: the 6-row part takes the small-M
                          // (streamed B) path, the whole the packed path -> must still match
                          {30, 40, 3000},
                          {31, 1000, 17}, {1000, 31, 33}, {1, 1000, 257}, {3, 257, 1000}};
  const int saved = num_threads();
  for (const Shape& s : shapes)
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (int acc = 0; acc < 2; ++acc) {
          const size_t lda = (ta ? s.M : s.K) + 1, ldb = (tb ? s.K : s.N) + 2, ldc = s.N + 3;
          std::vector<float> A = rnd((ta ? s.K : s.M) * lda), B = rnd((tb ? s.N : s.K) * ldb);
          std::vector<float> C0 = rnd(s.M * ldc);
          std::vector<float> first;
          char nm[128];
          std::snprintf(nm, sizeof nm, "%s threaded gemm M=%zu N=%zu K=%zu ta=%d tb=%d acc=%d",
                        isa_name(kernels().isa), s.M, s.N, s.K, ta, tb, acc);
          Case c(nm);
          for (int t = 1; t <= 4; ++t) {
            set_num_threads(t);
            std::vector<float> C = C0;
            gemm(ta, tb, s.M, s.N, s.K, A.data(), lda, B.data(), ldb, C.data(), ldc, acc);
            if (t == 1) {
              first = C;
              std::vector<float> R = C0;
              reference::gemm(ta, tb, s.M, s.N, s.K, A.data(), lda, B.data(), ldb, R.data(), ldc, acc);
              c.cmp(C.data(), R.data(), C.size(), nullptr, 1.0);  // |A|,|B| <= 1: scale ~ sqrt(K)
            } else if (std::memcmp(C.data(), first.data(), C.size() * sizeof(float)) != 0) {
              std::printf("  [%s] threads=%d differs bitwise from threads=1\n", nm, t);
              c.ok = false;
            }
          }
        }
  set_num_threads(saved);

  // parallel_for: nested calls run inline, every index runs exactly once.
  {
    Case c("parallel_for nested/coverage");
    set_num_threads(4);
    std::vector<int> hits(64 * 8, 0);
    parallel_for(64, [&](size_t i) {
      parallel_for(8, [&](size_t j) { hits[i * 8 + j] += 1; });
    });
    for (int h : hits) c.ok = c.ok && h == 1;
    set_num_threads(saved);
  }
}

}  // namespace

int main() {
  if (const char* err = init_kernels()) {
    std::printf("init_kernels() failed: %s\n", err);
    return 2;
  }
  std::printf("detected ISA: %s, active table: %s, threads: %d\n", isa_name(detected_isa()),
              isa_name(kernels().isa), num_threads());
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512, Isa::neon}) {
    const KernelTable* kt = kernels_for(isa);
    if (!kt) {
      std::printf("%s: not available on this CPU, skipped\n", isa_name(isa));
      continue;
    }
    const size_t before = g_pass + g_fail;
    test_gemm(*kt);
    test_gemm_stats(*kt);
    test_col_reductions(*kt);
    test_scale_shift_act(*kt);
    test_activation_accuracy(*kt);
    test_act_backward(*kt);
    test_bn_backward(*kt);
    test_optimizers(*kt);
    test_row_norm(*kt, &g_pass, &g_fail);
    std::printf("%s: %zu cases\n", isa_name(isa), g_pass + g_fail - before);
  }
  {
    // Same templates and tile shape as the AVX-512 table, on a portable width-16 vector type.
    const KernelTable& kt = *densenorm_kernel_table_emu16();
    const size_t before = g_pass + g_fail;
    std::printf("emu16 (width-16 portable emulation of the avx512 table shape; reported as 'avx512'):\n");
    test_gemm(kt);
    test_gemm_stats(kt);
    test_col_reductions(kt);
    test_scale_shift_act(kt);
    test_activation_accuracy(kt);
    test_act_backward(kt);
    test_bn_backward(kt);
    test_optimizers(kt);
    test_row_norm(kt, &g_pass, &g_fail);
    std::printf("emu16: %zu cases\n", g_pass + g_fail - before);
  }
  test_threaded_gemm();
  test_int8(&g_pass, &g_fail);
  {
    const size_t before = g_pass + g_fail;
    test_bf16(&g_pass, &g_fail);
    std::printf("bf16: %zu cases\n", g_pass + g_fail - before);
  }
  std::printf("%zu passed, %zu failed\n", g_pass, g_fail);
  return g_fail == 0 ? 0 : 1;
}

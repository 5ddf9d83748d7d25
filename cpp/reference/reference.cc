#include "reference.h"

#include <cmath>
#include <vector>

namespace densenorm {
namespace reference {

double act(Act a, double x) {
  switch (a) {
    case Act::relu: return x > 0 ? x : 0.0;
    case Act::sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case Act::tanh: return std::tanh(x);
    default: return x;
  }
}

double act_grad_from_output(Act a, double y) {
  switch (a) {
    case Act::relu: return y > 0 ? 1.0 : 0.0;
    case Act::sigmoid: return y * (1.0 - y);
    case Act::tanh: return 1.0 - y * y;
    default: return 1.0;
  }
}

void gemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const float* A, size_t lda,
          const float* B, size_t ldb, float* C, size_t ldc, bool accumulate) {
  for (size_t i = 0; i < M; ++i)
    for (size_t j = 0; j < N; ++j) {
      double s = 0;
      for (size_t k = 0; k < K; ++k) {
        const double a = trans_a ? A[k * lda + i] : A[i * lda + k];
        const double b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        s += a * b;
      }
      float& c = C[i * ldc + j];
      c = static_cast<float>(accumulate ? c + s : s);
    }
}

void col_mean_var(const float* X, size_t rows, size_t cols, size_t ld, float* mean, float* var) {
  for (size_t j = 0; j < cols; ++j) {
    double s = 0;
    for (size_t i = 0; i < rows; ++i) s += X[i * ld + j];
    const double mu = rows ? s / rows : 0.0;
    double q = 0;
    for (size_t i = 0; i < rows; ++i) q += (X[i * ld + j] - mu) * (X[i * ld + j] - mu);
    mean[j] = static_cast<float>(mu);
    var[j] = static_cast<float>(rows ? q / rows : 0.0);
  }
}

void col_sum(const float* X, size_t rows, size_t cols, size_t ld, float* out) {
  for (size_t j = 0; j < cols; ++j) {
    double s = 0;
    for (size_t i = 0; i < rows; ++i) s += X[i * ld + j];
    out[j] = static_cast<float>(s);
  }
}

void scale_shift_act(const float* X, size_t rows, size_t cols, size_t ldx, const float* scale,
                     const float* shift, Act a, float* Y, size_t ldy) {
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < cols; ++j) {
      const double x = static_cast<double>(X[i * ldx + j]) * (scale ? scale[j] : 1.0) +
                       (shift ? shift[j] : 0.0);
      Y[i * ldy + j] = static_cast<float>(act(a, x));
    }
}

void act_backward(const float* dY, const float* Y, size_t n, Act a, float* dX) {
  for (size_t i = 0; i < n; ++i)
    dX[i] = static_cast<float>(dY[i] * act_grad_from_output(a, Y[i]));
}

void bn_backward_reduce(const float* dY, const float* Y, const float* Z, size_t rows, size_t cols,
                        Act a, const float* mean, const float* invstd, float* dU, float* sum_du,
                        float* sum_du_xhat) {
  std::vector<double> s1(cols, 0.0), s2(cols, 0.0);
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < cols; ++j) {
      const size_t q = i * cols + j;
      const double du = dY[q] * act_grad_from_output(a, Y[q]);
      const double xhat = (static_cast<double>(Z[q]) - mean[j]) * invstd[j];
      dU[q] = static_cast<float>(du);
      s1[j] += du;
      s2[j] += du * xhat;
    }
  for (size_t j = 0; j < cols; ++j) {
    sum_du[j] = static_cast<float>(s1[j]);
    sum_du_xhat[j] = static_cast<float>(s2[j]);
  }
}

void bn_backward_dx(const float* dU, const float* Z, size_t rows, size_t cols, const float* mean,
                    const float* invstd, const float* gamma, const float* sum_du,
                    const float* sum_du_xhat, float* dZ) {
  for (size_t i = 0; i < rows; ++i)
    for (size_t j = 0; j < cols; ++j) {
      const size_t q = i * cols + j;
      const double k = (gamma ? gamma[j] : 1.0) * static_cast<double>(invstd[j]);
      const double xhat = (static_cast<double>(Z[q]) - mean[j]) * invstd[j];
      dZ[q] = static_cast<float>(
          k * (dU[q] - static_cast<double>(sum_du[j]) / rows -
               xhat * static_cast<double>(sum_du_xhat[j]) / rows));
    }
}

void sgd_update(size_t n, float* p, const float* g, float* velocity, float lr, float momentum,
                bool nesterov, float weight_decay) {
  for (size_t i = 0; i < n; ++i) {
    double pv = p[i];
    pv -= static_cast<double>(lr) * weight_decay * pv;
    if (momentum == 0.0f || velocity == nullptr) {
      pv -= static_cast<double>(lr) * g[i];
    } else {
      const double v = static_cast<double>(momentum) * velocity[i] - static_cast<double>(lr) * g[i];
      velocity[i] = static_cast<float>(v);
      pv += nesterov ? momentum * v - static_cast<double>(lr) * g[i] : v;
    }
    p[i] = static_cast<float>(pv);
  }
}

void adam_update(size_t n, float* p, const float* g, float* m, float* v, float lr, float lr_t,
                 float beta1, float beta2, float eps_hat, float weight_decay) {
  for (size_t i = 0; i < n; ++i) {
    double pv = p[i];
    pv -= static_cast<double>(lr) * weight_decay * pv;
    const double gi = g[i];
    const double mi = beta1 * static_cast<double>(m[i]) + (1.0 - beta1) * gi;
    const double vi = beta2 * static_cast<double>(v[i]) + (1.0 - beta2) * gi * gi;
    m[i] = static_cast<float>(mi);
    v[i] = static_cast<float>(vi);
    pv -= lr_t * mi / (std::sqrt(vi) + eps_hat);
    p[i] = static_cast<float>(pv);
  }
}

void rmsprop_update(size_t n, float* p, const float* g, float* ms, float* mom, float lr, float rho,
                    float momentum, float eps, float weight_decay) {
  for (size_t i = 0; i < n; ++i) {
    double pv = p[i];
    pv -= static_cast<double>(lr) * weight_decay * pv;
    const double gi = g[i];
    const double s = rho * static_cast<double>(ms[i]) + (1.0 - rho) * gi * gi;
    ms[i] = static_cast<float>(s);
    const double step = lr * gi / (std::sqrt(s) + eps);
    if (momentum != 0.0f && mom != nullptr) {
      const double mo = momentum * static_cast<double>(mom[i]) + step;
      mom[i] = static_cast<float>(mo);
      pv -= mo;
    } else {
      pv -= step;
    }
    p[i] = static_cast<float>(pv);
  }
}

void row_norm_forward(const float* X, size_t rows, size_t cols, size_t groups, bool rms, float eps,
                      const float* gamma, const float* beta, Act a, float* xhat, float* mean,
                      float* invstd, float* Y) {
  const size_t G = cols / groups;
  for (size_t i = 0; i < rows; ++i)
    for (size_t g = 0; g < groups; ++g) {
      const float* x = X + i * cols + g * G;
      double m = 0, v = 0;
      if (!rms) {
        for (size_t j = 0; j < G; ++j) m += x[j];
        m /= static_cast<double>(G);
      }
      for (size_t j = 0; j < G; ++j) v += (x[j] - m) * (x[j] - m);
      const double is = 1.0 / std::sqrt(v / static_cast<double>(G) + eps);
      mean[i * groups + g] = static_cast<float>(m);
      invstd[i * groups + g] = static_cast<float>(is);
      for (size_t j = 0; j < G; ++j) {
        const size_t c = g * G + j;
        const double h = (x[j] - m) * is;
        if (xhat) xhat[i * cols + c] = static_cast<float>(h);
        Y[i * cols + c] = static_cast<float>(act(a, h * (gamma ? gamma[c] : 1.0) + (beta ? beta[c] : 0.0)));
      }
    }
}

void row_norm_backward(const float* dU, const float* xhat, size_t rows, size_t cols, size_t groups,
                       bool rms, const float* gamma, const float* invstd, float* dX) {
  const size_t G = cols / groups;
  std::vector<double> u(G);
  for (size_t i = 0; i < rows; ++i)
    for (size_t g = 0; g < groups; ++g) {
      const size_t o = i * cols + g * G;
      double s1 = 0, s2 = 0;
      for (size_t j = 0; j < G; ++j) {
        u[j] = dU[o + j] * (gamma ? gamma[g * G + j] : 1.0);
        s1 += u[j];
        s2 += u[j] * xhat[o + j];
      }
      const double a = rms ? 0.0 : s1 / static_cast<double>(G), b = s2 / static_cast<double>(G);
      for (size_t j = 0; j < G; ++j)
        dX[o + j] = static_cast<float>(invstd[i * groups + g] * (u[j] - a - xhat[o + j] * b));
    }
}

}  // namespace reference
}  // namespace densenorm

// Plain double-precision reference implementations of every KernelTable entry (same signatures,
// same semantics as cpp/include/densenorm/kernels.h). The oracle for tests; never dispatched.
#pragma once
#include <cstddef>

#include "densenorm/kernels.h"

namespace densenorm {
namespace reference {

double act(Act a, double x);                 // elementwise (softmax behaves as linear)
double act_grad_from_output(Act a, double y);  // act'(pre) expressed through y = act(pre)

void gemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const float* A, size_t lda,
          const float* B, size_t ldb, float* C, size_t ldc, bool accumulate);
void col_mean_var(const float* X, size_t rows, size_t cols, size_t ld, float* mean, float* var);
void col_sum(const float* X, size_t rows, size_t cols, size_t ld, float* out);
void scale_shift_act(const float* X, size_t rows, size_t cols, size_t ldx, const float* scale,
                     const float* shift, Act act, float* Y, size_t ldy);
void act_backward(const float* dY, const float* Y, size_t n, Act act, float* dX);
void bn_backward_reduce(const float* dY, const float* Y, const float* Z, size_t rows, size_t cols,
                        Act act, const float* mean, const float* invstd, float* dU, float* sum_du,
                        float* sum_du_xhat);
void bn_backward_dx(const float* dU, const float* Z, size_t rows, size_t cols, const float* mean,
                    const float* invstd, const float* gamma, const float* sum_du,
                    const float* sum_du_xhat, float* dZ);
void row_norm_forward(const float* X, size_t rows, size_t cols, size_t groups, bool rms, float eps,
                      const float* gamma, const float* beta, Act act, float* xhat, float* mean,
                      float* invstd, float* Y);
void row_norm_backward(const float* dU, const float* xhat, size_t rows, size_t cols, size_t groups,
                       bool rms, const float* gamma, const float* invstd, float* dX);
void sgd_update(size_t n, float* p, const float* g, float* velocity, float lr, float momentum,
                bool nesterov, float weight_decay);
void adam_update(size_t n, float* p, const float* g, float* m, float* v, float lr, float lr_t,
                 float beta1, float beta2, float eps_hat, float weight_decay);
void rmsprop_update(size_t n, float* p, const float* g, float* ms, float* mom, float lr, float rho,
                    float momentum, float eps, float weight_decay);

}  // namespace reference
}  // namespace densenorm

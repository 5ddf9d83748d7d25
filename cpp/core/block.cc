#include "core/block.h"

#include <cmath>
#include <cstring>

#include "core/passes.h"
#include "densenorm/parallel.h"

namespace densenorm {
namespace {

void fold_scale_shift(const BlockSpec& s, BlockBuffers& w, size_t j0, size_t j1) {
  for (size_t j = j0; j < j1; ++j) {
    const float g = s.gamma ? s.gamma[j] : 1.0f;
    w.scale[j] = g * w.invstd[j];
    w.shift[j] = (s.beta ? s.beta[j] : 0.0f) - w.mean[j] * w.scale[j];
  }
}

// Whether a layer's two backward products, dW = Xᵀ·dZ and dX = dZ·Wᵀ (the same 2·B·in·out flops
// each), run better side by side, one thread each, than one after the other, each split by the
// GEMM driver: on exactly 2 threads, while a product is too small to split well but big enough
// to pay for waking the pool.
bool pair_concurrently(size_t batch, size_t in, size_t out) {
  const double flops = 2.0 * static_cast<double>(batch) * static_cast<double>(in) *
                       static_cast<double>(out);
  return num_threads() == 2 && flops >= 2e5 && flops < 4e6;
}

// Everything but the epilogue.
void forward_parts(const KernelTable& K, const BlockSpec& s, BlockBuffers& w, float* stat_part,
                   const float* X, size_t B, Mode mode, bool keep_logits,
                   const float* packed_kernel) {
  const size_t n = s.out;
  const bool bn_batch = s.bn_batch_stats(mode);
  const bool skip_bias = s.bias_cancels(mode);
  // Keeping the logits apart matters only when an activation follows them.
  const bool split_logits = keep_logits && s.post_act != Act::linear;

  // Dense + pre-activation → A (the batch-norm input). When A is the product itself (no
  // activation, no bias applied), the GEMM's store step also sums each feature's values per
  // 24-row chunk, shifted by the moving mean (the batch mean's best estimate before the step),
  // so the batch statistics need no second pass over A unless the shift turns out poor.
  bool stats_in_gemm = false;
  bool fused = false;
  if (s.kernel) {
    stats_in_gemm = bn_batch && s.pre_act == Act::linear && (!s.bias || skip_bias);
    // Then the GEMM output is all the batch norm needs: statistics, scale/shift and an
    // elementwise activation run per column range as soon as those columns are done, while
    // they are in the cache of the thread that computed them.
    fused = stats_in_gemm && elementwise(s.post_act) && !split_logits;
    GemmColStats gs{};
    if (stats_in_gemm) {
      for (size_t j = 0; j < n; ++j) {
        const float m = s.moving_mean[j] - (s.bias ? s.bias[j] : 0.0f);  // the moving mean has the bias
        w.stat_shift[j] = std::isfinite(m) ? m : 0.0f;
      }
      gs = GemmColStats{w.stat_shift.data(), stat_part, n};
    }
    // One captured pointer, so the std::function keeps it inline (no allocation per step).
    struct Ctx { const KernelTable& K; const BlockSpec& s; BlockBuffers& w; const float* part; size_t B, n; }
        ctx{K, s, w, stat_part, B, n};
    const ColsDone bn_cols = [c = &ctx](size_t j0, size_t j1) {
      BlockBuffers& w = c->w;
      const BlockSpec& s = c->s;
      const float* A = w.bn_in.data();
      bn_stats_cols(c->K, c->part, w.stat_shift.data(), A, c->B, c->n, j0, j1, w.mean.data(),
                    w.var.data());
      for (size_t j = j0; j < j1; ++j) w.invstd[j] = 1.0f / std::sqrt(w.var[j] + s.epsilon);
      fold_scale_shift(s, w, j0, j1);
      c->K.scale_shift_act(A + j0, c->B, j1 - j0, c->n, w.scale.data() + j0,
                           w.shift.data() + j0, s.post_act, w.out.data() + j0, c->n);
    };
    // Inference (moving statistics): scale and shift are known before the product, so the
    // bias, scale/shift and activation run per column range too, on columns still in cache.
    const bool fused_infer = s.has_bn && !bn_batch && s.pre_act == Act::linear &&
                             elementwise(s.post_act) && !split_logits;
    if (fused_infer) {
      for (size_t j = 0; j < n; ++j) {
        w.mean[j] = s.moving_mean[j];
        w.invstd[j] = 1.0f / std::sqrt(s.moving_var[j] + s.epsilon);
      }
      fold_scale_shift(s, w, 0, n);
    }
    // The same operations as the unfused passes below, in the same order (bit-identical).
    const ColsDone infer_cols = [c = &ctx](size_t j0, size_t j1) {
      BlockBuffers& w = c->w;
      const BlockSpec& s = c->s;
      float* A = w.bn_in.data();
      if (s.bias)
        c->K.scale_shift_act(A + j0, c->B, j1 - j0, c->n, nullptr, s.bias + j0, Act::linear,
                             A + j0, c->n);
      c->K.scale_shift_act(A + j0, c->B, j1 - j0, c->n, w.scale.data() + j0,
                           w.shift.data() + j0, s.post_act, w.out.data() + j0, c->n);
    };
    const ColsDone* done = fused ? &bn_cols : fused_infer ? &infer_cols : nullptr;
    if (packed_kernel)
      gemm_prepacked(false, B, n, s.in, X, s.in, packed_kernel, w.bn_in.data(), n, done);
    else
      gemm(false, false, B, n, s.in, X, s.in, s.kernel, n, w.bn_in.data(), n, false,
           stats_in_gemm ? &gs : nullptr, done);
    fused = fused || fused_infer;
    const float* shift = (s.bias && !skip_bias && !fused_infer) ? s.bias : nullptr;
    if (shift || (s.pre_act != Act::linear && elementwise(s.pre_act)))
      threaded::scale_shift_act(K, w.bn_in.data(), B, n, n, nullptr, shift,
                                elementwise(s.pre_act) ? s.pre_act : Act::linear, w.bn_in.data(), n);
    if (s.pre_act == Act::softmax) threaded::softmax_rows(w.bn_in.data(), B, n, w.bn_in.data());
  } else {
    threaded::apply_act(K, X, B, n, s.pre_act, w.bn_in.data());
  }
  if (fused) return;  // statistics, normalization and activation ran per column range

  const float* A = w.bn_in.data();
  float* Y = w.out.data();
  if (!s.has_bn) {
    threaded::apply_act(K, A, B, n, s.post_act, Y);
    return;
  }
  if (bn_batch) {
    if (stats_in_gemm)
      threaded::for_ranges(n, B * n, kColAlign, [&](size_t b, size_t e) {
        bn_stats_cols(K, stat_part, w.stat_shift.data(), A, B, n, b, e, w.mean.data(), w.var.data());
      });
    else
      threaded::col_mean_var(K, A, B, n, n, w.mean.data(), w.var.data());
    for (size_t j = 0; j < n; ++j) w.invstd[j] = 1.0f / std::sqrt(w.var[j] + s.epsilon);
  } else {
    for (size_t j = 0; j < n; ++j) {
      w.mean[j] = s.moving_mean[j];
      w.invstd[j] = 1.0f / std::sqrt(s.moving_var[j] + s.epsilon);
    }
  }
  fold_scale_shift(s, w, 0, n);
  if (split_logits) {
    threaded::scale_shift_act(K, A, B, n, n, w.scale.data(), w.shift.data(), Act::linear,
                              w.logits.data(), n);
    threaded::apply_act(K, w.logits.data(), B, n, s.post_act, Y);
  } else if (elementwise(s.post_act)) {
    threaded::scale_shift_act(K, A, B, n, n, w.scale.data(), w.shift.data(), s.post_act, Y, n);
  } else {
    threaded::scale_shift_act(K, A, B, n, n, w.scale.data(), w.shift.data(), Act::linear, Y, n);
    threaded::softmax_rows(Y, B, n, Y);
  }
}

}  // namespace

void block_forward(const KernelTable& K, const BlockSpec& s, BlockBuffers& w, float* stat_part,
                   const float* X, size_t B, Mode mode, bool keep_logits,
                   const float* packed_kernel, uint64_t step) {
  forward_parts(K, s, w, stat_part, X, B, mode, keep_logits, packed_kernel);
  if (!has_epilogue(s, mode)) return;
  const size_t n = s.out;
  threaded::for_ranges(B, B * n, 1, [&](size_t r0, size_t r1) {
    s.epilogue->forward(w.out.data(), w.epi_out.data(), n, r0, r1, step);
  });
}

void block_backward(const KernelTable& K, const BlockSpec& s, BlockBuffers& w, StepScratch& sc,
                    const float* X, size_t B, float* cur, Act post, float* target, uint64_t step) {
  const size_t n = s.out;
  if (has_epilogue(s, Mode::kTraining))
    threaded::for_ranges(B, B * n, 1, [&](size_t r0, size_t r1) {
      s.epilogue->backward(cur, n, r0, r1, step);
    });
  const float* A = w.bn_in.data();
  const float* Y = w.out.data();
  float* d = sc.d.data();
  const bool bn_batch = s.bn_batch_stats(Mode::kTraining);
  const bool skip_bias = s.bias_cancels(Mode::kTraining);

  // Post-activation and batch norm → dA in d.
  if (bn_batch) {
    const float* src = cur;
    Act pe = post;
    if (post == Act::softmax) {
      threaded::softmax_backward_rows(cur, Y, B, n, d);
      src = d;
      pe = Act::linear;
    }
    threaded::bn_reduce(K, sc.bn_part.data(), src, Y, A, B, n, pe, w.mean.data(), w.invstd.data(),
                        d, w.sum_du.data(), w.sum_du_xhat.data());
    if (s.grad_gamma) std::memcpy(s.grad_gamma, w.sum_du_xhat.data(), n * sizeof(float));
    if (s.grad_beta) std::memcpy(s.grad_beta, w.sum_du.data(), n * sizeof(float));
    threaded::bn_dx(K, sc.bn_prescaled.data(), d, A, B, n, w.mean.data(), w.invstd.data(), s.gamma,
                    w.sum_du.data(), w.sum_du_xhat.data(), d);
  } else {
    threaded::act_grad(K, cur, Y, B, n, post, d);
    if (s.has_bn)  // frozen: a fixed affine map
      threaded::scale_shift_act(K, d, B, n, n, w.scale.data(), nullptr, Act::linear, d, n);
  }
  // Pre-activation → dZ in d.
  if (s.pre_act != Act::linear) threaded::act_grad(K, d, A, B, n, s.pre_act, d);

  // dW = Xᵀ·dZ (+ the bias gradient) and dX = dZ·Wᵀ; alone: on the calling thread only.
  auto weight_grads = [&](bool alone) {
    if (alone) K.gemm(true, false, s.in, n, B, X, s.in, d, n, s.grad_kernel, n, false, nullptr);
    else gemm(true, false, s.in, n, B, X, s.in, d, n, s.grad_kernel, n, false);
    if (!s.grad_bias) return;
    if (skip_bias) std::memset(s.grad_bias, 0, n * sizeof(float));
    else if (alone) K.col_sum(d, B, n, n, s.grad_bias);
    else threaded::col_sum(K, d, B, n, n, s.grad_bias);
  };
  auto input_grad = [&](bool alone) {
    if (alone) K.gemm(false, true, B, s.in, n, d, n, s.kernel, n, target, s.in, false, nullptr);
    else gemm(false, true, B, s.in, n, d, n, s.kernel, n, target, s.in, false);
  };
  if (!s.kernel) {
    if (target) copy_rows(d, target, B * n);
  } else if (s.dense_trainable && target && pair_concurrently(B, s.in, n)) {
    parallel_for(2, [&](size_t t) {
      if (t == 0) weight_grads(true);
      else input_grad(true);
    });
  } else {
    if (s.dense_trainable) weight_grads(false);
    if (target) input_grad(false);
  }
}

void block_bn_input(const KernelTable& K, const BlockSpec& s, const float* X, size_t B, float* A) {
  const size_t F = s.out;
  if (s.kernel) {
    gemm(false, false, B, F, s.in, X, s.in, s.kernel, F, A, F, false);
    if (s.bias || (s.pre_act != Act::linear && elementwise(s.pre_act)))
      threaded::scale_shift_act(K, A, B, F, F, nullptr, s.bias,
                                elementwise(s.pre_act) ? s.pre_act : Act::linear, A, F);
    if (s.pre_act == Act::softmax) threaded::softmax_rows(A, B, F, A);
  } else {
    threaded::apply_act(K, X, B, F, s.pre_act, A);
  }
}

}  // namespace densenorm

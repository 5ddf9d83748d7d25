#include "core/block.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/passes.h"
#include "densenorm/parallel.h"

namespace densenorm {
namespace {

// Batch renormalization's correction is active: training with batch statistics.
bool renorm_active(const BlockSpec& s, Mode mode) { return s.renorm && s.bn_batch_stats(mode); }

// scale = γ·invstd and shift = β − mean·scale; under renorm (Ioffe 2017) γ·(r·x̂ + d) + β, so
// scale gains r and shift γ·d, in an order that leaves the plain values exact when r = 1, d = 0.
void fold_scale_shift(const BlockSpec& s, BlockBuffers& w, size_t j0, size_t j1, bool renorm) {
  const bool skip_bias = renorm && s.bias_cancels(Mode::kTraining);
  for (size_t j = j0; j < j1; ++j) {
    const float g = s.gamma ? s.gamma[j] : 1.0f;
    w.scale[j] = g * w.invstd[j];
    if (renorm) {
      const float sd_r = std::max(s.renorm_stddev[j], std::sqrt(s.epsilon));
      const float mean = w.mean[j] + (skip_bias ? s.bias[j] : 0.0f);  // the batch mean with the bias
      const float sd = std::sqrt(w.var[j] + s.epsilon);
      const float r = std::min(std::max(sd / sd_r, s.rmin), s.rmax);
      const float d = std::min(std::max((mean - s.renorm_mean[j]) / sd_r, -s.dmax), s.dmax);
      w.renorm_r[j] = r;
      w.renorm_d[j] = d;
      w.scale[j] = w.scale[j] * r;
      w.shift[j] = ((s.beta ? s.beta[j] : 0.0f) - w.mean[j] * w.scale[j]) + g * d;
    } else {
      w.shift[j] = (s.beta ? s.beta[j] : 0.0f) - w.mean[j] * w.scale[j];
    }
  }
}

// Ghost batch norm is active: training with batch statistics over sub-batches of the batch.
bool ghost_active(const BlockSpec& s, size_t B, Mode mode) {
  return s.bn_batch_stats(mode) && s.virtual_batch > 0 && s.virtual_batch < B;
}

// Layer/group normalization of A = w.bn_in into w.out (and w.logits), per row.
void row_norm_forward(const KernelTable& K, const BlockSpec& s, BlockBuffers& w, size_t B,
                      Mode mode, bool split_logits) {
  const size_t n = s.out, g = s.norm_groups;
  const bool direct = !split_logits && elementwise(s.post_act);
  float* Y = split_logits ? w.logits.data() : w.out.data();
  float* xhat = mode == Mode::kTraining ? w.xhat.data() : nullptr;
  const float* A = w.bn_in.data();
  threaded::for_ranges(B, B * n, 1, [&](size_t r0, size_t r1) {
    K.row_norm_forward(A + r0 * n, r1 - r0, n, g, s.rms, s.epsilon, s.gamma, s.beta,
                       direct ? s.post_act : Act::linear, xhat ? xhat + r0 * n : nullptr,
                       w.row_mean.data() + r0 * g, w.row_invstd.data() + r0 * g, Y + r0 * n);
  });
  if (split_logits) threaded::apply_act(K, w.logits.data(), B, n, s.post_act, w.out.data());
  else if (!direct) threaded::softmax_rows(Y, B, n, Y);
}

// Ghost batch norm's forward on A: statistics, scale/shift and the activation per sub-batch
// (gmean... hold them, [sub-batches × out]); w.mean/w.var get their means for the moving update.
void ghost_forward(const KernelTable& K, const BlockSpec& s, BlockBuffers& w, size_t B,
                   bool split_logits) {
  const size_t n = s.out, V = s.virtual_batch, Q = B / V;
  std::fill(w.mean.begin(), w.mean.end(), 0.0f);
  std::fill(w.var.begin(), w.var.end(), 0.0f);
  for (size_t q = 0; q < Q; ++q) {
    const float* A = w.bn_in.data() + q * V * n;
    float* mean = w.gmean.data() + q * n;
    float* var = w.gvar.data() + q * n;
    float* invstd = w.ginvstd.data() + q * n;
    float* scale = w.gscale.data() + q * n;
    float* shift = w.gshift.data() + q * n;
    threaded::col_mean_var(K, A, V, n, n, mean, var);
    for (size_t j = 0; j < n; ++j) {
      invstd[j] = 1.0f / std::sqrt(var[j] + s.epsilon);
      scale[j] = (s.gamma ? s.gamma[j] : 1.0f) * invstd[j];
      shift[j] = (s.beta ? s.beta[j] : 0.0f) - mean[j] * scale[j];
      w.mean[j] += mean[j];
      w.var[j] += var[j];
    }
    float* Y = w.out.data() + q * V * n;
    if (split_logits) {
      float* L = w.logits.data() + q * V * n;
      threaded::scale_shift_act(K, A, V, n, n, scale, shift, Act::linear, L, n);
      threaded::apply_act(K, L, V, n, s.post_act, Y);
    } else if (elementwise(s.post_act)) {
      threaded::scale_shift_act(K, A, V, n, n, scale, shift, s.post_act, Y, n);
    } else {
      threaded::scale_shift_act(K, A, V, n, n, scale, shift, Act::linear, Y, n);
      threaded::softmax_rows(Y, V, n, Y);
    }
  }
  for (size_t j = 0; j < n; ++j) {
    w.mean[j] /= static_cast<float>(Q);
    w.var[j] /= static_cast<float>(Q);
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
  const bool renorm = renorm_active(s, mode);
  const bool ghost = ghost_active(s, B, mode);
  // Keeping the logits apart matters only when an activation follows them.
  const bool split_logits = keep_logits && s.post_act != Act::linear;

  // Dense + pre-activation → A (the batch-norm input). When A is the product itself (no
  // activation, no bias applied), the GEMM's store step also sums each feature's values per
  // 24-row chunk, shifted by the moving mean (the batch mean's best estimate before the step),
  // so the batch statistics need no second pass over A unless the shift turns out poor.
  bool stats_in_gemm = false;
  bool fused = false;
  if (s.kernel) {
    stats_in_gemm = bn_batch && !ghost && s.pre_act == Act::linear && (!s.bias || skip_bias);
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
    struct Ctx { const KernelTable& K; const BlockSpec& s; BlockBuffers& w; const float* part; size_t B, n; bool renorm; }
        ctx{K, s, w, stat_part, B, n, renorm};
    const ColsDone bn_cols = [c = &ctx](size_t j0, size_t j1) {
      BlockBuffers& w = c->w;
      const BlockSpec& s = c->s;
      const float* A = w.bn_in.data();
      bn_stats_cols(c->K, c->part, w.stat_shift.data(), A, c->B, c->n, j0, j1, w.mean.data(),
                    w.var.data());
      for (size_t j = j0; j < j1; ++j) w.invstd[j] = 1.0f / std::sqrt(w.var[j] + s.epsilon);
      fold_scale_shift(s, w, j0, j1, c->renorm);
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
      fold_scale_shift(s, w, 0, n, false);
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
      gemm_prepacked(false, B, n, s.in, X, s.in, packed_kernel, w.bn_in.data(), n, done, &K);
    else
      gemm(false, false, B, n, s.in, X, s.in, s.kernel, n, w.bn_in.data(), n, false,
           stats_in_gemm ? &gs : nullptr, done, &K);
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

  if (s.has_row_norm) {
    row_norm_forward(K, s, w, B, mode, split_logits);
    return;
  }
  if (ghost) {
    ghost_forward(K, s, w, B, split_logits);
    return;
  }
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
  fold_scale_shift(s, w, 0, n, renorm);
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

// Ghost batch norm's backward: each sub-batch as a batch of its own; γ and β gradients are the
// sums over sub-batches, in sub-batch order.
void ghost_backward(const KernelTable& K, const BlockSpec& s, BlockBuffers& w, StepScratch& sc,
                    size_t B, const float* src, Act pe, float* d) {
  const size_t n = s.out, V = s.virtual_batch, Q = B / V;
  if (s.grad_gamma) std::fill(s.grad_gamma, s.grad_gamma + n, 0.0f);
  if (s.grad_beta) std::fill(s.grad_beta, s.grad_beta + n, 0.0f);
  for (size_t q = 0; q < Q; ++q) {
    const size_t o = q * V * n;
    const float* mean = w.gmean.data() + q * n;
    const float* invstd = w.ginvstd.data() + q * n;
    threaded::bn_reduce(K, sc.bn_part.data(), src + o, w.out.data() + o, w.bn_in.data() + o, V, n,
                        pe, mean, invstd, d + o, w.sum_du.data(), w.sum_du_xhat.data());
    for (size_t j = 0; j < n; ++j) {
      if (s.grad_gamma) s.grad_gamma[j] += w.sum_du_xhat[j];
      if (s.grad_beta) s.grad_beta[j] += w.sum_du[j];
    }
    threaded::bn_dx(K, sc.bn_prescaled.data(), d + o, w.bn_in.data() + o, V, n, mean, invstd,
                    s.gamma, w.sum_du.data(), w.sum_du_xhat.data(), d + o);
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

  // Post-activation and normalization → dA in d.
  const float* src = cur;
  Act pe = post;
  if (post == Act::softmax && (bn_batch || s.has_row_norm)) {
    threaded::softmax_backward_rows(cur, Y, B, n, d);
    src = d;
    pe = Act::linear;
  }
  if (s.has_row_norm) {
    // x̂ is kept, so the batch-norm reduction with mean 0 and invstd 1 sums du and du·x̂.
    threaded::bn_reduce(K, sc.bn_part.data(), src, Y, w.xhat.data(), B, n, pe, w.zeros.data(),
                        w.ones.data(), d, w.sum_du.data(), w.sum_du_xhat.data());
    if (s.grad_gamma) std::memcpy(s.grad_gamma, w.sum_du_xhat.data(), n * sizeof(float));
    if (s.grad_beta) std::memcpy(s.grad_beta, w.sum_du.data(), n * sizeof(float));
    const size_t g = s.norm_groups;
    threaded::for_ranges(B, B * n, 1, [&](size_t r0, size_t r1) {
      K.row_norm_backward(d + r0 * n, w.xhat.data() + r0 * n, r1 - r0, n, g, s.rms, s.gamma,
                          w.row_invstd.data() + r0 * g, d + r0 * n);
    });
  } else if (ghost_active(s, B, Mode::kTraining)) {
    ghost_backward(K, s, w, sc, B, src, pe, d);
  } else if (bn_batch) {
    threaded::bn_reduce(K, sc.bn_part.data(), src, Y, A, B, n, pe, w.mean.data(), w.invstd.data(),
                        d, w.sum_du.data(), w.sum_du_xhat.data());
    const float* gamma = s.gamma;
    if (renorm_active(s, Mode::kTraining)) {  // r and d are constants: γ·r scales x̂'s gradient
      for (size_t j = 0; j < n; ++j) {
        w.gamma_r[j] = (s.gamma ? s.gamma[j] : 1.0f) * w.renorm_r[j];
        if (s.grad_gamma)
          s.grad_gamma[j] = w.sum_du_xhat[j] * w.renorm_r[j] + w.sum_du[j] * w.renorm_d[j];
      }
      gamma = w.gamma_r.data();
    } else if (s.grad_gamma) {
      std::memcpy(s.grad_gamma, w.sum_du_xhat.data(), n * sizeof(float));
    }
    if (s.grad_beta) std::memcpy(s.grad_beta, w.sum_du.data(), n * sizeof(float));
    threaded::bn_dx(K, sc.bn_prescaled.data(), d, A, B, n, w.mean.data(), w.invstd.data(), gamma,
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
    else gemm(true, false, s.in, n, B, X, s.in, d, n, s.grad_kernel, n, false, nullptr, nullptr, &K);
    if (!s.grad_bias) return;
    if (skip_bias) std::memset(s.grad_bias, 0, n * sizeof(float));
    else if (alone) K.col_sum(d, B, n, n, s.grad_bias);
    else threaded::col_sum(K, d, B, n, n, s.grad_bias);
  };
  auto input_grad = [&](bool alone) {
    if (alone) K.gemm(false, true, B, s.in, n, d, n, s.kernel, n, target, s.in, false, nullptr);
    else gemm(false, true, B, s.in, n, d, n, s.kernel, n, target, s.in, false, nullptr, nullptr, &K);
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
    gemm(false, false, B, F, s.in, X, s.in, s.kernel, F, A, F, false, nullptr, nullptr, &K);
    if (s.bias || (s.pre_act != Act::linear && elementwise(s.pre_act)))
      threaded::scale_shift_act(K, A, B, F, F, nullptr, s.bias,
                                elementwise(s.pre_act) ? s.pre_act : Act::linear, A, F);
    if (s.pre_act == Act::softmax) threaded::softmax_rows(A, B, F, A);
  } else {
    threaded::apply_act(K, X, B, F, s.pre_act, A);
  }
}

}  // namespace densenorm

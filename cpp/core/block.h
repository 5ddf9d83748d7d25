// One fused block's passes, forward and backward: [Dense] → pre_act → [BatchNorm] → post_act.
#pragma once
#include <cstddef>
#include <vector>

#include "core/epilogue.h"
#include "densenorm/kernels.h"
#include "densenorm/model.h"

namespace densenorm {

// One block's activations and statistics for the current batch.
struct BlockBuffers {
  std::vector<float> bn_in;   // the batch-norm input (= pre_act output) [B × out]
  std::vector<float> logits;  // the last block only: post_act's input [B × out]
  std::vector<float> out;     // post_act's output [B × out]
  std::vector<float> epi_out; // the epilogue's output [B × out] (training, when it runs)
  std::vector<float> mean, var, invstd;  // statistics used (batch or moving)
  std::vector<float> scale, shift;       // the folded γ·invstd and β − mean·scale
  std::vector<float> sum_du, sum_du_xhat;  // batch-norm backward sums (β and γ gradients)
  std::vector<float> stat_shift;  // the GEMM statistics epilogue's per-feature shift
  // Row normalization: per-row statistics [B × groups], x̂ [B × out] (training) and the
  // constant mean 0 / invstd 1 that turn the batch-norm reduction into Σdu and Σdu·x̂.
  std::vector<float> row_mean, row_invstd, xhat, zeros, ones;
  std::vector<float> renorm_r, renorm_d, gamma_r;  // batch renormalization's r, d and γ·r
  // Ghost batch norm's per-sub-batch statistics and folded scale/shift [sub-batches × out].
  std::vector<float> gmean, gvar, ginvstd, gscale, gshift;
};

// Buffers one step shares between its blocks.
struct StepScratch {
  std::vector<float> grad_a, grad_b;  // gradient ping-pong [B × max width]
  std::vector<float> d;               // dU / dA scratch [B × max width]
  std::vector<float> bn_part;         // batch-norm backward partial sums [row chunks × 2 × max width]
  std::vector<float> bn_prescaled;    // batch-norm dx pre-scaled sums [4 × max width]
  std::vector<float> stat_part;       // GEMM statistics epilogue partials [B/kStatRows × 2 × max width]
};

inline bool has_epilogue(const BlockSpec& s, Mode mode) { return s.epilogue && s.epilogue->active(mode); }

// The block's output as the next block and the loss see it.
inline const float* block_output(const BlockSpec& s, const BlockBuffers& w, Mode mode) {
  return has_epilogue(s, mode) ? w.epi_out.data() : w.out.data();
}

// Forward of block s on X [B × s.in] into w.out (and w.epi_out). keep_logits: the loss needs
// post_act's input (w.logits). packed_kernel: s.kernel already packed for gemm_prepacked, or
// nullptr. step keys the epilogue's randomness.
void block_forward(const KernelTable& K, const BlockSpec& s, BlockBuffers& w, float* stat_part,
                   const float* X, size_t B, Mode mode, bool keep_logits,
                   const float* packed_kernel, uint64_t step);

// Backward of block s (after a training forward of the same step) from dY = cur [B × s.out],
// which it may overwrite: fills the block's gradients and, when dX != nullptr, writes the input
// gradient there. post is the activation to differentiate (linear when the loss already gave
// the gradient of the logits).
void block_backward(const KernelTable& K, const BlockSpec& s, BlockBuffers& w, StepScratch& sc,
                    const float* X, size_t B, float* cur, Act post, float* dX, uint64_t step);

// Block s's batch-norm input for X in inference mode (Dense + pre_act), into A [B × s.out].
void block_bn_input(const KernelTable& K, const BlockSpec& s, const float* X, size_t B, float* A);

}  // namespace densenorm

// One fused block's passes, forward and backward: [Dense] → pre_act → [BatchNorm] → post_act.
#pragma once
#include <cstddef>
#include <vector>

#include "densenorm/kernels.h"
#include "densenorm/model.h"

namespace densenorm {

// One block's activations and statistics for the current batch.
struct BlockBuffers {
  std::vector<float> bn_in;   // the batch-norm input (= pre_act output) [B × out]
  std::vector<float> logits;  // the last block only: post_act's input [B × out]
  std::vector<float> out;     // the block output [B × out]
  std::vector<float> mean, var, invstd;  // statistics used (batch or moving)
  std::vector<float> scale, shift;       // the folded γ·invstd and β − mean·scale
  std::vector<float> sum_du, sum_du_xhat;  // batch-norm backward sums (β and γ gradients)
  std::vector<float> stat_shift;  // the GEMM statistics epilogue's per-feature shift
};

// Buffers one step shares between its blocks.
struct StepScratch {
  std::vector<float> grad_a, grad_b;  // gradient ping-pong [B × max width]
  std::vector<float> d;               // dU / dA scratch [B × max width]
  std::vector<float> bn_part;         // batch-norm backward partial sums [row chunks × 2 × max width]
  std::vector<float> bn_prescaled;    // batch-norm dx pre-scaled sums [4 × max width]
  std::vector<float> stat_part;       // GEMM statistics epilogue partials [B/kStatRows × 2 × max width]
};

// Forward of block s on X [B × s.in] into w.out. keep_logits: the loss needs post_act's input
// (w.logits). packed_kernel: s.kernel already packed for gemm_prepacked, or nullptr.
void block_forward(const KernelTable& K, const BlockSpec& s, BlockBuffers& w, float* stat_part,
                   const float* X, size_t B, Mode mode, bool keep_logits,
                   const float* packed_kernel);

// Backward of block s (after a training forward) from dY = cur [B × s.out]: fills the block's
// gradients and, when dX != nullptr, writes the input gradient there. post is the activation to
// differentiate (linear when the loss already gave the gradient of the logits).
void block_backward(const KernelTable& K, const BlockSpec& s, BlockBuffers& w, StepScratch& sc,
                    const float* X, size_t B, const float* cur, Act post, float* dX);

// Block s's batch-norm input for X in inference mode (Dense + pre_act), into A [B × s.out].
void block_bn_input(const KernelTable& K, const BlockSpec& s, const float* X, size_t B, float* A);

}  // namespace densenorm

// batchNormalization over the batch axis: y = γ·(x − μ)/√(σ² + ε) + β with batch statistics in
// training, moving ones otherwise. Fills a block's normalization part.
#include <cmath>

#include "core/ops/op.h"

namespace densenorm {
namespace {

unsigned parts(const OpSpec&) { return 1u << kNormPart; }

Status apply(const OpSpec& op, int, BlockSpec& b) {
  const size_t n = b.out;
  b.has_bn = true;
  b.epsilon = static_cast<float>(op.number("epsilon", 1e-3));
  if (!(b.epsilon > 0)) return Status::Invalid("Expected epsilon > 0 but received " + std::to_string(b.epsilon));
  // No momentum: the moving statistics are the cumulative average of the batch statistics.
  b.cumulative = !op.has("momentum");
  b.momentum = b.cumulative ? 0.f : static_cast<float>(op.number("momentum", 0.99));
  if (!b.cumulative && !(b.momentum >= 0 && b.momentum <= 1))
    return Status::Invalid("Expected momentum in [0, 1] but received " + std::to_string(b.momentum));
  b.bn_trainable = op.number("trainable", 1) != 0;
  Status st = op_f32(op, "gamma", n, true, &b.gamma);
  if (st.ok()) st = op_f32(op, "beta", n, true, &b.beta);
  if (st.ok()) st = op_f32(op, "movingMean", n, false, &b.moving_mean);
  if (st.ok()) st = op_f32(op, "movingVariance", n, false, &b.moving_var);
  if (st.ok()) st = op_f64(op, "numBatches", 1, !b.cumulative, &b.num_batches);
  if (st.ok()) st = op_f32(op, "gradGamma", n, true, &b.grad_gamma);
  if (st.ok()) st = op_f32(op, "gradBeta", n, true, &b.grad_beta);
  return st;
}

const OpDef kBatchNormalization{"batchNormalization", parts, nullptr, apply};

}  // namespace
DENSENORM_OP(kBatchNormalization);
}  // namespace densenorm

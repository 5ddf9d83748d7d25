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
  if (!st.ok()) return st;
  const double vb = op.number("virtualBatchSize", 0);
  if (!(vb == 0 || (vb >= 2 && vb <= 1e9 && std::floor(vb) == vb)))
    return Status::Invalid("Expected virtualBatchSize to be an integer >= 2 but received " + std::to_string(vb));
  b.virtual_batch = static_cast<size_t>(vb);
  b.renorm = op.number("renorm", 0) != 0;
  if (!b.renorm) return st;
  if (b.virtual_batch > 0) return Status::Invalid("renorm and virtualBatchSize cannot be combined");
  // Absent clipping bounds: no clipping (Keras's renorm_clipping None).
  b.rmax = static_cast<float>(op.number("rmax", INFINITY));
  b.rmin = static_cast<float>(op.number("rmin", 0));
  b.dmax = static_cast<float>(op.number("dmax", INFINITY));
  if (!(b.rmax >= 1 && b.rmin >= 0 && b.rmin <= 1 && b.dmax >= 0))
    return Status::Invalid("Expected renormClipping with rmax >= 1, 0 <= rmin <= 1 and dmax >= 0");
  b.renorm_momentum = static_cast<float>(op.number("renormMomentum", 0.99));
  if (!(b.renorm_momentum >= 0 && b.renorm_momentum <= 1))
    return Status::Invalid("Expected renormMomentum in [0, 1] but received " + std::to_string(b.renorm_momentum));
  st = op_f32(op, "renormMean", n, false, &b.renorm_mean);
  if (st.ok()) st = op_f32(op, "renormStddev", n, false, &b.renorm_stddev);
  return st;
}

const OpDef kBatchNormalization{"batchNormalization", parts, nullptr, apply};

}  // namespace
DENSENORM_OP(kBatchNormalization);
}  // namespace densenorm

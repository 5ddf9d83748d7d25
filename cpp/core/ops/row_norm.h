// What layerNormalization and groupNormalization share: the block's row-normalization part.
#pragma once
#include <string>

#include "core/ops/op.h"

namespace densenorm {

inline Status apply_row_norm(const OpSpec& op, size_t groups, BlockSpec& b) {
  const size_t n = b.out;
  b.has_row_norm = true;
  b.norm_groups = groups;
  b.rms = op.number("rms", 0) != 0;
  b.epsilon = static_cast<float>(op.number("epsilon", 1e-3));
  if (!(b.epsilon > 0)) return Status::Invalid("Expected epsilon > 0 but received " + std::to_string(b.epsilon));
  Status st = op_f32(op, "gamma", n, true, &b.gamma);
  if (st.ok() && !b.rms) st = op_f32(op, "beta", n, true, &b.beta);
  if (st.ok()) st = op_f32(op, "gradGamma", n, true, &b.grad_gamma);
  if (st.ok() && !b.rms) st = op_f32(op, "gradBeta", n, true, &b.grad_beta);
  return st;
}

}  // namespace densenorm

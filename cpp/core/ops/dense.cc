// dense: Y = activation(X·kernel + bias), kernel [in × units] row-major (Keras order). Opens a
// block; its activation is the block's pre-activation.
#include "core/ops/op.h"

namespace densenorm {
namespace {

unsigned parts(const OpSpec&) { return 1u << kDensePart; }

int last_part(const OpSpec& op, int part) {
  auto it = op.str.find("activation");
  return it != op.str.end() && it->second != "linear" ? kPreActPart : part;
}

Status apply(const OpSpec& op, int, BlockSpec& b) {
  const double units = op.number("units", 0);
  if (!(units >= 1 && units <= static_cast<double>(kMaxFeatures)) || units != static_cast<double>(static_cast<size_t>(units)))
    return Status::Invalid("Expected units to be an integer from 1 to " + std::to_string(kMaxFeatures) +
                           " but received " + std::to_string(units));
  b.out = static_cast<size_t>(units);
  const size_t w = b.in * b.out;
  Status st = op_f32(op, "kernel", w, false, &b.kernel);
  if (st.ok()) st = op_f32(op, "bias", b.out, true, &b.bias);
  b.dense_trainable = op.number("trainable", 1) != 0;
  if (st.ok()) st = op_f32(op, "gradKernel", w, !b.dense_trainable, &b.grad_kernel);
  if (st.ok()) st = op_f32(op, "gradBias", b.out, true, &b.grad_bias);
  if (st.ok()) st = op_activation(op, "activation", &b.pre_act);
  return st;
}

const OpDef kDense{"dense", parts, last_part, apply};

}  // namespace
DENSENORM_OP(kDense);
}  // namespace densenorm

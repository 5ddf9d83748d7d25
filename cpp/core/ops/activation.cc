// activation: elementwise (or row-wise softmax). A block's pre-activation when nothing but a
// linear Dense precedes it, else its post-activation.
#include "core/ops/op.h"

namespace densenorm {
namespace {

unsigned parts(const OpSpec&) { return (1u << kPreActPart) | (1u << kPostActPart); }

Status apply(const OpSpec& op, int part, BlockSpec& b) {
  return op_activation(op, "activation", part == kPreActPart ? &b.pre_act : &b.post_act);
}

const OpDef kActivation{"activation", parts, nullptr, apply};

}  // namespace
DENSENORM_OP(kActivation);
}  // namespace densenorm

// groupNormalization: per row over each of `groups` contiguous groups of features (Wu & He
// 2018), γ and β per feature; groups 1 is layer normalization. Fills a block's normalization
// part.
#include <cmath>

#include "core/ops/row_norm.h"

namespace densenorm {
namespace {

unsigned parts(const OpSpec&) { return 1u << kNormPart; }

Status apply(const OpSpec& op, int, BlockSpec& b) {
  const double groups = op.number("groups", 32);
  if (!(groups >= 1 && std::floor(groups) == groups && groups <= static_cast<double>(b.out) &&
        b.out % static_cast<size_t>(groups) == 0))
    return Status::Invalid("Expected groups to divide the feature count " + std::to_string(b.out) +
                           " but received " + std::to_string(groups));
  return apply_row_norm(op, static_cast<size_t>(groups), b);
}

const OpDef kGroupNormalization{"groupNormalization", parts, nullptr, apply};

}  // namespace
DENSENORM_OP(kGroupNormalization);
}  // namespace densenorm

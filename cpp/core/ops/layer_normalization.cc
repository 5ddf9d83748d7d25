// layerNormalization: per row over all features, y = γ·(x − μ_row)/√(σ²_row + ε) + β, in every
// mode (no moving statistics); rms: y = γ·x/√(mean(x²) + ε) (RMSNorm). Fills a block's
// normalization part.
#include "core/ops/row_norm.h"

namespace densenorm {
namespace {

unsigned parts(const OpSpec&) { return 1u << kNormPart; }

Status apply(const OpSpec& op, int, BlockSpec& b) { return apply_row_norm(op, 1, b); }

const OpDef kLayerNormalization{"layerNormalization", parts, nullptr, apply};

}  // namespace
DENSENORM_OP(kLayerNormalization);
}  // namespace densenorm

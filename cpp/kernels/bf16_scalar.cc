// bf16 GEMM, scalar table: the emulation (bf16-rounded operands, fp32 multiply-add) on one lane;
// the bf16 products are exact, so a*b+c here gives the bits of an FMA elsewhere.
#define DENSENORM_KERNEL_NS scalar
#include "bf16_impl.h"

namespace densenorm {
namespace scalar {
namespace bf16 {
using ScalarEmu = EmuKernel<Scalar, 4, 4>;
}  // namespace bf16
}  // namespace scalar
}  // namespace densenorm

DENSENORM_DEFINE_BF16_GEMM(scalar, EmuLayout, DENSENORM_KERNEL_NS::bf16::ScalarEmu, 4)

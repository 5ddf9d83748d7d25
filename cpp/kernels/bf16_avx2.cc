// bf16 GEMM, AVX2 table: the emulation on 4x16 tiles (8 ymm accumulators + 4 B + 2 broadcasts).
#if !defined(__AVX2__) || !defined(__FMA__)
#error "bf16_avx2.cc must be compiled with -mavx2 -mfma"
#endif
#define DENSENORM_KERNEL_NS avx2
#include "bf16_impl.h"

namespace densenorm {
namespace avx2 {
namespace bf16 {
using Avx2Emu = EmuKernel<Avx2, 4, 2>;
}  // namespace bf16
}  // namespace avx2
}  // namespace densenorm

DENSENORM_DEFINE_BF16_GEMM(avx2, EmuLayout, DENSENORM_KERNEL_NS::bf16::Avx2Emu, 4)

// AArch64 NEON (Advanced SIMD) kernel table: the same templates as the x86 paths over the Neon
// struct in simd.h (float32x4_t, vfmaq_f32). Built on aarch64 only; NEON is part of the base ISA.
// GEMM microkernel: 6x16 (24 of the 32 q registers as accumulators + 4 B vectors + 1 broadcast).
#if !defined(__aarch64__) || !defined(__ARM_NEON)
#error "kernels_neon.cc is for AArch64 builds only"
#endif
#define DENSENORM_KERNEL_NS neon
#include "kernels_impl.h"

DENSENORM_DEFINE_KERNEL_TABLE(neon, Neon, 6, 4, 6x16)

// AVX2 + FMA kernel table (compiled with -mavx2 -mfma; only called after CPUID/XGETBV checks).
// GEMM microkernel: 6x16 (12 ymm accumulators + 2 B vectors + 1 broadcast).
#if !defined(__AVX2__) || !defined(__FMA__)
#error "kernels_avx2.cc must be compiled with -mavx2 -mfma"
#endif
#define DENSENORM_KERNEL_NS avx2
#include "kernels_impl.h"

DENSENORM_DEFINE_KERNEL_TABLE(avx2, Avx2, 6, 2, 6x16)

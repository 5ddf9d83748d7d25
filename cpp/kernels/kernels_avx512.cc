// AVX-512 (F/DQ/BW/VL) kernel table (compiled with -mavx512f -mavx512dq -mavx512vl -mavx512bw
// -mfma; only called after CPUID/XGETBV checks). Same templates as the AVX2 path; the only
// AVX-512-specific code is the Avx512 struct in simd.h (masked tails via __mmask16).
// GEMM microkernel: 8x32 (16 zmm accumulators + 2 B vectors + 1 broadcast).
#if !defined(__AVX512F__)
#error "kernels_avx512.cc must be compiled with -mavx512f (and dq/vl/bw, fma)"
#endif
// GCC 12 false positive inside avx512fintrin.h (_mm512_undefined_ps) at -O3; clang (which also
// defines __GNUC__) lacks this warning group and would warn about the pragma itself.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define DENSENORM_KERNEL_NS avx512
#include "kernels_impl.h"

DENSENORM_DEFINE_KERNEL_TABLE(avx512, Avx512, 8, 2, 8x32)

// GEMM cache blocking, shared by every ISA's GEMM (kernels_impl.h) and defined once in
// kernels_scalar.cc (no ISA flags: it reads the cache sizes with libc calls).
#pragma once
#include <cstddef>

namespace densenorm {

// Blocking for an MR x NR microkernel, from the CPU's cache sizes (read once at run time:
// sysconf, then /sys/devices/system/cpu/cpu0/cache, then fixed defaults).
//   kc: K block; a kc x NR B micro-panel fills about 3/4 of L1d;
//   mc: rows of the packed A block (mc x kc in about 3/8 of L2);
//   nc: columns of the packed B block (kc x nc in a share of L3).
// A process constant, so the K-block boundaries (and results) never depend on the thread count.
struct GemmBlocking {
  size_t kc, mc, nc;
};
GemmBlocking gemm_blocking(size_t mr, size_t nr);

}  // namespace densenorm

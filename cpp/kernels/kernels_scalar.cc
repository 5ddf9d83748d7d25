// Scalar (width-1) kernel table: the portable baseline, compiled without ISA flags.
// Also home of kernel_scratch() (kept in this baseline TU on purpose: std::vector code must not be
// instantiated inside the AVX2/AVX-512 translation units, see kernels_impl.h).
#include <cstdint>
#include <vector>

#include "densenorm/kernels.h"

namespace densenorm {

float* kernel_scratch(int slot, size_t n) {
  thread_local std::vector<float> bufs[4];
  std::vector<float>& b = bufs[slot & 3];
  const size_t need = n + 16;  // room to align to 64 bytes
  if (b.size() < need) b.resize(need);
  uintptr_t p = reinterpret_cast<uintptr_t>(b.data());
  p = (p + 63) & ~static_cast<uintptr_t>(63);
  return reinterpret_cast<float*>(p);
}

}  // namespace densenorm

#define DENSENORM_KERNEL_NS scalar
#include "kernels_impl.h"

DENSENORM_DEFINE_KERNEL_TABLE(scalar, Scalar, 4, 4, 4x4)

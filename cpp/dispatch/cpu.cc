// CPU feature detection: CPUID for the instruction-set bits, XGETBV for the register state the
// OS saves/restores (an ISA is usable only when both agree). Compiled without ISA flags.
#include <cstdint>

#include "densenorm/kernels.h"

// DENSENORM_X86_64_TABLES: CMake builds the AVX tables (x86-64 targets); DENSENORM_NEON_TABLES:
// the NEON table (AArch64 targets); elsewhere only scalar.
#if DENSENORM_X86_64_TABLES
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>  // MSVC: __cpuidex, _xgetbv (no <cpuid.h>, no GNU inline asm)
#else
#include <cpuid.h>
#endif
#endif

namespace densenorm {
namespace {

struct CpuFeatures {
  bool avx2 = false;    // AVX + AVX2 + FMA, YMM state enabled by the OS
  bool avx512 = false;  // + AVX512F/DQ/BW/VL, opmask/ZMM state enabled by the OS
};

#if DENSENORM_X86_64_TABLES
void cpuid(unsigned leaf, unsigned sub, unsigned& eax, unsigned& ebx, unsigned& ecx, unsigned& edx) {
#if defined(_MSC_VER) && !defined(__clang__)
  int r[4];
  __cpuidex(r, static_cast<int>(leaf), static_cast<int>(sub));
  eax = static_cast<unsigned>(r[0]), ebx = static_cast<unsigned>(r[1]);
  ecx = static_cast<unsigned>(r[2]), edx = static_cast<unsigned>(r[3]);
#else
  __cpuid_count(leaf, sub, eax, ebx, ecx, edx);
#endif
}

uint64_t read_xcr0() {
#if defined(_MSC_VER) && !defined(__clang__)
  return _xgetbv(0);
#else
  uint32_t eax, edx;
  // xgetbv with ecx=0 (XCR0); encoded directly so no -mxsave is needed.
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
#endif
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned eax, ebx, ecx, edx;
  cpuid(0, 0, eax, ebx, ecx, edx);  // leaf 0 exists on every x86-64 CPU
  const unsigned max_leaf = eax;
  if (max_leaf < 7) return f;
  cpuid(1, 0, eax, ebx, ecx, edx);
  const bool fma = (ecx >> 12) & 1;
  const bool osxsave = (ecx >> 27) & 1;
  const bool avx = (ecx >> 28) & 1;
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = read_xcr0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;         // bits 1 (SSE), 2 (AVX)
  const bool zmm_state = (xcr0 & 0xE6) == 0xE6;       // + bits 5 (opmask), 6, 7 (ZMM)
  cpuid(7, 0, eax, ebx, ecx, edx);
  const bool avx2 = (ebx >> 5) & 1;
  const bool avx512f = (ebx >> 16) & 1;
  const bool avx512dq = (ebx >> 17) & 1;
  const bool avx512bw = (ebx >> 30) & 1;
  const bool avx512vl = (ebx >> 31) & 1;
  f.avx2 = avx2 && fma && ymm_state;
  f.avx512 = f.avx2 && avx512f && avx512dq && avx512bw && avx512vl && zmm_state;
  return f;
}
#else
CpuFeatures detect() { return CpuFeatures{}; }
#endif

[[maybe_unused]] const CpuFeatures& features() {  // unused on AArch64 builds
  static const CpuFeatures f = detect();  // thread-safe static init
  return f;
}

}  // namespace

Isa detected_isa() {
#if DENSENORM_NEON_TABLES
  return Isa::neon;  // Advanced SIMD is mandatory on AArch64
#else
  const CpuFeatures& f = features();
  if (f.avx512) return Isa::avx512;
  if (f.avx2) return Isa::avx2;
  return Isa::scalar;
#endif
}

bool isa_runs(Isa isa) {
  switch (isa) {
    case Isa::scalar: return true;
#if DENSENORM_X86_64_TABLES
    case Isa::avx2: return features().avx2;
    case Isa::avx512: return features().avx512;
#endif
#if DENSENORM_NEON_TABLES
    case Isa::neon: return true;
#endif
    default: return false;
  }
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    case Isa::neon: return "neon";
    default: return "scalar";
  }
}

}  // namespace densenorm

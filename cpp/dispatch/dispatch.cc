// Chooses the one KernelTable for the process, once (std::call_once): the best ISA the CPU and OS
// support, or the one DENSENORM_ISA=scalar|avx2|avx512|neon forces (it can only lower the choice:
// forcing an ISA the CPU or build lacks, or an unknown name, makes init_kernels() return an error).
#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "densenorm/kernels.h"
#include "densenorm/settings.h"

namespace densenorm {

// Per-ISA tables (cpp/kernels/kernels_<isa>.cc); the build has the AVX ones on x86-64 targets
// only and the NEON one on AArch64 only.
const KernelTable* densenorm_kernel_table_scalar();
#if DENSENORM_X86_64_TABLES
const KernelTable* densenorm_kernel_table_avx2();
const KernelTable* densenorm_kernel_table_avx512();
#endif
#if DENSENORM_NEON_TABLES
const KernelTable* densenorm_kernel_table_neon();
#endif

namespace {

std::once_flag g_once;
std::atomic<const KernelTable*> g_active{nullptr};
const char* g_error = nullptr;
char g_error_buf[256];

// "scalar, avx2, ..." for the ISAs isa_runs() accepts.
const char* supported_list() {
  static char buf[64];
  buf[0] = 0;
  for (int i = 0; i < kIsaCount; ++i) {
    if (!isa_runs(static_cast<Isa>(i))) continue;
    if (buf[0]) std::strncat(buf, ", ", sizeof buf - std::strlen(buf) - 1);
    std::strncat(buf, isa_name(static_cast<Isa>(i)), sizeof buf - std::strlen(buf) - 1);
  }
  return buf;
}

const char* lacks(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "AVX-512 (F/DQ/BW/VL with OS-enabled ZMM state)";
    case Isa::avx2: return "AVX2+FMA (with OS-enabled YMM state)";
    case Isa::neon: return "NEON (AArch64 Advanced SIMD; this is not an AArch64 build)";
    default: return "it";
  }
}

void choose() {
  const Isa best = detected_isa();
  Isa want = best;
  const settings::IsaRequest& req = settings::isa_request();
  if (req.given) {
    if (!req.known) {
      std::snprintf(g_error_buf, sizeof g_error_buf,
                    "DENSENORM_ISA=%.64s is not a known ISA (expected scalar, avx2, avx512 or neon; "
                    "this CPU supports: %s)",
                    req.text.c_str(), supported_list());
      g_error = g_error_buf;
      return;
    }
    want = req.isa;
    if (!isa_runs(want)) {
      std::snprintf(g_error_buf, sizeof g_error_buf,
                    "DENSENORM_ISA=%s but this CPU lacks %s (supported: %s)", isa_name(want),
                    lacks(want), supported_list());
      g_error = g_error_buf;
      return;
    }
  }
  g_active.store(kernels_for(want), std::memory_order_release);
}

}  // namespace

const KernelTable* kernels_for(Isa isa) {
  if (!isa_runs(isa)) return nullptr;
  switch (isa) {
    case Isa::scalar: return densenorm_kernel_table_scalar();
#if DENSENORM_X86_64_TABLES
    case Isa::avx2: return densenorm_kernel_table_avx2();
    case Isa::avx512: return densenorm_kernel_table_avx512();
#endif
#if DENSENORM_NEON_TABLES
    case Isa::neon: return densenorm_kernel_table_neon();
#endif
    default: return nullptr;
  }
}

const char* init_kernels() {
  std::call_once(g_once, choose);
  return g_error;
}

const KernelTable& kernels() {
  const KernelTable* t = g_active.load(std::memory_order_acquire);
  if (t != nullptr) return *t;
  init_kernels();
  t = g_active.load(std::memory_order_acquire);
  // init_kernels() failed (bad DENSENORM_ISA) and the caller went on anyway: fall back to the
  // scalar table, which runs everywhere, rather than crash.
  return t != nullptr ? *t : *densenorm_kernel_table_scalar();
}

}  // namespace densenorm

// Chooses the one KernelTable for the process, once (std::call_once): the best ISA the CPU and OS
// support, or the one DENSENORM_ISA=scalar|avx2|avx512 forces (it can only lower the choice:
// forcing an ISA the CPU lacks, or an unknown name, makes init_kernels() return an error).
#include <atomic>
#include <cstdio>
#include <mutex>

#include "densenorm/kernels.h"
#include "densenorm/settings.h"

namespace densenorm {

// Per-ISA tables (cpp/kernels/kernels_<isa>.cc); CMake builds the AVX ones on x86-64 hosts only.
const KernelTable* densenorm_kernel_table_scalar();
#if DENSENORM_X86_64_TABLES
const KernelTable* densenorm_kernel_table_avx2();
const KernelTable* densenorm_kernel_table_avx512();
#endif

namespace {

std::once_flag g_once;
std::atomic<const KernelTable*> g_active{nullptr};
const char* g_error = nullptr;
char g_error_buf[256];

const char* supported_list(Isa best) {
  switch (best) {
    case Isa::avx512: return "scalar, avx2, avx512";
    case Isa::avx2: return "scalar, avx2";
    default: return "scalar";
  }
}

void choose() {
  const Isa best = detected_isa();
  Isa want = best;
  const settings::IsaRequest& req = settings::isa_request();
  if (req.given) {
    if (!req.known) {
      std::snprintf(g_error_buf, sizeof g_error_buf,
                    "DENSENORM_ISA=%.64s is not a known ISA (expected scalar, avx2 or avx512; "
                    "this CPU supports: %s)",
                    req.text.c_str(), supported_list(best));
      g_error = g_error_buf;
      return;
    }
    want = req.isa;
    if (static_cast<int>(want) > static_cast<int>(best)) {
      std::snprintf(g_error_buf, sizeof g_error_buf,
                    "DENSENORM_ISA=%s but this CPU lacks %s (supported: %s)", isa_name(want),
                    want == Isa::avx512 ? "AVX-512 (F/DQ/BW/VL with OS-enabled ZMM state)"
                                        : "AVX2+FMA (with OS-enabled YMM state)",
                    supported_list(best));
      g_error = g_error_buf;
      return;
    }
  }
  g_active.store(kernels_for(want), std::memory_order_release);
}

}  // namespace

const KernelTable* kernels_for(Isa isa) {
  if (static_cast<int>(isa) > static_cast<int>(detected_isa())) return nullptr;
  switch (isa) {
    case Isa::scalar: return densenorm_kernel_table_scalar();
#if DENSENORM_X86_64_TABLES
    case Isa::avx2: return densenorm_kernel_table_avx2();
    case Isa::avx512: return densenorm_kernel_table_avx512();
#else
    default: return nullptr;
#endif
  }
  return nullptr;
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

// Chooses the bf16 GEMM table (densenorm/bf16.h): the native VDPBF16PS kernel only when CPUID
// says AVX512_BF16 and AVX-512 is usable, never on a CPU without the bit; DENSENORM_BF16=emulate
// forces the emulation. Compiled without ISA flags.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "densenorm/bf16.h"

#if DENSENORM_X86_64_TABLES
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace densenorm {

void densenorm_bf16_table_scalar(KernelTable* t);
#if DENSENORM_X86_64_TABLES
void densenorm_bf16_table_avx2(KernelTable* t);
void densenorm_bf16_table_avx512(KernelTable* t);
#if defined(__GNUC__) || defined(__clang__)
#define DN_HAVE_BF16_NATIVE 1
void densenorm_bf16_table_avx512bf16(KernelTable* t);
#endif
#endif

namespace {

bool detect_bf16() {
#if DENSENORM_X86_64_TABLES && DN_HAVE_BF16_NATIVE
  if (detected_isa() != Isa::avx512) return false;  // needs AVX-512 with OS-enabled ZMM state
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  if (eax < 1) return false;  // no subleaf 1
  __cpuid_count(7, 1, eax, ebx, ecx, edx);
  return (eax >> 5) & 1;
#else
  return false;
#endif
}

enum class Mode { kAuto, kEmulate, kNative };
struct Choice {
  Mode mode = Mode::kAuto;
  const char* error = nullptr;
  char buf[160];
};

const Choice& choice() {
  static const Choice c = [] {
    Choice r;
    const char* v = std::getenv("DENSENORM_BF16");
    if (!v || !*v || std::strcmp(v, "auto") == 0) return r;
    if (std::strcmp(v, "emulate") == 0) r.mode = Mode::kEmulate;
    else if (std::strcmp(v, "native") == 0) r.mode = Mode::kNative;
    else {
      std::snprintf(r.buf, sizeof r.buf,
                    "DENSENORM_BF16=%.40s is not one of auto, emulate, native", v);
      r.error = r.buf;
      return r;
    }
    if (r.mode == Mode::kNative && !cpu_has_avx512_bf16())
      r.error = "DENSENORM_BF16=native but this CPU lacks AVX512_BF16 (CPUID.(EAX=7,ECX=1):EAX bit 5)";
    return r;
  }();
  return c;
}

struct Tables {
  KernelTable emu[3];
  bool has_emu[3] = {false, false, false};
  KernelTable native;
  bool has_native = false;
};

const Tables& tables() {
  static const Tables t = [] {
    Tables r;
    for (int i = 0; i < 3; ++i) {
      const KernelTable* base = kernels_for(static_cast<Isa>(i));
      if (!base) continue;
      r.emu[i] = *base;
      switch (static_cast<Isa>(i)) {
        case Isa::scalar: densenorm_bf16_table_scalar(&r.emu[i]); break;
#if DENSENORM_X86_64_TABLES
        case Isa::avx2: densenorm_bf16_table_avx2(&r.emu[i]); break;
        case Isa::avx512: densenorm_bf16_table_avx512(&r.emu[i]); break;
#endif
        default: break;
      }
      r.has_emu[i] = true;
    }
#if DENSENORM_X86_64_TABLES && DN_HAVE_BF16_NATIVE
    if (cpu_has_avx512_bf16() && r.has_emu[2]) {
      r.native = *kernels_for(Isa::avx512);
      densenorm_bf16_table_avx512bf16(&r.native);
      r.has_native = true;
    }
#endif
    return r;
  }();
  return t;
}

}  // namespace

bool cpu_has_avx512_bf16() {
  static const bool has = detect_bf16();
  return has;
}

const char* bf16_setting_error() { return choice().error; }

const KernelTable* kernels_bf16_for(Isa isa, bool native) {
  const Tables& t = tables();
  if (native) return isa == Isa::avx512 && t.has_native ? &t.native : nullptr;
  const int i = static_cast<int>(isa);
  return i >= 0 && i < 3 && t.has_emu[i] ? &t.emu[i] : nullptr;
}

bool bf16_native() {
  return kernels().isa == Isa::avx512 && tables().has_native && choice().mode != Mode::kEmulate;
}

const KernelTable& kernels_bf16() {
  if (bf16_native()) return tables().native;
  const KernelTable* t = kernels_bf16_for(kernels().isa, false);
  return t ? *t : tables().emu[0];
}

}  // namespace densenorm

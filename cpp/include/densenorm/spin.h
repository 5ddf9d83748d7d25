// cpu_relax(): the hint for one turn of a spin-wait loop (it lets a sibling hyperthread run and
// saves power while the loop waits on another core's store).
#pragma once

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>  // MSVC has neither __builtin_ia32_pause nor GNU inline asm
#endif

namespace densenorm {

inline void cpu_relax() {
#if defined(_MSC_VER) && !defined(__clang__)
#if defined(_M_X64) || defined(_M_IX86)
  _mm_pause();
#elif defined(_M_ARM64)
  __yield();
#endif
#elif defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

}  // namespace densenorm

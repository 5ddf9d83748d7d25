// cpu_relax(): the hint for one turn of a spin-wait loop (it lets a sibling hyperthread run and
// saves power while the loop waits on another core's store).
#pragma once

namespace densenorm {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

}  // namespace densenorm

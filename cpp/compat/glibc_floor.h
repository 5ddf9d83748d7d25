// Force-included (-include) into every translation unit of glibc Linux builds (CMakeLists.txt,
// binding.gyp) so the .node needs no GLIBC_ symbol version above 2.28 although it is built
// against glibc 2.36 (Debian 12): scripts/check-glibc.js asserts that on each prebuild.
//  * exp/log/pow got new versions in 2.29 (the same functions without the errno wrapper) and
//    pthread_once moved into libc in 2.34: bind to the versions every glibc since 2.17 has.
//  * __libc_single_threaded (2.32) is read by libstdc++'s inline reference counting: a hidden
//    copy that always says "multi-threaded" (atomic updates, as on older glibc) replaces it.
#pragma once
#if defined(__linux__)
#include <features.h>  // defines __GLIBC__ (this header comes before any other)
#endif
#if defined(__linux__) && defined(__GLIBC__) && !defined(DENSENORM_NO_GLIBC_FLOOR)
#if defined(__x86_64__)
#define DN_GLIBC_OLD "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define DN_GLIBC_OLD "GLIBC_2.17"
#endif
#ifdef DN_GLIBC_OLD
__asm__(".symver exp,exp@" DN_GLIBC_OLD);
__asm__(".symver log,log@" DN_GLIBC_OLD);
__asm__(".symver pow,pow@" DN_GLIBC_OLD);
__asm__(".symver pthread_once,pthread_once@" DN_GLIBC_OLD);
#endif
#undef DN_GLIBC_OLD
#define __libc_single_threaded densenorm_libc_single_threaded
#ifdef __cplusplus
extern "C" {
#endif
// Defined once (settings.cc); 0 = more than one thread may exist.
extern char densenorm_libc_single_threaded __attribute__((visibility("hidden")));
#ifdef __cplusplus
}
#endif
#endif

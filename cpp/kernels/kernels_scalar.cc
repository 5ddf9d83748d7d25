// Scalar (width-1) kernel table: the portable baseline, compiled without ISA flags.
// Also home of kernel_scratch() (kept in this baseline TU on purpose: std::vector code must not be
// instantiated inside the AVX2/AVX-512 translation units, see kernels_impl.h).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <vector>

#include "densenorm/kernels.h"
#include "densenorm/settings.h"
#include "gemm_blocking.h"

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

namespace {

struct CacheSizes {
  size_t l1d, l2, l3;
};

// /sys/devices/system/cpu/cpu0/cache/index<i>/{level,type,size}: size like "32K" or "32768K".
size_t sys_cache_size(int level) {
  for (int i = 0; i < 8; ++i) {
    char path[96];
    std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
    FILE* f = std::fopen(path, "r");
    if (!f) break;
    int lv = 0;
    const bool ok = std::fscanf(f, "%d", &lv) == 1;
    std::fclose(f);
    if (!ok || lv != level) continue;
    std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
    char type[32] = {0};
    if ((f = std::fopen(path, "r"))) {
      if (std::fscanf(f, "%31s", type) != 1) type[0] = 0;
      std::fclose(f);
    }
    if (type[0] == 'I') continue;  // instruction cache
    std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
    if (!(f = std::fopen(path, "r"))) continue;
    unsigned long v = 0;
    char unit = 0;
    const int n = std::fscanf(f, "%lu%c", &v, &unit);
    std::fclose(f);
    if (n < 1) continue;
    if (unit == 'K') v <<= 10;
    else if (unit == 'M') v <<= 20;
    return v;
  }
  return 0;
}

CacheSizes detect_caches() {
  CacheSizes c{0, 0, 0};
#ifdef _SC_LEVEL1_DCACHE_SIZE
  long v = sysconf(_SC_LEVEL1_DCACHE_SIZE);
  if (v > 0) c.l1d = static_cast<size_t>(v);
  v = sysconf(_SC_LEVEL2_CACHE_SIZE);
  if (v > 0) c.l2 = static_cast<size_t>(v);
  v = sysconf(_SC_LEVEL3_CACHE_SIZE);
  if (v > 0) c.l3 = static_cast<size_t>(v);
#endif
  if (!c.l1d) c.l1d = sys_cache_size(1);
  if (!c.l2) c.l2 = sys_cache_size(2);
  if (!c.l3) c.l3 = sys_cache_size(3);
  // Sanity: defaults (a typical core's caches) for missing or absurd values.
  if (c.l1d < (16u << 10) || c.l1d > (256u << 10)) c.l1d = 32u << 10;
  if (c.l2 < (128u << 10) || c.l2 > (8u << 20)) c.l2 = 512u << 10;
  if (c.l3 < c.l2) c.l3 = 8u << 20;
  return c;
}

size_t clamp_sz(size_t v, size_t lo, size_t hi) { return v < lo ? lo : v > hi ? hi : v; }

}  // namespace

GemmBlocking gemm_blocking(size_t mr, size_t nr) {
  static const CacheSizes c = detect_caches();
  GemmBlocking b;
  // B micro-panel (kc x nr floats) in 3/4 of L1d, not half: fewer C tile loads/stores per k;
  // the A micro-panel and C tile use the rest.
  b.kc = clamp_sz(c.l1d * 3 / 4 / (nr * sizeof(float)), 64, 512) & ~static_cast<size_t>(7);
  // Packed A block (mc x kc) in about 3/8 of L2, leaving room for the B micro-panels streaming by.
  b.mc = clamp_sz(c.l2 * 3 / 8 / (b.kc * sizeof(float)), mr, 1024) / mr * mr;
  // Packed B block (kc x nc) in a share of L3 (it is shared with the other cores' blocks).
  const size_t l3 = c.l3 > (32u << 20) ? (32u << 20) : c.l3;
  b.nc = clamp_sz(l3 / 8 / (b.kc * sizeof(float)), nr * 4, 4096) / nr * nr;
  // Tuning overrides (settings.h: DENSENORM_GEMM_KC/MC/NC; 0 when unset).
  auto apply = [](size_t x, size_t v, size_t lo, size_t hi, size_t mult) {
    return x > 0 ? clamp_sz(x, lo, hi) / mult * mult : v;
  };
  b.kc = apply(settings::gemm_kc(), b.kc, 8, 4096, 4);
  b.mc = apply(settings::gemm_mc(), b.mc, mr, 8192, mr);
  b.nc = apply(settings::gemm_nc(), b.nc, nr, 1u << 20, nr);
  return b;
}

}  // namespace densenorm

#define DENSENORM_KERNEL_NS scalar
#include "kernels_impl.h"

DENSENORM_DEFINE_KERNEL_TABLE(scalar, Scalar, 4, 4, 4x4)

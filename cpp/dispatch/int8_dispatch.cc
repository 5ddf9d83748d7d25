// Chooses the int8 path (int8.h) and drives its GEMM over the thread pool. The path follows the
// float kernels' ISA (DENSENORM_ISA lowers it) plus the AVX512_VNNI CPUID bit; DENSENORM_NO_VNNI=1
// forces the AVX-512 widening route on a VNNI CPU (the fallback a CPU without VNNI runs).
#include <cstdlib>
#include <cstring>
#include <vector>

#include "densenorm/int8.h"
#include "densenorm/kernels.h"
#include "densenorm/parallel.h"

#if DENSENORM_X86_64_TABLES
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace densenorm {
namespace int8 {

const Table* int8_table_scalar();
#if DENSENORM_X86_64_TABLES
const Table* int8_table_avx2();
const Table* int8_table_avx512();
const Table* int8_table_vnni();
#endif

const char* path_name(Path p) {
  switch (p) {
    case Path::avx2: return "avx2";
    case Path::avx512: return "avx512";
    case Path::vnni: return "avx512_vnni";
    default: return "scalar";
  }
}

bool cpu_has_vnni() {
#if DENSENORM_X86_64_TABLES
  static const bool has = [] {
    if (detected_isa() != Isa::avx512) return false;  // needs usable ZMM state first
#if defined(_MSC_VER) && !defined(__clang__)
    int r[4];
    __cpuidex(r, 7, 0);
    return ((static_cast<unsigned>(r[2]) >> 11) & 1u) != 0;
#else
    unsigned a, b, c, d;
    __cpuid_count(7, 0, a, b, c, d);
    return ((c >> 11) & 1u) != 0;
#endif
  }();
  return has;
#else
  return false;
#endif
}

const Table* table_for(Path p) {
  switch (p) {
    case Path::scalar: return int8_table_scalar();
#if DENSENORM_X86_64_TABLES
    case Path::avx2: return kernels_for(Isa::avx2) ? int8_table_avx2() : nullptr;
    case Path::avx512: return kernels_for(Isa::avx512) ? int8_table_avx512() : nullptr;
    case Path::vnni: return cpu_has_vnni() ? int8_table_vnni() : nullptr;
#endif
    default: return nullptr;
  }
}

const Table& active() {
  static const Table* t = [] {
    const Isa isa = kernels().isa;
    const char* nv = std::getenv("DENSENORM_NO_VNNI");
    const bool no_vnni = nv != nullptr && nv[0] != '\0' && std::strcmp(nv, "0") != 0;
    Path p = isa == Isa::avx512 ? (cpu_has_vnni() && !no_vnni ? Path::vnni : Path::avx512)
             : isa == Isa::avx2 ? Path::avx2 : Path::scalar;
    const Table* r = table_for(p);
    return r != nullptr ? r : int8_table_scalar();
  }();
  return *t;
}

void qgemm(const Table& t, const QGemm& g) {
  if (g.M == 0 || g.N == 0) return;
  std::vector<int16_t> a16;
  if (t.wide) {
    a16.resize(g.M * g.lda);
    for (size_t i = 0; i < g.M * g.lda; ++i) a16[i] = g.A[i];
  }
  const size_t blocks = (g.N + t.block - 1) / t.block;
  const size_t threads = static_cast<size_t>(num_threads());
  const double work = static_cast<double>(g.M) * static_cast<double>(g.N) * static_cast<double>(g.K);
  if (threads <= 1 || work < 4e6) {
    t.gemm(g, a16.data(), 0, g.M, 0, blocks);
    return;
  }
  // Rows when there are enough of them (each task reuses its packed weights over its rows),
  // otherwise column blocks (batch 1: each thread reads only its share of the weights).
  const size_t row_tasks = g.M / (t.mr * 4);
  if (row_tasks >= threads) {
    const size_t tasks = threads;
    const size_t per = (g.M + tasks - 1) / tasks;
    const size_t step = (per + t.mr - 1) / t.mr * t.mr;
    parallel_for(tasks, [&](size_t k) {
      const size_t m0 = k * step, m1 = m0 + step < g.M ? m0 + step : g.M;
      if (m0 < m1) t.gemm(g, a16.data(), m0, m1, 0, blocks);
    });
  } else {
    const size_t tasks = blocks < threads ? blocks : threads;
    const size_t per = (blocks + tasks - 1) / tasks;
    parallel_for(tasks, [&](size_t k) {
      const size_t b0 = k * per, b1 = b0 + per < blocks ? b0 + per : blocks;
      if (b0 < b1) t.gemm(g, a16.data(), 0, g.M, b0, b1);
    });
  }
}

}  // namespace int8
}  // namespace densenorm

// peak_fma.c - fp32 FMA throughput peak (GFLOP/s), 1..T threads, for the ISAs this CPU has.
// Derived from ../../../shared/peers/machine/peak_fma.c, but the AVX-512 loop is compiled only
// when the compiler targets AVX-512 (-march=native on an AVX2-only CPU), so it builds everywhere.
// Each thread runs 12 (AVX2) / 24 (AVX-512) independent FMA chains: latency 4-5 cycles x 2 FMA
// pipes needs >= 10 chains. FLOPs: 2 per lane per FMA. Best of `trials` timings.
// Build: cc -O3 -march=native -fopenmp peak_fma.c -o peak_fma
// Usage: ./peak_fma [max_threads=2] [trials=5] [iters=20000000] [only_threads=0]
//   only_threads > 0: measure that thread count only (still for each ISA), ignoring max_threads;
//   the bench uses it for short "local peak" probes right before and after a timed figure.
// Output: one JSON line per (isa, threads).
#if !defined(__x86_64__) && !defined(__i386__)
// The probes are AVX2/AVX-512 loops (bench.mjs does not build this file off x86-64).
#include <stdio.h>
int main(void) {
  fprintf(stderr, "peak_fma: x86-64 only\n");
  return 1;
}
#else
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#ifdef __AVX512F__
#define NACC512 24
__attribute__((noinline)) static float fma512(long iters, float seed) {
  __m512 acc[NACC512];
  for (int k = 0; k < NACC512; k++) acc[k] = _mm512_set1_ps(seed + k);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < iters; i++) {
#pragma GCC unroll 24
    for (int k = 0; k < NACC512; k++) acc[k] = _mm512_fmadd_ps(acc[k], a, b);
  }
  __m512 s = acc[0];
  for (int k = 1; k < NACC512; k++) s = _mm512_add_ps(s, acc[k]);
  return _mm512_reduce_add_ps(s);
}
#endif

#define NACC256 12
__attribute__((noinline)) static float fma256(long iters, float seed) {
  __m256 acc[NACC256];
  for (int k = 0; k < NACC256; k++) acc[k] = _mm256_set1_ps(seed + k);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < iters; i++) {
#pragma GCC unroll 12
    for (int k = 0; k < NACC256; k++) acc[k] = _mm256_fmadd_ps(acc[k], a, b);
  }
  __m256 s = acc[0];
  for (int k = 1; k < NACC256; k++) s = _mm256_add_ps(s, acc[k]);
  float t[8];
  _mm256_storeu_ps(t, s);
  return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}

static volatile float sink;

static double run(int isa512, int nt, int trials, long iters) {
#ifdef __AVX512F__
  const double flops_per_iter = isa512 ? 2.0 * 16 * NACC512 : 2.0 * 8 * NACC256;
#else
  const double flops_per_iter = 2.0 * 8 * NACC256;
  (void)isa512;
#endif
  double best = 0;
  for (int t = 0; t < trials; t++) {
    double t0 = 0, t1 = 0;
#pragma omp parallel num_threads(nt)
    {
#pragma omp barrier
#pragma omp master
      t0 = now();
#ifdef __AVX512F__
      float r = isa512 ? fma512(iters, (float)omp_get_thread_num())
                       : fma256(iters, (float)omp_get_thread_num());
#else
      float r = fma256(iters, (float)omp_get_thread_num());
#endif
#pragma omp atomic
      sink += r;
#pragma omp barrier
#pragma omp master
      t1 = now();
    }
    double g = flops_per_iter * iters * nt / (t1 - t0) / 1e9;
    if (g > best) best = g;
  }
  return best;
}

int main(int argc, char **argv) {
  int maxt = argc > 1 ? atoi(argv[1]) : 2;
  int trials = argc > 2 ? atoi(argv[2]) : 5;
  long iters = argc > 3 ? atol(argv[3]) : 20000000L;
  int only = argc > 4 ? atoi(argv[4]) : 0;
  int lo = 1, hi = maxt;
  if (only > 0) lo = hi = only;
  if (trials < 1) trials = 1;
  if (iters < 1) iters = 1;
#ifdef __AVX512F__
  const int top = 1;
#else
  const int top = 0;
#endif
  run(top, hi, 1, iters / 4 > 0 ? iters / 4 : 1);  // warm-up (frequency ramp)
  for (int isa = top; isa >= 0; isa--) {
    for (int nt = lo; nt <= hi; nt++) {
      double g = run(isa, nt, trials, iters);
      printf("{\"bench\":\"peak_fma\",\"isa\":\"%s\",\"threads\":%d,\"gflops\":%.2f}\n",
             isa ? "avx512" : "avx2", nt, g);
      fflush(stdout);
    }
  }
  return 0;
}
#endif  // x86

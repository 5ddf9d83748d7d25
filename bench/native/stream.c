// stream.c - STREAM-like fp32 memory bandwidth: copy, triad (and read/sum). Copied from
// ../shared/peers/machine/stream.c so `npm run bench` measures the machine in the same run.
//
// Two working-set sizes:
// Chunk sizes are multiples of 64 elements (the read kernel assumes it).
//   dram: each array = MiB_dram (default 1024 MiB) -> far beyond L3
//   l2  : each array = 256 KiB per thread (3 arrays = 768 KiB/thread < 2 MiB L2)
//   l3  : each array = 4 MiB per thread (12 MiB/thread; a size sweep here showed
//         ~26 GB/s 1-thread reads from 4 to 32 MiB and DRAM speed beyond ~128 MiB,
//         although lscpu reports a 480 MiB L3)
// Bytes counted STREAM-style (no write-allocate traffic):
//   copy  c=a        : 2*4*N     triad a=b+s*c : 3*4*N     read sum(a): 4*N
// Each thread works on its own contiguous chunk inside ONE parallel region
// (no fork/join per repetition). Best of `trials` timings is reported.
//
// Build: gcc -O3 -march=native -fopenmp -fno-tree-loop-distribute-patterns \
//          stream.c -o stream   (the last flag keeps copy from becoming memcpy)
// Usage: ./stream [max_threads=2] [MiB_dram=1024] [trials=10]
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
#define BARRIER_MEM() __asm__ __volatile__("" ::: "memory")

enum { COPY, TRIAD, READ, NKERN };
static const char *kname[NKERN] = {"copy", "triad", "read"};
static const double kbytes[NKERN] = {8, 12, 4};  // bytes per element
static volatile float sink;

// Runs kernel k over n elements, `reps` times per sample, nt threads.
static double bench(float *a, float *b, float *c, long n, int k, int nt,
                    int reps, int trials) {
  double best = 1e30;
  for (int t = 0; t < trials; t++) {
    double t0 = 0, t1 = 0;
#pragma omp parallel num_threads(nt)
    {
      int id = omp_get_thread_num();
      long lo = n * id / nt, hi = n * (id + 1) / nt;
      float acc = 0, s = 3.0f, accv[64] = {0};  // 64 partial sums -> several
                                                // independent vector chains
#pragma omp barrier
#pragma omp master
      t0 = now();
      for (int r = 0; r < reps; r++) {
        if (k == COPY)
          for (long i = lo; i < hi; i++) c[i] = a[i];
        else if (k == TRIAD)
          for (long i = lo; i < hi; i++) a[i] = b[i] + s * c[i];
        else
          for (long i = lo; i + 64 <= hi; i += 64)
            for (int j = 0; j < 64; j++) accv[j] += a[i + j];
        BARRIER_MEM();
      }
#pragma omp barrier
#pragma omp master
      t1 = now();
      if (k == READ) {
        for (int j = 0; j < 64; j++) acc += accv[j];
#pragma omp atomic
        sink += acc;
      }
    }
    if (t1 - t0 < best) best = t1 - t0;
  }
  return kbytes[k] * n * reps / best / 1e9;  // GB/s (1e9 bytes)
}

static void run_size(const char *label, long n, int nt, int trials) {
  float *a = aligned_alloc(64, n * 4), *b = aligned_alloc(64, n * 4),
        *c = aligned_alloc(64, n * 4);
  if (!a || !b || !c) { fprintf(stderr, "alloc failed\n"); exit(1); }
  // first touch by the thread that will use the chunk
#pragma omp parallel num_threads(nt)
  {
    int id = omp_get_thread_num();
    long lo = n * id / nt, hi = n * (id + 1) / nt;
    for (long i = lo; i < hi; i++) { a[i] = 1.0f; b[i] = 2.0f; c[i] = 0.5f; }
  }
  // reps so that one sample moves >= ~256 MiB
  long bytes_per_rep = 12 * n;
  int reps = (int)((256L << 20) / bytes_per_rep);
  if (reps < 1) reps = 1;
  for (int k = 0; k < NKERN; k++) {
    double gbs = bench(a, b, c, n, k, nt, reps, trials);
    printf("stream %-5s %-5s threads=%d  array=%8.3f MiB  %8.1f GB/s\n",
           label, kname[k], nt, n * 4 / 1048576.0, gbs);
    printf("{\"bench\":\"stream\",\"size\":\"%s\",\"kernel\":\"%s\","
           "\"threads\":%d,\"array_bytes\":%ld,\"gbs\":%.2f}\n",
           label, kname[k], nt, n * 4, gbs);
    fflush(stdout);
  }
  free(a); free(b); free(c);
}

int main(int argc, char **argv) {
  int maxt = argc > 1 ? atoi(argv[1]) : 2;
  long mib = argc > 2 ? atol(argv[2]) : 1024;
  int trials = argc > 3 ? atoi(argv[3]) : 10;
  for (int nt = 1; nt <= maxt; nt++) {
    run_size("l2", (256L << 10) / 4 * nt, nt, trials * 5);
    run_size("l3", (4L << 20) / 4 * nt, nt, trials * 2);
    run_size("dram", (mib << 20) / 4, nt, trials);
  }
  return 0;
}

// Every kernel of the KernelTable, written once as a template over a vector struct from simd.h
// (Highway style). kernels_{scalar,avx2,avx512}.cc define DENSENORM_KERNEL_NS, include this file
// and instantiate it with DENSENORM_DEFINE_KERNEL_TABLE. See README.md for the contract.
//
// Rules for this file (it is compiled with different -m flags per ISA):
//  * everything lives in densenorm::DENSENORM_KERNEL_NS (no shared inline symbols between ISAs);
//  * no <cmath>, <algorithm>, <vector>, std::function...: standard-library inline templates
//    instantiated here would be emitted as COMDATs containing ISA-specific code, and the linker
//    could pick the AVX-512 copy for everybody. Scratch memory comes from
//    densenorm::kernel_scratch(), compiled without ISA flags (kernels_scalar.cc).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "densenorm/kernels.h"
#include "gemm_blocking.h"
#include "simd.h"

namespace densenorm {

// Thread-local, 64-byte aligned scratch buffer number `slot` (0..3) with room for n floats.
// Grows on demand, never shrinks: no allocation per call after warm-up. Defined in kernels_scalar.cc.
float* kernel_scratch(int slot, size_t n);

namespace DENSENORM_KERNEL_NS {

static inline size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

// =============================================================================================
// GEMM: BLIS-style blocking around an MR x NR (NR = NRV*W) register-blocked microkernel.
//
// Loop nest (jc: NC columns) -> (pc: K block, pack op(B) into NR-wide panels)
//   -> (ic: MC rows, pack op(A) into MR-tall panels) -> (jr: NR) -> (ir: MR) -> microkernel.
// KC, MC, NC come from the CPU's L1/L2/L3 sizes (gemm_blocking(), read once at run time):
// a B micro-panel (kc x NR) stays in L1, the packed A block (MC x kc) in L2, the packed B block
// (kc x NC) in L3. Panels are zero-padded in k-order; edge tiles run a microkernel instance with
// only the valid rows (template) and masked column loads/stores, so there is no scalar path.
// When op(A) has at most MR rows and B is not transposed (inference, batch 1..MR) nothing is
// packed: B is streamed row by row (run_small_m), since each of its elements is used once.
//
// Determinism: the K blocks have fixed boundaries that depend only on K and KC (kc_blk =
// ceil(K / ceil(K / KC))): for every C(i,j), per block, acc = 0; acc = fma(a_k, b_k, acc) for k
// ascending; then C = acc (first block, !accumulate) or C = C + acc. Nothing depends on M, N,
// the tile position or the column/row range -> bit-identical results for any split of C across
// threads (the small-M path performs the same operations per element as the microkernel).
// =============================================================================================
#if defined(__AVX2__) && defined(__FMA__)
#define DENSENORM_HAVE_TR8 1
// In-register 8x8 transpose: r[i] lane j -> r[j] lane i.
static inline void tr8x8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}
#endif

// Full or masked (first `tail` lanes) vector load / store.
template <class V>
static inline typename V::T vld(const float* p, bool partial, size_t tail) {
  return partial ? V::load_partial(p, tail) : V::load(p);
}
template <class V>
static inline void vst(float* p, typename V::T x, bool partial, size_t tail) {
  if (partial) V::store_partial(p, x, tail); else V::store(p, x);
}

// Operands of smaller products are read in place, not packed (Gemm::run): few panels reuse a
// packed one. B only while its panel is short: at long K its rows straddle cache lines.
constexpr size_t kDirectMaxN = kGemmDirectMaxN;
constexpr size_t kDirectMaxM = 128;
constexpr size_t kDirectMaxK = 128;

template <class V, int MR, int NRV>
struct Gemm {
  using T = typename V::T;
  static constexpr size_t W = V::W;
  static constexpr size_t NR = NRV * W;

  // Where a tile adds its column sums (GemmColStats): shift, the chunk's Σd and Σd² rows at the
  // tile's first column, and whether it is the chunk's first tile (write instead of add).
  struct TileStats {
    const float* shift;
    float* s1;
    float* s2;
    bool first;
  };

  // Adds one tile's per-column sums (rows in ascending order, already in s1v/s2v) to its chunk.
  static inline void tile_stats_store(const TileStats* ts, size_t v, T s1v, T s2v, bool partial,
                                      size_t n) {
    float* p1 = ts->s1 + v * W;
    float* p2 = ts->s2 + v * W;
    if (!partial) {
      V::store(p1, ts->first ? s1v : V::add(V::load(p1), s1v));
      V::store(p2, ts->first ? s2v : V::add(V::load(p2), s2v));
    } else {
      V::store_partial(p1, ts->first ? s1v : V::add(V::load_partial(p1, n), s1v), n);
      V::store_partial(p2, ts->first ? s2v : V::add(V::load_partial(p2, n), s2v), n);
    }
  }

  // c[mr x nc_valid] (= or +=) a_panel[kc x MR] * b_panel[kc x NR] (b rows `bs` floats apart).
  // MRV: rows computed (<= MR); EDGE: columns limited to `ncols` (< NR) with masked access.
  // ts (nullable, last K block only): also the tile's per-column sums of (c - shift), (c - shift)².
  // NV (<= NRV): column vectors computed; an edge tile whose valid columns fit in fewer vectors
  // skips the all-padding ones (e.g. N = 100 with NR = 16: the last tile has 4 columns).
  // AM: where op(A) comes from. 0: a packed panel (k-th row at a + k·MR); 1: A itself, row-major
  // (op(A)(i,k) at a[i·lda + k]); 2: A itself, transposed (op(A)(i,k) at a[k·lda + i]). The
  // arithmetic per C(i,j) is the same in all three (bit-identical).
  template <int MRV, bool EDGE, int NV = NRV, int AM = 0>
  static inline void ukernel_t(size_t kc, const float* __restrict a, const float* __restrict b,
                               size_t bs, float* __restrict c, size_t ldc, bool beta,
                               size_t ncols, const TileStats* ts = nullptr, size_t lda = 0) {
    T acc[MRV][NV];
#pragma GCC unroll 16
    for (int i = 0; i < MRV; ++i) {
      __builtin_prefetch(c + i * ldc, 1, 3);
      __builtin_prefetch(c + i * ldc + NR - 1, 1, 3);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = V::zero();
    }
    for (size_t k = 0; k < kc; ++k) {
      T bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = V::load(b + v * W);
#pragma GCC unroll 16
      for (int i = 0; i < MRV; ++i) {
        const T ai = V::set1(AM == 1 ? a[i * lda] : a[i]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = V::fma(ai, bv[v], acc[i][v]);
      }
      a += AM == 0 ? MR : AM == 1 ? 1 : lda;
      b += bs;
    }
#pragma GCC unroll 16
    for (int i = 0; i < MRV; ++i) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        float* p = c + i * ldc + v * W;
        if (!EDGE) {
          acc[i][v] = beta ? V::add(V::load(p), acc[i][v]) : acc[i][v];
          V::store(p, acc[i][v]);
        } else {
          const size_t j0 = v * W;
          if (j0 >= ncols) break;
          const size_t n = ncols - j0;
          if (n >= W) {
            acc[i][v] = beta ? V::add(V::load(p), acc[i][v]) : acc[i][v];
            V::store(p, acc[i][v]);
          } else {
            acc[i][v] = beta ? V::add(V::load_partial(p, n), acc[i][v]) : acc[i][v];
            V::store_partial(p, acc[i][v], n);
          }
        }
      }
    }
    if (ts) {  // acc now holds the final values of C
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        const size_t j0 = v * W;
        if (EDGE && j0 >= ncols) break;
        const size_t n = EDGE ? ncols - j0 : W;
        const bool partial = EDGE && n < W;
        const T sh = partial ? V::load_partial(ts->shift + j0, n) : V::load(ts->shift + j0);
        T s1v = V::zero(), s2v = V::zero();
#pragma GCC unroll 16
        for (int i = 0; i < MRV; ++i) {
          const T d = V::sub(acc[i][v], sh);
          s1v = V::add(s1v, d);
          s2v = V::fma(d, d, s2v);
        }
        tile_stats_store(ts, v, s1v, s2v, partial, n);
      }
    }
  }

  // Full MR x NR tile from packed panels (the exported microkernel).
  static inline void ukernel(size_t kc, const float* a, const float* b, float* c, size_t ldc,
                             bool beta) {
    ukernel_t<MR, false>(kc, a, b, NR, c, ldc, beta, NR);
  }

  template <int MRV, int AM = 0>
  static inline void tile_rows(size_t kc, const float* a, const float* b, size_t bs, float* c,
                               size_t ldc, bool beta, size_t nr, const TileStats* ts,
                               size_t lda = 0) {
    if (nr == NR) ukernel_t<MRV, false, NRV, AM>(kc, a, b, bs, c, ldc, beta, NR, ts, lda);
    else if (NRV > 1 && nr <= W) ukernel_t<MRV, true, 1, AM>(kc, a, b, bs, c, ldc, beta, nr, ts, lda);
    else ukernel_t<MRV, true, NRV, AM>(kc, a, b, bs, c, ldc, beta, nr, ts, lda);
  }
  // Any tile: mr in 1..MR rows, nr in 1..NR columns.
  template <int AM = 0>
  static inline void tile(size_t kc, const float* a, const float* b, size_t bs, float* c,
                          size_t ldc, bool beta, size_t mr, size_t nr, const TileStats* ts,
                          size_t lda = 0) {
    if (mr == (size_t)MR) { tile_rows<MR, AM>(kc, a, b, bs, c, ldc, beta, nr, ts, lda); return; }
    tile_edge<MR - 1, AM>(kc, a, b, bs, c, ldc, beta, mr, nr, ts, lda);
  }
  template <int R, int AM = 0>
  static inline void tile_edge(size_t kc, const float* a, const float* b, size_t bs, float* c,
                               size_t ldc, bool beta, size_t mr, size_t nr, const TileStats* ts,
                               size_t lda = 0) {
    if constexpr (R >= 1) {
      if (mr == (size_t)R) tile_rows<R, AM>(kc, a, b, bs, c, ldc, beta, nr, ts, lda);
      else tile_edge<R - 1, AM>(kc, a, b, bs, c, ldc, beta, mr, nr, ts, lda);
    }
  }

  // Pack op(B)[pc:pc+kc, jc:jc+nc] into ceil(nc/NR) panels of kc x NR (row k contiguous).
  static void pack_b(bool trans_b, const float* B, size_t ldb, size_t pc, size_t jc, size_t kc,
                     size_t nc, float* __restrict out) {
    for (size_t jr = 0; jr < nc; jr += NR) {
      const size_t nr = min_sz(NR, nc - jr);
      float* panel = out + (jr / NR) * kc * NR;
      if (!trans_b) {  // op(B)[k][j] = B[k*ldb + j]
        const float* src = B + pc * ldb + jc + jr;
        if (nr == NR) {
          for (size_t k = 0; k < kc; ++k, src += ldb) {
            // rows ldb apart (a page each for a 1024-wide layer): prefetch 8 rows ahead.
            if (k + 8 < kc) {
              __builtin_prefetch(src + 8 * ldb, 0, 3);
              __builtin_prefetch(src + 8 * ldb + NR - 1, 0, 3);
            }
#pragma GCC unroll 4
            for (int v = 0; v < NRV; ++v) V::store(panel + k * NR + v * W, V::load(src + v * W));
          }
        } else {
          for (size_t k = 0; k < kc; ++k, src += ldb)
            for (size_t v = 0; v < (size_t)NRV; ++v) {
              const size_t j0 = v * W;
              V::store(panel + k * NR + j0, j0 >= nr ? V::zero()
                                            : nr - j0 >= W ? V::load(src + j0)
                                                           : V::load_partial(src + j0, nr - j0));
            }
        }
      } else {  // op(B)[k][j] = B[j*ldb + k]: read rows of B contiguously, 4 k at a time
#ifdef DENSENORM_HAVE_TR8
        // AVX2 and AVX-512 (NR = 16 or 32: 2 or 4 blocks side by side): 8x8 in-register
        // transposes instead of strided scalar reads.
        if constexpr (NR % 8 == 0) {
          if (nr == NR) {  // 8x8 blocks: 8 rows of B (j) x 8 k -> 8 panel rows (k) of 8 j
            size_t k = 0;
            for (; k + 8 <= kc; k += 8)
#pragma GCC unroll 4
              for (size_t v = 0; v < NR / 8; ++v) {
                const float* src = B + (jc + jr + v * 8) * ldb + pc + k;
                __m256 r[8];
#pragma GCC unroll 8
                for (int q = 0; q < 8; ++q) r[q] = _mm256_loadu_ps(src + q * ldb);
                tr8x8(r);
#pragma GCC unroll 8
                for (int q = 0; q < 8; ++q) _mm256_store_ps(panel + (k + q) * NR + v * 8, r[q]);
              }
            for (; k < kc; ++k)
              for (size_t j = 0; j < NR; ++j) panel[k * NR + j] = B[(jc + jr + j) * ldb + pc + k];
            continue;
          }
        }
#endif
        size_t j = 0;
        for (; j < nr; ++j) {
          const float* src = B + (jc + jr + j) * ldb + pc;
          float* dst = panel + j;
          size_t k = 0;
          for (; k + 4 <= kc; k += 4) {
            dst[(k + 0) * NR] = src[k + 0];
            dst[(k + 1) * NR] = src[k + 1];
            dst[(k + 2) * NR] = src[k + 2];
            dst[(k + 3) * NR] = src[k + 3];
          }
          for (; k < kc; ++k) dst[k * NR] = src[k];
        }
        for (; j < NR; ++j)
          for (size_t k = 0; k < kc; ++k) panel[k * NR + j] = 0.0f;
      }
    }
  }

  // Pack op(A)[ic:ic+mc, pc:pc+kc] into ceil(mc/MR) panels of kc x MR.
  static void pack_a(bool trans_a, const float* A, size_t lda, size_t ic, size_t pc, size_t mc,
                     size_t kc, float* __restrict out) {
    for (size_t ir = 0; ir < mc; ir += MR) {
      const size_t mr = min_sz(MR, mc - ir);
      float* panel = out + (ir / MR) * kc * MR;
      if (!trans_a) {  // op(A)[i][k] = A[i*lda + k]
        const float* src = A + (ic + ir) * lda + pc;
        if (mr == (size_t)MR) {
#ifdef DENSENORM_HAVE_TR8
          if constexpr (MR <= 8) {
            // MR rows x 8 k -> 8 panel rows of MR (rows MR..7 of the transpose are zero and
            // land in the next panel row's slots, which its own store then overwrites).
            size_t k = 0;
            for (; k + 8 <= kc; k += 8) {
              __m256 r[8];
#pragma GCC unroll 8
              for (int q = 0; q < 8; ++q)
                r[q] = q < MR ? _mm256_loadu_ps(src + q * lda + k) : _mm256_setzero_ps();
              tr8x8(r);
              float* d = panel + k * MR;
#pragma GCC unroll 8
              for (int q = 0; q < 7; ++q) _mm256_storeu_ps(d + q * MR, r[q]);
              // last one: exactly MR floats (do not run into the next panel / past the buffer)
              if constexpr (MR == 8) {
                _mm256_storeu_ps(d + 7 * MR, r[7]);
              } else {
                alignas(32) float tmp[8];
                _mm256_store_ps(tmp, r[7]);
                for (int i = 0; i < MR; ++i) d[7 * MR + i] = tmp[i];
              }
            }
            for (; k < kc; ++k)
#pragma GCC unroll 16
              for (int i = 0; i < MR; ++i) panel[k * MR + i] = src[i * lda + k];
            continue;
          }
#endif
          // k outer, MR rows inner: each output line is written once, sequentially.
          for (size_t k = 0; k < kc; ++k)
#pragma GCC unroll 16
            for (int i = 0; i < MR; ++i) panel[k * MR + i] = src[i * lda + k];
        } else {
          for (size_t k = 0; k < kc; ++k) {
            size_t i = 0;
            for (; i < mr; ++i) panel[k * MR + i] = src[i * lda + k];
            for (; i < (size_t)MR; ++i) panel[k * MR + i] = 0.0f;
          }
        }
      } else {  // op(A)[i][k] = A[k*lda + i]
        const float* src = A + pc * lda + ic + ir;
        if (mr == (size_t)MR) {
          for (size_t k = 0; k < kc; ++k, src += lda)
#pragma GCC unroll 16
            for (int i = 0; i < MR; ++i) panel[k * MR + i] = src[i];
        } else {
          for (size_t k = 0; k < kc; ++k, src += lda) {
            size_t i = 0;
            for (; i < mr; ++i) panel[k * MR + i] = src[i];
            for (; i < (size_t)MR; ++i) panel[k * MR + i] = 0.0f;
          }
        }
      }
    }
  }

  // op(A) has MRV <= MR rows and B is not transposed (inference at batch 1..MR): every element of
  // B is used MRV times at most, so stream B row by row (contiguous, prefetch-friendly) into
  // accumulator rows kept in L1, CW columns at a time. Per C(i,j) the arithmetic is the
  // microkernel's exactly (acc = 0; fma over the K block ascending; C = acc or C + acc), so the
  // result is bit-identical to the packed path whichever path a row range takes.


  template <int MRV>
  static void run_small_m(bool trans_a, size_t N, size_t K, const float* A, size_t lda,
                          const float* B, size_t ldb, float* C, size_t ldc, bool accumulate,
                          size_t KB, const GemmColStats* stats) {
    // Accumulator rows in L1 (about 16 KB): a whole row of C when it fits, so each row of B is
    // read from start to end, one sequential stream per k.
    constexpr size_t kAccFloats = 4096;
    size_t CW = kAccFloats / MRV / (4 * W) * (4 * W);
    if (CW < 4 * W) CW = 4 * W;
    float* acc = kernel_scratch(2, MR * CW);
    auto a_at = [&](int i, size_t k) { return V::set1(trans_a ? A[k * lda + i] : A[i * lda + k]); };
    for (size_t j0 = 0; j0 < N; j0 += CW) {
      const size_t nc = min_sz(CW, N - j0);
      const size_t nfull = nc / W, tail = nc % W;
      const size_t nvec = nfull + (tail ? 1 : 0);
      for (size_t pc = 0; pc < K; pc += KB) {
        const size_t kc = min_sz(KB, K - pc);
        const bool beta = accumulate || pc > 0;
        for (int i = 0; i < MRV; ++i)
          for (size_t q = 0; q < nvec * W; q += W) V::store(acc + i * CW + q, V::zero());
        size_t k = pc;
        // Four rows of B per sweep: acc is loaded and stored once per four fma (same order per
        // element as one row at a time: fma over k ascending).
        for (; k + 4 <= pc + kc; k += 4) {
          const float* b0 = B + k * ldb + j0;
          const float* b1 = b0 + ldb;
          const float* b2 = b1 + ldb;
          const float* b3 = b2 + ldb;
          T av[MRV][4];
#pragma GCC unroll 16
          for (int i = 0; i < MRV; ++i)
#pragma GCC unroll 4
            for (int q = 0; q < 4; ++q) av[i][q] = a_at(i, k + q);
          // A row of B is often a page of its own (W2: 4 KB rows), and the hardware stream
          // prefetcher stops at page ends and starts cold on the next: fetch the next sweep's
          // four rows, a line per vector, while this one runs (further ahead was slower).
          const bool pf = k + 8 <= pc + kc;
          for (size_t v = 0; v < nvec; ++v) {
            const size_t o = v * W;
            if (pf && (o * sizeof(float)) % 64 == 0) {
              __builtin_prefetch(b0 + 4 * ldb + o, 0, 3);
              __builtin_prefetch(b1 + 4 * ldb + o, 0, 3);
              __builtin_prefetch(b2 + 4 * ldb + o, 0, 3);
              __builtin_prefetch(b3 + 4 * ldb + o, 0, 3);
            }
            T x0, x1, x2, x3;
            if (v < nfull) {
              x0 = V::load(b0 + o); x1 = V::load(b1 + o); x2 = V::load(b2 + o); x3 = V::load(b3 + o);
            } else {
              x0 = V::load_partial(b0 + o, tail); x1 = V::load_partial(b1 + o, tail);
              x2 = V::load_partial(b2 + o, tail); x3 = V::load_partial(b3 + o, tail);
            }
#pragma GCC unroll 16
            for (int i = 0; i < MRV; ++i) {
              float* p = acc + i * CW + o;
              T r = V::load(p);
              r = V::fma(av[i][0], x0, r);
              r = V::fma(av[i][1], x1, r);
              r = V::fma(av[i][2], x2, r);
              r = V::fma(av[i][3], x3, r);
              V::store(p, r);
            }
          }
        }
        for (; k < pc + kc; ++k) {
          const float* brow = B + k * ldb + j0;
          T av[MRV];
#pragma GCC unroll 16
          for (int i = 0; i < MRV; ++i) av[i] = a_at(i, k);
          for (size_t v = 0; v < nvec; ++v) {
            const T b = v < nfull ? V::load(brow + v * W) : V::load_partial(brow + v * W, tail);
#pragma GCC unroll 16
            for (int i = 0; i < MRV; ++i) {
              float* p = acc + i * CW + v * W;
              V::store(p, V::fma(av[i], b, V::load(p)));
            }
          }
        }
        // Final values, column vector by column vector (rows ascending: the tile's stats order).
        const bool last = pc + kc == K;
        for (size_t v = 0; v < nvec; ++v) {
          const bool partial = v == nfull;
          const size_t n = partial ? tail : W;
          T s1v = V::zero(), s2v = V::zero(), sh = V::zero();
          if (stats && last) sh = vld<V>(stats->shift + j0 + v * W, partial, n);
#pragma GCC unroll 16
          for (int i = 0; i < MRV; ++i) {
            float* c = C + i * ldc + j0 + v * W;
            T f = V::load(acc + i * CW + v * W);
            if (beta) f = V::add(vld<V>(c, partial, n), f);
            vst<V>(c, f, partial, n);
            if (stats && last) {
              const T d = V::sub(f, sh);
              s1v = V::add(s1v, d);
              s2v = V::fma(d, d, s2v);
            }
          }
          if (stats && last) {
            const TileStats ts{nullptr, stats->part + j0, stats->part + stats->ldp + j0, true};
            tile_stats_store(&ts, v, s1v, s2v, partial, n);
          }
        }
      }
    }
  }
  template <int R>
  static void small_m_dispatch(size_t M, bool trans_a, size_t N, size_t K, const float* A,
                               size_t lda, const float* B, size_t ldb, float* C, size_t ldc,
                               bool accumulate, size_t KB, const GemmColStats* st) {
    if constexpr (R >= 1) {
      if (M == (size_t)R) run_small_m<R>(trans_a, N, K, A, lda, B, ldb, C, ldc, accumulate, KB, st);
      else small_m_dispatch<R - 1>(M, trans_a, N, K, A, lda, B, ldb, C, ldc, accumulate, KB, st);
    }
  }

  // The K block length for a K-long product: ceil(K / ceil(K / KC)) rounded up to 4 (balanced
  // blocks whose boundaries depend on K only).
  static size_t kblock(size_t K) {
    const GemmBlocking bl = gemm_blocking(MR, NR);
    const size_t nkb = K ? (K + bl.kc - 1) / bl.kc : 1;
    size_t KB = (K + nkb - 1) / nkb;
    return (KB + 3) & ~static_cast<size_t>(3);
  }

  static void run(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const float* A,
                  size_t lda, const float* B, size_t ldb, float* C, size_t ldc, bool accumulate,
                  const GemmColStats* stats = nullptr) {
    if (M == 0 || N == 0) return;
    if (K == 0) {
      if (!accumulate)
        for (size_t i = 0; i < M; ++i) std::memset(C + i * ldc, 0, N * sizeof(float));
      if (stats) stats_of(C, ldc, 0, M, N, stats);
      return;
    }
    const GemmBlocking bl = gemm_blocking(MR, NR);
    const size_t nkb = (K + bl.kc - 1) / bl.kc;
    size_t KB = (K + nkb - 1) / nkb;  // balanced K blocks: boundaries depend on K only
    KB = (KB + 3) & ~static_cast<size_t>(3);
    // Balanced row blocks (multiples of MR) so the last one is not a sliver.
    const size_t nmb = (M + bl.mc - 1) / bl.mc;
    size_t MCb = (M + nmb - 1) / nmb;
    MCb = (MCb + MR - 1) / MR * MR;
    const size_t NCb = bl.nc;
    if (!trans_b && M <= (size_t)MR) {
      small_m_dispatch<MR>(M, trans_a, N, K, A, lda, B, ldb, C, ldc, accumulate, KB, stats);
      return;
    }
    // Small products read an operand in place instead of packing it: op(A) when few column
    // panels reuse each packed A panel (N <= kDirectMaxN), B (not transposed) when few row tiles
    // reuse each packed B panel and the panel is short (M <= kDirectMaxM, K <= kDirectMaxK).
    // Packing there would be a large share of the product. A partial last B panel is still
    // packed (no read past the end of B).
    const bool direct_a = N <= kDirectMaxN;
    const bool direct_b = !trans_b && M <= kDirectMaxM && K <= kDirectMaxK;
    float* bpack = kernel_scratch(0, KB * (direct_b ? NR : min_sz(NCb, (N + NR - 1) / NR * NR)));
    float* apack = direct_a ? nullptr
                            : kernel_scratch(1, min_sz(MCb, (M + MR - 1) / MR * MR) * KB);
    for (size_t jc = 0; jc < N; jc += NCb) {
      const size_t nc = min_sz(NCb, N - jc);
      for (size_t pc = 0; pc < K; pc += KB) {
        const size_t kc = min_sz(KB, K - pc);
        const bool beta = accumulate || pc > 0;
        const float* bdirect = nullptr;
        if (!direct_b) {
          pack_b(trans_b, B, ldb, pc, jc, kc, nc, bpack);
        } else {
          bdirect = B + pc * ldb + jc;
          if (nc % NR) pack_b(false, B, ldb, pc, jc + nc / NR * NR, kc, nc % NR, bpack);
        }
        const GemmColStats* st = pc + kc == K ? stats : nullptr;
        for (size_t ic = 0; ic < M; ic += MCb) {
          const size_t mc = min_sz(MCb, M - ic);
          compute_rows(direct_a, trans_a, A, lda, ic, pc, mc, kc, nc, bpack, bdirect, ldb, apack,
                       C, ldc, jc, beta, st);
        }
      }
    }
  }

  // Pre-packed op(B) (KernelTable::gemm_pack_b / gemm_prepacked): the panels run() packs, for all
  // of op(B) at once, K block after K block (block pc at pc · Npad, Npad = N rounded up to NR).
  static size_t packed_b_size(size_t K, size_t N) { return K * ((N + NR - 1) / NR * NR); }
  static void pack_b_all(bool trans_b, const float* B, size_t ldb, size_t K, size_t N,
                         float* out) {
    const size_t KB = kblock(K), npad = (N + NR - 1) / NR * NR;
    for (size_t pc = 0; pc < K; pc += KB) {
      const size_t kc = min_sz(KB, K - pc);
      pack_b(trans_b, B, ldb, pc, 0, kc, N, out + pc * npad);
      // pack_b zero-pads a partial last panel's columns; nothing lies past it
    }
  }
  // run() with op(B)'s panels read from BP (columns j0.. of a packed K × ldbp matrix).
  static void run_prepacked(bool trans_a, size_t M, size_t N, size_t K, const float* A,
                            size_t lda, const float* BP, size_t ldbp, size_t j0, float* C,
                            size_t ldc, bool accumulate) {
    if (M == 0 || N == 0) return;
    if (K == 0) {
      if (!accumulate)
        for (size_t i = 0; i < M; ++i) std::memset(C + i * ldc, 0, N * sizeof(float));
      return;
    }
    const GemmBlocking bl = gemm_blocking(MR, NR);
    const size_t KB = kblock(K);
    const size_t nmb = (M + bl.mc - 1) / bl.mc;
    size_t MCb = (M + nmb - 1) / nmb;
    MCb = (MCb + MR - 1) / MR * MR;
    const size_t npad = (ldbp + NR - 1) / NR * NR;
    const bool direct_a = N <= kDirectMaxN;
    float* apack = direct_a ? nullptr
                            : kernel_scratch(1, min_sz(MCb, (M + MR - 1) / MR * MR) * KB);
    for (size_t jc = 0; jc < N; jc += bl.nc) {
      const size_t nc = min_sz(bl.nc, N - jc);
      for (size_t pc = 0; pc < K; pc += KB) {
        const size_t kc = min_sz(KB, K - pc);
        const bool beta = accumulate || pc > 0;
        const float* bpack = BP + pc * npad + (j0 + jc) / NR * kc * NR;
        for (size_t ic = 0; ic < M; ic += MCb) {
          const size_t mc = min_sz(MCb, M - ic);
          compute_rows(direct_a, trans_a, A, lda, ic, pc, mc, kc, nc, bpack, nullptr, 0, apack,
                       C, ldc, jc, beta, nullptr);
        }
      }
    }
  }

  // Narrow last column panel (nr <= W/2 columns) when op(A) is a transposed A read in place
  // (AM 2: op(A)(i, k) = A[k·lda + i], so W consecutive rows of op(A) at one k are one vector
  // load): W rows × NC columns per step, one accumulator vector per column (rows along lanes)
  // instead of MR rows × one mostly-masked vector. Per C(i,j) the same operations as the
  // microkernel — acc = 0, acc = fma(a_ik, b_kj, acc) for k ascending, then C = acc or C + acc —
  // so the bits are those of a full tile. W1's dW = Xᵀ·dZ (N = 100 = 3·32 + 4): the 4-column
  // tile cost MR broadcasts and MR FMAs per k for 4 useful lanes each.
  template <int NC>
  static void edge_cols_t(size_t kc, const float* a, size_t lda, const float* b, size_t bs,
                          float* c, size_t ldc, bool beta, size_t mc) {
    for (size_t i0 = 0; i0 < mc; i0 += W) {
      const size_t rows = min_sz(W, mc - i0);
      T acc[NC];
#pragma GCC unroll 8
      for (int j = 0; j < NC; ++j) acc[j] = V::zero();
      const float* ak = a + i0;
      const float* bk = b;
      if (rows == W) {
        for (size_t k = 0; k < kc; ++k, ak += lda, bk += bs) {
          const T av = V::load(ak);
#pragma GCC unroll 8
          for (int j = 0; j < NC; ++j) acc[j] = V::fma(av, V::set1(bk[j]), acc[j]);
        }
      } else {
        for (size_t k = 0; k < kc; ++k, ak += lda, bk += bs) {
          const T av = V::load_partial(ak, rows);
#pragma GCC unroll 8
          for (int j = 0; j < NC; ++j) acc[j] = V::fma(av, V::set1(bk[j]), acc[j]);
        }
      }
      alignas(64) float t[NC][W];
#pragma GCC unroll 8
      for (int j = 0; j < NC; ++j) V::store(t[j], acc[j]);
      float* cr = c + i0 * ldc;
      for (size_t r = 0; r < rows; ++r, cr += ldc)
#pragma GCC unroll 8
        for (int j = 0; j < NC; ++j) cr[j] = beta ? cr[j] + t[j][r] : t[j][r];
    }
  }
  template <int NC = static_cast<int>(W / 2)>  // the widest edge compute_rows_t sends here
  static void edge_cols(size_t nr, size_t kc, const float* a, size_t lda, const float* b,
                        size_t bs, float* c, size_t ldc, bool beta, size_t mc) {
    if constexpr (NC >= 1) {
      if (nr == (size_t)NC) edge_cols_t<NC>(kc, a, lda, b, bs, c, ldc, beta, mc);
      else edge_cols<NC - 1>(nr, kc, a, lda, b, bs, c, ldc, beta, mc);
    }
  }

  // Row block [ic, ic+mc) of C against a B block (nc columns): pack op(A) (unless direct_a: read
  // in place, AM 1 or 2 by trans_a), run the tiles. st (last K block only): the batch-statistics
  // epilogue; rows are the call's (chunk = row / kStatRows).
  static inline void compute_rows(bool direct_a, bool trans_a, const float* A, size_t lda,
                                  size_t ic, size_t pc, size_t mc, size_t kc, size_t nc,
                                  const float* bpack, const float* bdirect, size_t ldb,
                                  float* apack, float* C, size_t ldc, size_t jc, bool beta,
                                  const GemmColStats* st) {
    if (!direct_a)
      compute_rows_t<0>(trans_a, A, lda, ic, pc, mc, kc, nc, bpack, bdirect, ldb, apack, C, ldc,
                        jc, beta, st);
    else if (!trans_a)
      compute_rows_t<1>(trans_a, A, lda, ic, pc, mc, kc, nc, bpack, bdirect, ldb, apack, C, ldc,
                        jc, beta, st);
    else
      compute_rows_t<2>(trans_a, A, lda, ic, pc, mc, kc, nc, bpack, bdirect, ldb, apack, C, ldc,
                        jc, beta, st);
  }
  // AM (see ukernel_t): 0 packs op(A) into apack; 1, 2 read it in place. bdirect (nullable): full
  // B panels read in place from bdirect + jr (row stride ldb); bpack then holds only the packed
  // partial last panel. Without bdirect, bpack holds every panel of the block.
  template <int AM>
  static inline void compute_rows_t(bool trans_a, const float* A, size_t lda, size_t ic,
                                    size_t pc, size_t mc, size_t kc, size_t nc, const float* bpack,
                                    const float* bdirect, size_t ldb, float* apack, float* C,
                                    size_t ldc, size_t jc, bool beta, const GemmColStats* st) {
    if constexpr (AM == 0) pack_a(trans_a, A, lda, ic, pc, mc, kc, apack);
    const size_t alda = AM == 0 ? 0 : lda;
    for (size_t jr = 0; jr < nc; jr += NR) {
      const size_t nr = min_sz(NR, nc - jr);
      const float* bp;
      size_t bs;
      if (!bdirect) { bp = bpack + (jr / NR) * kc * NR; bs = NR; }
      else if (nr == NR) { bp = bdirect + jr; bs = ldb; }
      else { bp = bpack; bs = NR; }
      if constexpr (AM == 2 && W >= 8) {
        if (!st && nr <= W / 2) {
          edge_cols(nr, kc, A + pc * lda + ic, lda, bp, bs, C + ic * ldc + jc + jr, ldc, beta, mc);
          continue;
        }
      }
      for (size_t ir = 0; ir < mc; ir += MR) {
        const size_t mr = min_sz(MR, mc - ir);
        const float* ap = AM == 0 ? apack + (ir / MR) * kc * MR
                        : AM == 1 ? A + (ic + ir) * lda + pc
                                  : A + pc * lda + ic + ir;
        float* c = C + (ic + ir) * ldc + jc + jr;
        if (st) {
          const size_t row = ic + ir, q = row / kStatRows;
          float* s1 = st->part + q * 2 * st->ldp + jc + jr;
          const TileStats ts{st->shift + jc + jr, s1, s1 + st->ldp, row % kStatRows == 0};
          tile<AM>(kc, ap, bp, bs, c, ldc, beta, mr, nr, &ts, alda);
        } else if (mr == (size_t)MR && nr == NR) {
          ukernel_t<MR, false, NRV, AM>(kc, ap, bp, bs, c, ldc, beta, NR, nullptr, alda);
        } else {
          tile<AM>(kc, ap, bp, bs, c, ldc, beta, mr, nr, nullptr, alda);
        }
      }
    }
  }

  // Column stats of an already final C (K == 0), tile by tile like the epilogue.
  static void stats_of(const float* C, size_t ldc, size_t r0, size_t M, size_t N,
                       const GemmColStats* st) {
    for (size_t row = r0; row < M; row += MR) {
      const size_t mr = min_sz(MR, M - row);
      const size_t q = row / kStatRows;
      for (size_t j = 0; j < N; j += W) {
        const bool partial = j + W > N;
        const size_t n = partial ? N - j : W;
        const T sh = vld<V>(st->shift + j, partial, n);
        T s1v = V::zero(), s2v = V::zero();
        for (size_t i = 0; i < mr; ++i) {
          const T d = V::sub(vld<V>(C + (row + i) * ldc + j, partial, n), sh);
          s1v = V::add(s1v, d);
          s2v = V::fma(d, d, s2v);
        }
        float* s1 = st->part + q * 2 * st->ldp + j;
        const TileStats ts{nullptr, s1, s1 + st->ldp, row % kStatRows == 0};
        tile_stats_store(&ts, 0, s1v, s2v, partial, n);
      }
    }
  }

  // Team GEMM (KernelTable::gemm_team). Per op(B) block: members claim pieces of panels to pack
  // into the shared buffer of that block's parity, barrier, then claim row chunks of C. Two
  // buffers make one barrier per block enough: a member packing block b+1 has passed block b's
  // barrier, so every member has finished computing block b−1, the last reader of that buffer.
  // Claims come from counters numbered across the product: a member whose claim falls past the
  // current block keeps it for the block it belongs to (all members walk the blocks in order).
  // Row chunks: blocks of MCb rows (the cache blocking), the last rows in quarter-size chunks so
  // the members finish together. Same K blocks and per-element arithmetic as run() ->
  // bit-identical to it, whoever computes which chunk.
  static void run_team(GemmTeam* team, size_t tid, bool trans_a, bool trans_b, size_t M,
                       size_t N, size_t K, const float* A, size_t lda, const float* B,
                       size_t ldb, float* C, size_t ldc, bool accumulate,
                       const GemmColStats* stats = nullptr) {
    const size_t T = team->nthreads;
    const GemmBlocking bl = gemm_blocking(MR, NR);
    const size_t nkb = (K + bl.kc - 1) / bl.kc;
    size_t KB = (K + nkb - 1) / nkb;
    KB = (KB + 3) & ~static_cast<size_t>(3);
    const size_t NCb = bl.nc;
    // Row chunks: whole MR tiles (whole statistics chunks with stats).
    const size_t unit = stats ? kStatRows : MR;
    const size_t nmb = (M + bl.mc - 1) / bl.mc;
    size_t big = (M + nmb - 1) / nmb;
    big = (big + unit - 1) / unit * unit;
    size_t small = big / 4 / unit * unit;
    if (small < unit) small = unit;
    const size_t tail = T * big;
    const size_t n_big = M > tail ? (M - tail) / big : 0;
    const size_t rest = M - n_big * big;
    const size_t nchunks = n_big + (rest + small - 1) / small;
    const bool direct_a = N <= kDirectMaxN;  // as in run(): op(A) read in place
    float* apack = direct_a ? nullptr : kernel_scratch(1, big * KB);
    const size_t npan_max = (min_sz(NCb, N) + NR - 1) / NR;
    const size_t bsize = KB * npan_max * NR;
    if (tid == 0) team->shared_bpack = kernel_scratch(3, 2 * bsize);
    if (!team->barrier(team)) return;
    float* const bufs[2] = {team->shared_bpack, team->shared_bpack + bsize};
    constexpr size_t kNone = ~static_cast<size_t>(0);
    size_t pack_claim = kNone, rows_claim = kNone;
    size_t pack_base = 0, rows_base = 0, blk = 0;
    for (size_t jc = 0; jc < N; jc += NCb) {
      const size_t nc = min_sz(NCb, N - jc);
      const size_t np = (nc + NR - 1) / NR;
      // Pieces of about np / (4T) panels: a few per member.
      const size_t per = (np + 4 * T - 1) / (4 * T);
      const size_t npieces = (np + per - 1) / per;
      for (size_t pc = 0; pc < K; pc += KB, ++blk) {
        const size_t kc = min_sz(KB, K - pc);
        const bool beta = accumulate || pc > 0;
        float* bpack = bufs[blk & 1];
        for (;;) {
          if (pack_claim == kNone) pack_claim = team->next_pack.fetch_add(1, std::memory_order_relaxed);
          if (pack_claim >= pack_base + npieces) break;
          const size_t p0 = (pack_claim - pack_base) * per, p1 = min_sz(np, p0 + per);
          pack_b(trans_b, B, ldb, pc, jc + p0 * NR, kc, min_sz(nc, p1 * NR) - p0 * NR,
                 bpack + p0 * kc * NR);
          pack_claim = kNone;
        }
        pack_base += npieces;
        if (!team->barrier(team)) return;
        const GemmColStats* st = pc + kc == K ? stats : nullptr;
        for (;;) {
          if (rows_claim == kNone) rows_claim = team->next_rows.fetch_add(1, std::memory_order_relaxed);
          if (rows_claim >= rows_base + nchunks) break;
          const size_t g = rows_claim - rows_base;
          const size_t r0 = g < n_big ? g * big : n_big * big + (g - n_big) * small;
          const size_t r1 = min_sz(M, g < n_big ? r0 + big : r0 + small);
          compute_rows(direct_a, trans_a, A, lda, r0, pc, r1 - r0, kc, nc, bpack, nullptr, 0,
                       apack, C, ldc, jc, beta, st);
          rows_claim = kNone;
        }
        rows_base += nchunks;
      }
    }
  }
};

// =============================================================================================
// Activations (forward on x, backward through the output y). softmax is row-wise and handled
// by core/; here it behaves like linear.
// =============================================================================================
template <class V, Act A>
static inline typename V::T act_fwd(typename V::T x) {
  if constexpr (A == Act::relu) return V::max(x, V::zero());
  else if constexpr (A == Act::sigmoid) return sigmoid<V>(x);
  else if constexpr (A == Act::tanh) return tanh<V>(x);
  else return x;
}

// dy * act'(pre), expressed through y = act(pre).
template <class V, Act A>
static inline typename V::T act_bwd(typename V::T dy, typename V::T y) {
  if constexpr (A == Act::relu) return V::select_gt(y, V::zero(), dy, V::zero());
  else if constexpr (A == Act::sigmoid) return V::mul(dy, V::mul(y, V::sub(V::set1(1.0f), y)));
  else if constexpr (A == Act::tanh) return V::mul(dy, V::fnma(y, y, V::set1(1.0f)));
  else return dy;
}

// Load/store of vector v of a column strip whose last vector holds `tail` (1..W) lanes.

// Column-block driver for the per-column reductions and the batch-norm passes: they walk the
// rows of a block of up to kColBlock columns in memory order (each row's block is one contiguous
// stream; per-column accumulators and parameters sit in an L1 scratch array), instead of walking
// down column strips with a row-sized stride. Per column the arithmetic is unchanged: every
// accumulator adds its rows in ascending order.
constexpr size_t kColBlock = 1024;

template <class V, class Body>
static inline void for_col_blocks(size_t cols, Body&& body) {
  for (size_t j0 = 0; j0 < cols; j0 += kColBlock) body(j0, min_sz(kColBlock, cols - j0));
}

// Calls f(j, partial, n) for each vector of a block of nc columns (n = lanes left).
template <class V, class F>
static inline void for_vecs(size_t nc, F&& f) {
  constexpr size_t W = V::W;
  size_t j = 0;
  for (; j + W <= nc; j += W) f(j, false, W);
  if (j < nc) f(j, true, nc - j);
}

// Per-column scratch: `k` arrays of kColBlock floats (thread-local, slot 2; no kernel that uses
// it calls another one that does).
static inline float* col_scratch(size_t k) { return kernel_scratch(2, k * kColBlock); }

// =============================================================================================
// Per-column reductions (sum over rows; each lane accumulates its column in row order).
// =============================================================================================
template <class V>
static void col_sum(const float* X, size_t rows, size_t cols, size_t ld, float* out) {
  float* acc = col_scratch(1);
  for_col_blocks<V>(cols, [&](size_t j0, size_t nc) {
    for_vecs<V>(nc, [&](size_t j, bool, size_t) { V::store(acc + j, V::zero()); });
    for (size_t i = 0; i < rows; ++i) {
      const float* x = X + i * ld + j0;
      for_vecs<V>(nc, [&](size_t j, bool p, size_t n) {
        V::store(acc + j, V::add(V::load(acc + j), vld<V>(x + j, p, n)));
      });
    }
    for_vecs<V>(nc, [&](size_t j, bool p, size_t n) { vst<V>(out + j0 + j, V::load(acc + j), p, n); });
  });
}

template <class V>
static void col_mean_var(const float* X, size_t rows, size_t cols, size_t ld, float* mean,
                         float* var) {
  const auto inv_n = V::set1(rows ? 1.0f / static_cast<float>(rows) : 0.0f);
  float* acc = col_scratch(2);
  float* mu = acc + kColBlock;
  for_col_blocks<V>(cols, [&](size_t j0, size_t nc) {
    for_vecs<V>(nc, [&](size_t j, bool, size_t) { V::store(acc + j, V::zero()); });
    for (size_t i = 0; i < rows; ++i) {
      const float* x = X + i * ld + j0;
      for_vecs<V>(nc, [&](size_t j, bool p, size_t n) {
        V::store(acc + j, V::add(V::load(acc + j), vld<V>(x + j, p, n)));
      });
    }
    for_vecs<V>(nc, [&](size_t j, bool, size_t) {
      V::store(mu + j, V::mul(V::load(acc + j), inv_n));
      V::store(acc + j, V::zero());
    });
    for (size_t i = 0; i < rows; ++i) {
      const float* x = X + i * ld + j0;
      for_vecs<V>(nc, [&](size_t j, bool p, size_t n) {
        const auto d = V::sub(vld<V>(x + j, p, n), V::load(mu + j));
        V::store(acc + j, V::fma(d, d, V::load(acc + j)));
      });
    }
    for_vecs<V>(nc, [&](size_t j, bool p, size_t n) {
      vst<V>(mean + j0 + j, V::load(mu + j), p, n);
      vst<V>(var + j0 + j, V::mul(V::load(acc + j), inv_n), p, n);
    });
  });
}

template <class V, Act A>
static void bn_backward_reduce_t(const float* dY, const float* Y, const float* Z, size_t rows,
                                 size_t cols, const float* mean, const float* invstd, float* dU,
                                 float* sum_du, float* sum_du_xhat) {
  float* s1 = col_scratch(2);
  float* s2 = s1 + kColBlock;
  for_col_blocks<V>(cols, [&](size_t j0, size_t nc) {
    for_vecs<V>(nc, [&](size_t j, bool, size_t) {
      V::store(s1 + j, V::zero());
      V::store(s2 + j, V::zero());
    });
    for (size_t i = 0; i < rows; ++i) {
      const size_t o = i * cols + j0;
      for_vecs<V>(nc, [&](size_t j, bool p, size_t n) {
        const size_t q = o + j;
        const auto du = act_bwd<V, A>(vld<V>(dY + q, p, n), vld<V>(Y + q, p, n));
        vst<V>(dU + q, du, p, n);
        const auto xhat =
            V::mul(V::sub(vld<V>(Z + q, p, n), vld<V>(mean + j0 + j, p, n)), vld<V>(invstd + j0 + j, p, n));
        V::store(s1 + j, V::add(V::load(s1 + j), du));
        V::store(s2 + j, V::fma(du, xhat, V::load(s2 + j)));
      });
    }
    for_vecs<V>(nc, [&](size_t j, bool p, size_t n) {
      vst<V>(sum_du + j0 + j, V::load(s1 + j), p, n);
      vst<V>(sum_du_xhat + j0 + j, V::load(s2 + j), p, n);
    });
  });
}

template <class V>
static void bn_backward_reduce(const float* dY, const float* Y, const float* Z, size_t rows,
                               size_t cols, Act act, const float* mean, const float* invstd,
                               float* dU, float* sum_du, float* sum_du_xhat) {
  switch (act) {
    case Act::relu: bn_backward_reduce_t<V, Act::relu>(dY, Y, Z, rows, cols, mean, invstd, dU, sum_du, sum_du_xhat); break;
    case Act::sigmoid: bn_backward_reduce_t<V, Act::sigmoid>(dY, Y, Z, rows, cols, mean, invstd, dU, sum_du, sum_du_xhat); break;
    case Act::tanh: bn_backward_reduce_t<V, Act::tanh>(dY, Y, Z, rows, cols, mean, invstd, dU, sum_du, sum_du_xhat); break;
    default: bn_backward_reduce_t<V, Act::linear>(dY, Y, Z, rows, cols, mean, invstd, dU, sum_du, sum_du_xhat); break;
  }
}

// =============================================================================================
// Row-wise elementwise kernels (vectorized along the contiguous column axis, masked tail).
// =============================================================================================
template <class V, Act A>
static void scale_shift_act_t(const float* X, size_t rows, size_t cols, size_t ldx,
                              const float* scale, const float* shift, float* Y, size_t ldy) {
  using T = typename V::T;
  constexpr size_t W = V::W;
  const T one = V::set1(1.0f);
  for (size_t i = 0; i < rows; ++i) {
    const float* x = X + i * ldx;
    float* y = Y + i * ldy;
    for (size_t j = 0; j < cols; j += W) {
      const bool p = j + W > cols;
      const size_t n = cols - j;
      T sc = scale ? vld<V>(scale + j, p, n) : one;
      T sh = shift ? vld<V>(shift + j, p, n) : V::zero();
      vst<V>(y + j, act_fwd<V, A>(V::fma(vld<V>(x + j, p, n), sc, sh)), p, n);
    }
  }
}

template <class V>
static void scale_shift_act(const float* X, size_t rows, size_t cols, size_t ldx,
                            const float* scale, const float* shift, Act act, float* Y,
                            size_t ldy) {
  switch (act) {
    case Act::relu: scale_shift_act_t<V, Act::relu>(X, rows, cols, ldx, scale, shift, Y, ldy); break;
    case Act::sigmoid: scale_shift_act_t<V, Act::sigmoid>(X, rows, cols, ldx, scale, shift, Y, ldy); break;
    case Act::tanh: scale_shift_act_t<V, Act::tanh>(X, rows, cols, ldx, scale, shift, Y, ldy); break;
    default: scale_shift_act_t<V, Act::linear>(X, rows, cols, ldx, scale, shift, Y, ldy); break;
  }
}

template <class V, Act A>
static void act_backward_t(const float* dY, const float* Y, size_t n, float* dX) {
  constexpr size_t W = V::W;
  for (size_t j = 0; j < n; j += W) {
    const bool p = j + W > n;
    const size_t t = n - j;
    vst<V>(dX + j, act_bwd<V, A>(vld<V>(dY + j, p, t), vld<V>(Y + j, p, t)), p, t);
  }
}

template <class V>
static void act_backward(const float* dY, const float* Y, size_t n, Act act, float* dX) {
  switch (act) {
    case Act::relu: act_backward_t<V, Act::relu>(dY, Y, n, dX); break;
    case Act::sigmoid: act_backward_t<V, Act::sigmoid>(dY, Y, n, dX); break;
    case Act::tanh: act_backward_t<V, Act::tanh>(dY, Y, n, dX); break;
    default:
      if (dX != dY) std::memmove(dX, dY, n * sizeof(float));
      break;
  }
}

template <class V>
static void bn_backward_dx(const float* dU, const float* Z, size_t rows, size_t cols,
                           const float* mean, const float* invstd, const float* gamma,
                           const float* sum_du, const float* sum_du_xhat, float* dZ) {
  const auto inv_n = V::set1(rows ? 1.0f / static_cast<float>(rows) : 0.0f);
  // Per column block: k = gamma·invstd, a = sum_du/rows, b = sum_du_xhat/rows into L1 scratch,
  // then the rows in memory order.
  float* kv = col_scratch(3);
  float* av = kv + kColBlock;
  float* bv = av + kColBlock;
  for_col_blocks<V>(cols, [&](size_t j0, size_t nc) {
    for_vecs<V>(nc, [&](size_t j, bool p, size_t n) {
      const auto is = vld<V>(invstd + j0 + j, p, n);
      V::store(kv + j, gamma ? V::mul(vld<V>(gamma + j0 + j, p, n), is) : is);
      V::store(av + j, V::mul(vld<V>(sum_du + j0 + j, p, n), inv_n));
      V::store(bv + j, V::mul(vld<V>(sum_du_xhat + j0 + j, p, n), inv_n));
    });
    for (size_t i = 0; i < rows; ++i) {
      const size_t o = i * cols + j0;
      for_vecs<V>(nc, [&](size_t j, bool p, size_t n) {
        const size_t q = o + j;
        const auto xhat =
            V::mul(V::sub(vld<V>(Z + q, p, n), vld<V>(mean + j0 + j, p, n)), vld<V>(invstd + j0 + j, p, n));
        const auto d = V::fnma(xhat, V::load(bv + j), V::sub(vld<V>(dU + q, p, n), V::load(av + j)));
        vst<V>(dZ + q, V::mul(V::load(kv + j), d), p, n);
      });
    }
  });
}

// =============================================================================================
// Optimizers (flat arrays, in place).
// =============================================================================================
template <class V>
static void sgd_update(size_t n, float* p, const float* g, float* vel, float lr, float momentum,
                       bool nesterov, float weight_decay) {
  using T = typename V::T;
  constexpr size_t W = V::W;
  const T vlrwd = V::set1(lr * weight_decay), vlr = V::set1(lr), vmom = V::set1(momentum);
  const bool wd = weight_decay != 0.0f;
  const bool mom = momentum != 0.0f && vel != nullptr;
  for (size_t j = 0; j < n; j += W) {
    const bool pt = j + W > n;
    const size_t t = n - j;
    T pv = vld<V>(p + j, pt, t);
    T gv = vld<V>(g + j, pt, t);
    if (wd) pv = V::fnma(vlrwd, pv, pv);
    if (!mom) {
      pv = V::fnma(vlr, gv, pv);
    } else {
      T v = V::fnma(vlr, gv, V::mul(vmom, vld<V>(vel + j, pt, t)));  // v = m*v - lr*g
      vst<V>(vel + j, v, pt, t);
      if (nesterov) pv = V::add(pv, V::fnma(vlr, gv, V::mul(vmom, v)));  // p += m*v - lr*g
      else pv = V::add(pv, v);
    }
    vst<V>(p + j, pv, pt, t);
  }
}

template <class V>
static void adam_update(size_t n, float* p, const float* g, float* m, float* v, float lr,
                        float lr_t, float beta1, float beta2, float eps_hat, float weight_decay) {
  using T = typename V::T;
  constexpr size_t W = V::W;
  const T vlrwd = V::set1(lr * weight_decay), vlrt = V::set1(lr_t), b1 = V::set1(beta1),
          b2 = V::set1(beta2), c1 = V::set1(1.0f - beta1), c2 = V::set1(1.0f - beta2),
          eps = V::set1(eps_hat);
  const bool wd = weight_decay != 0.0f;
  for (size_t j = 0; j < n; j += W) {
    const bool pt = j + W > n;
    const size_t t = n - j;
    T pv = vld<V>(p + j, pt, t);
    T gv = vld<V>(g + j, pt, t);
    if (wd) pv = V::fnma(vlrwd, pv, pv);
    T mv = V::fma(c1, gv, V::mul(b1, vld<V>(m + j, pt, t)));
    T vv = V::fma(c2, V::mul(gv, gv), V::mul(b2, vld<V>(v + j, pt, t)));
    vst<V>(m + j, mv, pt, t);
    vst<V>(v + j, vv, pt, t);
    pv = V::sub(pv, V::div(V::mul(vlrt, mv), V::add(V::sqrt(vv), eps)));
    vst<V>(p + j, pv, pt, t);
  }
}

template <class V>
static void rmsprop_update(size_t n, float* p, const float* g, float* ms, float* mom, float lr,
                           float rho, float momentum, float eps, float weight_decay) {
  using T = typename V::T;
  constexpr size_t W = V::W;
  const T vlrwd = V::set1(lr * weight_decay), vlr = V::set1(lr), vrho = V::set1(rho),
          c = V::set1(1.0f - rho), vmom = V::set1(momentum), veps = V::set1(eps);
  const bool wd = weight_decay != 0.0f;
  const bool use_mom = momentum != 0.0f && mom != nullptr;
  for (size_t j = 0; j < n; j += W) {
    const bool pt = j + W > n;
    const size_t t = n - j;
    T pv = vld<V>(p + j, pt, t);
    T gv = vld<V>(g + j, pt, t);
    if (wd) pv = V::fnma(vlrwd, pv, pv);
    T s = V::fma(c, V::mul(gv, gv), V::mul(vrho, vld<V>(ms + j, pt, t)));
    vst<V>(ms + j, s, pt, t);
    T step = V::div(V::mul(vlr, gv), V::add(V::sqrt(s), veps));
    if (use_mom) {
      T mo = V::fma(vmom, vld<V>(mom + j, pt, t), step);
      vst<V>(mom + j, mo, pt, t);
      pv = V::sub(pv, mo);
    } else {
      pv = V::sub(pv, step);
    }
    vst<V>(p + j, pv, pt, t);
  }
}

}  // namespace DENSENORM_KERNEL_NS
}  // namespace densenorm

#include "row_norm_impl.h"

// Defines, in namespace densenorm, the exported entry points for one ISA:
//   densenorm_f32_gemm_ukernel_<MR>x<NR>__<isa>   the register-blocked microkernel
//   densenorm_f32_<op>__<isa>                     one per KernelTable entry
//   const KernelTable* densenorm_kernel_table_<isa>()
// VT: vector struct; MR/NRV: microkernel rows and vectors per row; TILE: "<MR>x<NR>" token.
// The _AS form sets the table's Isa explicitly (the selftest's width-16 emulation uses it).
#define DENSENORM_DEFINE_KERNEL_TABLE(isa, VT, MR, NRV, TILE) \
  DENSENORM_DEFINE_KERNEL_TABLE_AS(isa, Isa::isa, VT, MR, NRV, TILE)
#define DENSENORM_DEFINE_KERNEL_TABLE_AS(isa, ISA_ENUM, VT, MR, NRV, TILE)                       \
  namespace densenorm {                                                                          \
  namespace {                                                                                    \
  using KGemm_ = DENSENORM_KERNEL_NS::Gemm<DENSENORM_KERNEL_NS::VT, MR, NRV>;                    \
  }                                                                                              \
  void densenorm_f32_gemm_ukernel_##TILE##__##isa(size_t kc, const float* a, const float* b,     \
                                                  float* c, size_t ldc, bool beta) {             \
    KGemm_::ukernel(kc, a, b, c, ldc, beta);                                                     \
  }                                                                                              \
  void densenorm_f32_gemm__##isa(bool ta, bool tb, size_t M, size_t N, size_t K, const float* A, \
                                 size_t lda, const float* B, size_t ldb, float* C, size_t ldc,   \
                                 bool acc, const GemmColStats* st) {                             \
    KGemm_::run(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, acc, st);                               \
  }                                                                                              \
  void densenorm_f32_gemm_team__##isa(GemmTeam* team, size_t tid, bool ta, bool tb, size_t M,    \
                                      size_t N, size_t K, const float* A, size_t lda,            \
                                      const float* B, size_t ldb, float* C, size_t ldc,          \
                                      bool acc, const GemmColStats* st) {                        \
    KGemm_::run_team(team, tid, ta, tb, M, N, K, A, lda, B, ldb, C, ldc, acc, st);               \
  }                                                                                              \
  size_t densenorm_f32_gemm_kblock__##isa(size_t K) { return KGemm_::kblock(K); }              \
  size_t densenorm_f32_gemm_packed_b_size__##isa(size_t K, size_t N) {                          \
    return KGemm_::packed_b_size(K, N);                                                          \
  }                                                                                              \
  void densenorm_f32_gemm_pack_b__##isa(bool tb, const float* B, size_t ldb, size_t K, size_t N, \
                                        float* out) {                                            \
    KGemm_::pack_b_all(tb, B, ldb, K, N, out);                                                   \
  }                                                                                              \
  void densenorm_f32_gemm_prepacked__##isa(bool ta, size_t M, size_t N, size_t K,                \
                                           const float* A, size_t lda, const float* BP,          \
                                           size_t ldbp, size_t j0, float* C, size_t ldc,         \
                                           bool acc) {                                           \
    KGemm_::run_prepacked(ta, M, N, K, A, lda, BP, ldbp, j0, C, ldc, acc);                       \
  }                                                                                              \
  void densenorm_f32_col_mean_var__##isa(const float* X, size_t r, size_t c, size_t ld,          \
                                         float* mean, float* var) {                              \
    DENSENORM_KERNEL_NS::col_mean_var<DENSENORM_KERNEL_NS::VT>(X, r, c, ld, mean, var);          \
  }                                                                                              \
  void densenorm_f32_col_sum__##isa(const float* X, size_t r, size_t c, size_t ld, float* out) { \
    DENSENORM_KERNEL_NS::col_sum<DENSENORM_KERNEL_NS::VT>(X, r, c, ld, out);                     \
  }                                                                                              \
  void densenorm_f32_scale_shift_act__##isa(const float* X, size_t r, size_t c, size_t ldx,      \
                                            const float* sc, const float* sh, Act act, float* Y, \
                                            size_t ldy) {                                        \
    DENSENORM_KERNEL_NS::scale_shift_act<DENSENORM_KERNEL_NS::VT>(X, r, c, ldx, sc, sh, act, Y,  \
                                                                  ldy);                          \
  }                                                                                              \
  void densenorm_f32_act_backward__##isa(const float* dY, const float* Y, size_t n, Act act,     \
                                         float* dX) {                                            \
    DENSENORM_KERNEL_NS::act_backward<DENSENORM_KERNEL_NS::VT>(dY, Y, n, act, dX);               \
  }                                                                                              \
  void densenorm_f32_bn_backward_reduce__##isa(const float* dY, const float* Y, const float* Z,  \
                                               size_t r, size_t c, Act act, const float* mean,   \
                                               const float* invstd, float* dU, float* s1,        \
                                               float* s2) {                                      \
    DENSENORM_KERNEL_NS::bn_backward_reduce<DENSENORM_KERNEL_NS::VT>(dY, Y, Z, r, c, act, mean,  \
                                                                     invstd, dU, s1, s2);        \
  }                                                                                              \
  void densenorm_f32_bn_backward_dx__##isa(const float* dU, const float* Z, size_t r, size_t c,  \
                                           const float* mean, const float* invstd,               \
                                           const float* gamma, const float* s1, const float* s2, \
                                           float* dZ) {                                          \
    DENSENORM_KERNEL_NS::bn_backward_dx<DENSENORM_KERNEL_NS::VT>(dU, Z, r, c, mean, invstd,      \
                                                                 gamma, s1, s2, dZ);             \
  }                                                                                              \
  void densenorm_f32_sgd_update__##isa(size_t n, float* p, const float* g, float* vel, float lr, \
                                       float mom, bool nest, float wd) {                         \
    DENSENORM_KERNEL_NS::sgd_update<DENSENORM_KERNEL_NS::VT>(n, p, g, vel, lr, mom, nest, wd);   \
  }                                                                                              \
  void densenorm_f32_adam_update__##isa(size_t n, float* p, const float* g, float* m, float* v,  \
                                        float lr, float lr_t, float b1, float b2, float eps,     \
                                        float wd) {                                              \
    DENSENORM_KERNEL_NS::adam_update<DENSENORM_KERNEL_NS::VT>(n, p, g, m, v, lr, lr_t, b1, b2,   \
                                                              eps, wd);                          \
  }                                                                                              \
  void densenorm_f32_rmsprop_update__##isa(size_t n, float* p, const float* g, float* ms,        \
                                           float* mom, float lr, float rho, float momentum,      \
                                           float eps, float wd) {                                \
    DENSENORM_KERNEL_NS::rmsprop_update<DENSENORM_KERNEL_NS::VT>(n, p, g, ms, mom, lr, rho,      \
                                                                 momentum, eps, wd);             \
  }                                                                                              \
  void densenorm_f32_row_norm_forward__##isa(const float* X, size_t r, size_t c, size_t g,       \
                                             bool rms, float eps, const float* gamma,            \
                                             const float* beta, Act act, float* xhat,            \
                                             float* mean, float* invstd, float* Y) {             \
    DENSENORM_KERNEL_NS::row_norm_forward<DENSENORM_KERNEL_NS::VT>(X, r, c, g, rms, eps, gamma,  \
                                                                   beta, act, xhat, mean,        \
                                                                   invstd, Y);                   \
  }                                                                                              \
  void densenorm_f32_row_norm_backward__##isa(const float* dU, const float* xhat, size_t r,      \
                                              size_t c, size_t g, bool rms, const float* gamma,  \
                                              const float* invstd, float* dX) {                  \
    DENSENORM_KERNEL_NS::row_norm_backward<DENSENORM_KERNEL_NS::VT>(dU, xhat, r, c, g, rms,      \
                                                                    gamma, invstd, dX);          \
  }                                                                                              \
  const KernelTable* densenorm_kernel_table_##isa() {                                            \
    static const KernelTable table = {                                                           \
        ISA_ENUM,                                                                                \
        &densenorm_f32_gemm__##isa,                                                              \
        &densenorm_f32_col_mean_var__##isa,                                                      \
        &densenorm_f32_col_sum__##isa,                                                           \
        &densenorm_f32_scale_shift_act__##isa,                                                   \
        &densenorm_f32_act_backward__##isa,                                                      \
        &densenorm_f32_bn_backward_reduce__##isa,                                                \
        &densenorm_f32_bn_backward_dx__##isa,                                                    \
        &densenorm_f32_sgd_update__##isa,                                                        \
        &densenorm_f32_adam_update__##isa,                                                       \
        &densenorm_f32_rmsprop_update__##isa,                                                    \
        &densenorm_f32_gemm_team__##isa,                                                         \
        &densenorm_f32_gemm_kblock__##isa,                                                       \
        KGemm_::NR,                                                                              \
        &densenorm_f32_gemm_packed_b_size__##isa,                                                \
        &densenorm_f32_gemm_pack_b__##isa,                                                       \
        &densenorm_f32_gemm_prepacked__##isa,                                                    \
        &densenorm_f32_row_norm_forward__##isa,                                                  \
        &densenorm_f32_row_norm_backward__##isa,                                                 \
    };                                                                                           \
    return &table;                                                                               \
  }                                                                                              \
  }  // namespace densenorm

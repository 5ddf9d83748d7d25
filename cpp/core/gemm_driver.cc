// Threaded GEMM driver (parallel.h). Tall, narrow problems: a team (kernels().gemm_team) whose members
// claim row chunks against each shared packed op(B) block. Otherwise: a grid of balanced C blocks,
// kernels().gemm on each.
// Column ranges are multiples of the microkernel's NR (KernelTable::gemm_nr: 4, 16, 32), row
// ranges multiples of kRowAlign (a multiple of every MR: 4, 6, 8). Bit-identical results for any
// thread count hold regardless, because the kernels' K-summation order per C(i,j) is independent
// of M, N and the block (see cpp/kernels/README.md); the alignment only avoids edge tiles.
#include <atomic>
#include <cstddef>
#include <algorithm>
#include <cstring>
#include <vector>
#include <thread>

#include "densenorm/kernels.h"
#include "densenorm/parallel.h"
#include "densenorm/settings.h"
#include "densenorm/spin.h"

namespace densenorm {

namespace {
constexpr size_t kRowAlign = 24;  // = kStatRows (kernels.h), a multiple of every MR
static_assert(kRowAlign % kStatRows == 0, "row splits must keep statistics chunks whole");
// Below 1 MFLOP (2·M·N·K < 1e6) one thread; tasks of at least 0.5 MFLOP: the pool's workers spin
// between the regions of a step, so a split costs only a few µs.
constexpr double kMinFlops = 1e6;
constexpr double kMinFlopsPerTask = 5e5;
constexpr size_t kStreamMaxRows = 8;        // the kernels' small-M (streaming) path: M <= MR
constexpr double kMinStreamBytes = 256e3;   // op(B) bytes from which a streaming GEMM is split
constexpr size_t kMinEpilogueElems = 64 * 1024;  // C elements from which cols_done is spread

// Team policy (set_gemm_team_policy): a team when M >= rows·threads and N < cols·threads. The
// defaults come from DENSENORM_GEMM_TEAM_ROWS / DENSENORM_GEMM_TEAM_COLS (read once), else 256
// rows and 64 columns per thread. The column grid is faster at 64 columns per thread and more;
// its cost is op(A) packed once per thread, which grows as each thread's columns shrink, hence
// the team below that (many threads, narrow layers). The team also keeps its edge on a busy
// host (cpp/kernels/README.md: claimed chunks).
std::atomic<size_t> g_team_rows{0}, g_team_cols{0};  // 0: the defaults (settings.h)
size_t team_min_rows_per_thread() {
  const size_t v = g_team_rows.load(std::memory_order_relaxed);
  return v ? v : settings::gemm_team_rows();
}
size_t team_max_cols_per_thread() {
  const size_t v = g_team_cols.load(std::memory_order_relaxed);
  return v ? v : settings::gemm_team_cols();
}

size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

// Sense-reversing spin barrier for GemmTeam (spins briefly, then yields: the machine may be
// oversubscribed). abort releases every waiter for good (a member threw).
struct TeamBarrier {
  std::atomic<size_t> arrived{0};
  std::atomic<unsigned> phase{0};
  std::atomic<bool> abort{false};
  size_t n = 1;
};

bool team_barrier(GemmTeam* team) {
  TeamBarrier& b = *static_cast<TeamBarrier*>(team->ctx);
  if (b.abort.load(std::memory_order_acquire)) return false;
  const unsigned ph = b.phase.load(std::memory_order_acquire);
  if (b.arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == b.n) {
    b.arrived.store(0, std::memory_order_relaxed);
    b.phase.store(ph + 1, std::memory_order_release);
    return true;
  }
  for (unsigned spin = 0; b.phase.load(std::memory_order_acquire) == ph; ++spin) {
    if (b.abort.load(std::memory_order_acquire)) return false;
    if (spin < 4096) cpu_relax();
    else std::this_thread::yield();
  }
  return true;
}

// cols_done over [0, N) after a product that was not split by columns: a few column ranges per
// thread when the block is big enough to pay for the pool, else one call.
void cols_done_after(const ColsDone* cols_done, size_t M, size_t N) {
  if (!cols_done) return;
  const size_t nt = static_cast<size_t>(num_threads());
  constexpr size_t kAlign = 16;
  if (nt <= 1 || M * N < kMinEpilogueElems || N <= kAlign) {
    (*cols_done)(0, N);
    return;
  }
  const size_t units = ceil_div(N, kAlign);
  const size_t tasks = std::min(units, nt * 4);
  parallel_for(tasks, [&](size_t t) {
    const size_t j0 = std::min(N, t * units / tasks * kAlign);
    const size_t j1 = std::min(N, (t + 1) * units / tasks * kAlign);
    if (j1 > j0) (*cols_done)(j0, j1);
  });
}

// The column/row grid over C for nt tasks: columns first (each task then packs only its own part
// of B), rows when N alone is too narrow. Ranges are whole microkernel tiles (NR columns; kRowAlign
// rows, which keeps statistics chunks whole), balanced: task t of n gets units [t·u/n, (t+1)·u/n)
// (N = 100 on 2 threads with NR = 16: 48 + 52 columns, not 64 + 36). Calls block(i0, m, j0, n) for
// each non-empty block on the pool, or block(0, M, 0, N) once when the grid has one cell, then
// cols_done: on each block's columns right after it when the grid has columns only (this core's
// cache), else spread after the product.
template <class Block>
void grid(size_t nt, size_t M, size_t N, size_t col_align, const ColsDone* cols_done,
          Block&& block) {
  const size_t col_units = ceil_div(N, col_align);
  const size_t row_units = ceil_div(M, kRowAlign);
  size_t tn = nt < col_units ? nt : col_units;
  size_t tm = nt / tn;
  if (tm > row_units) tm = row_units;
  if (tm < 1) tm = 1;
  if (tn * tm <= 1) {
    block(size_t{0}, M, size_t{0}, N);
    cols_done_after(cols_done, M, N);
    return;
  }
  auto bound = [](size_t t, size_t units, size_t tasks, size_t align, size_t total) {
    return std::min(total, t * units / tasks * align);
  };
  parallel_for(tn * tm, [&](size_t t) {
    const size_t bi = t / tn, bj = t % tn;
    const size_t i0 = bound(bi, row_units, tm, kRowAlign, M);
    const size_t m = bound(bi + 1, row_units, tm, kRowAlign, M) - i0;
    const size_t j0 = bound(bj, col_units, tn, col_align, N);
    const size_t n = bound(bj + 1, col_units, tn, col_align, N) - j0;
    if (m == 0 || n == 0) return;
    block(i0, m, j0, n);
    if (cols_done && tm == 1) (*cols_done)(j0, j0 + n);  // these columns are final
  });
  if (tm > 1) cols_done_after(cols_done, M, N);
}
}  // namespace

void set_gemm_team_policy(size_t min_rows_per_thread, size_t max_cols_per_thread) {
  g_team_rows.store(min_rows_per_thread, std::memory_order_relaxed);
  g_team_cols.store(max_cols_per_thread, std::memory_order_relaxed);
}

void gemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, const float* A, size_t lda,
          const float* B, size_t ldb, float* C, size_t ldc, bool accumulate,
          const GemmColStats* stats, const ColsDone* cols_done, const KernelTable* table) {
  const KernelTable& kt = table ? *table : kernels();
  if (M == 0 || N == 0) return;

  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  size_t nt = static_cast<size_t>(num_threads());
  // A few rows against a plain B (inference at small batch): B is streamed once, so the cost is
  // its bytes, not the flops; split its columns once it is big enough to pay for the wake-up.
  const bool streaming = !trans_b && M <= kStreamMaxRows;
  const double bytes = 4.0 * static_cast<double>(N) * static_cast<double>(K);
  if (nt <= 1 || K == 0 || (streaming ? bytes < kMinStreamBytes : flops < kMinFlops)) {
    kt.gemm(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate, stats);
    cols_done_after(cols_done, M, N);
    return;
  }
  // Streaming, inference (no statistics): split K by the kernel's own blocks, so each thread reads
  // whole consecutive rows of B (one sequential stream, unlike a column split's half rows); every
  // block's product goes to its own buffer and the buffers are added to C in block order, which
  // is what one call does (C = acc₀ or C + acc₀, then C + acc₁, …): bit-identical.
  if (streaming && !stats && kt.gemm_kblock) {
    const size_t KB = kt.gemm_kblock(K);
    const size_t nkb = (K + KB - 1) / KB;
    if (nkb >= 2) {
      thread_local std::vector<float> blocks;
      if (blocks.size() < nkb * M * N) blocks.resize(nkb * M * N);
      float* P = blocks.data();
      // An even share of whole blocks per thread; a block left over (K = 784 or 1024 gives 3
      // blocks of ~300 rows: 2 + 1 on 2 threads) is split by columns into one part per thread,
      // each reading part rows. Not every block by columns: half rows (2 KB of each 4 KB row)
      // restart the prefetcher on every page.
      const size_t units = ceil_div(N, kt.gemm_nr);
      const size_t whole = nkb / nt * nt, rest = nkb - whole;
      const size_t cp = rest == 0 ? 1 : std::min(nt, units);
      auto part = [&](size_t b, size_t c, size_t parts) {
        const size_t j0 = std::min(N, c * units / parts * kt.gemm_nr);
        const size_t j1 = std::min(N, (c + 1) * units / parts * kt.gemm_nr);
        if (j1 <= j0) return;
        const size_t k0 = b * KB, kc = std::min(KB, K - k0);
        const float* a = trans_a ? A + k0 * lda : A + k0;
        kt.gemm(trans_a, false, M, j1 - j0, kc, a, lda, B + k0 * ldb + j0, ldb, P + b * M * N + j0,
                N, false, nullptr);
      };
      parallel_for(whole + rest * cp, [&](size_t t) {
        if (t < whole) part(t, 0, 1);
        else part(whole + (t - whole) / cp, (t - whole) % cp, cp);
      });
      for (size_t i = 0; i < M; ++i) {
        float* c = C + i * ldc;
        const float* p0 = P + i * N;
        if (accumulate)
          for (size_t j = 0; j < N; ++j) c[j] = c[j] + p0[j];
        else
          std::memcpy(c, p0, N * sizeof(float));
        for (size_t b = 1; b < nkb; ++b) {
          const float* pb = P + b * M * N + i * N;
          for (size_t j = 0; j < N; ++j) c[j] = c[j] + pb[j];
        }
      }
      cols_done_after(cols_done, M, N);
      return;
    }
  }
  const size_t max_tasks = streaming ? static_cast<size_t>(bytes / (kMinStreamBytes / 2))
                                     : static_cast<size_t>(flops / kMinFlopsPerTask);
  if (nt > max_tasks) nt = max_tasks < 1 ? 1 : max_tasks;

  // Narrow products (N <= kGemmDirectMaxN) read op(A) in place, so the grid packs nothing twice and
  // the team has nothing to save but still pays its barrier and claims. An explicit
  // set_gemm_team_policy applies as given (tests reach the team on every shape).
  const bool direct_a = N <= kGemmDirectMaxN && g_team_rows.load(std::memory_order_relaxed) == 0;
  // Tall and narrow: a team splits the rows (each member packs only its rows of op(A)) and packs each
  // op(B) block once, cooperatively, into a shared buffer.
  if (!direct_a && kt.gemm_team && !streaming && M >= team_min_rows_per_thread() * nt &&
      N < team_max_cols_per_thread() * nt) {
    TeamBarrier tb;
    tb.n = nt;  // nt <= num_threads(): parallel_team runs exactly nt members, or one alone
    GemmTeam team;
    team.nthreads = nt;
    team.barrier = &team_barrier;
    team.ctx = &tb;
    parallel_team(nt, [&](size_t tid, size_t size) {
      if (size != nt) {  // the pool was busy (or resized meanwhile): member 0 does it all
        if (tid == 0) kt.gemm(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate, stats);
        return;
      }
      try {
        kt.gemm_team(&team, tid, trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate,
                     stats);
      } catch (...) {
        tb.abort.store(true, std::memory_order_release);
        throw;
      }
    });
    cols_done_after(cols_done, M, N);
    return;
  }

  grid(nt, M, N, kt.gemm_nr, cols_done, [&](size_t i0, size_t m, size_t j0, size_t n) {
    const float* a = trans_a ? A + i0 : A + i0 * lda;      // op(A) rows i0..
    const float* b = trans_b ? B + j0 * ldb : B + j0;      // op(B) cols j0..
    if (stats) {  // i0 is a multiple of kStatRows: chunk i0 / kStatRows starts this call
      const GemmColStats sub{stats->shift + j0, stats->part + i0 / kStatRows * 2 * stats->ldp + j0,
                             stats->ldp};
      kt.gemm(trans_a, trans_b, m, n, K, a, lda, b, ldb, C + i0 * ldc + j0, ldc, accumulate, &sub);
    } else {
      kt.gemm(trans_a, trans_b, m, n, K, a, lda, b, ldb, C + i0 * ldc + j0, ldc, accumulate,
              nullptr);
    }
  });
}

void gemm_prepacked(bool trans_a, size_t M, size_t N, size_t K, const float* A, size_t lda,
                    const float* BP, float* C, size_t ldc, const ColsDone* cols_done,
                    const KernelTable* table) {
  const KernelTable& kt = table ? *table : kernels();
  if (M == 0 || N == 0) return;
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  size_t nt = static_cast<size_t>(num_threads());
  const size_t max_tasks = static_cast<size_t>(flops / kMinFlopsPerTask);
  if (nt > max_tasks) nt = max_tasks < 1 ? 1 : max_tasks;
  // gemm's grid (no op(B) to pack, so a row split costs nothing extra either)
  if (K == 0 || flops < kMinFlops) nt = 1;
  grid(nt, M, N, kt.gemm_nr, cols_done, [&](size_t i0, size_t m, size_t j0, size_t n) {
    const float* a = trans_a ? A + i0 : A + i0 * lda;
    kt.gemm_prepacked(trans_a, m, n, K, a, lda, BP, N, j0, C + i0 * ldc + j0, ldc, false);
  });
}

}  // namespace densenorm

// The one kernel table: every ISA-specific entry point of the core.
// Filled once (dispatch/dispatch.cc) from CPUID + XGETBV, or forced lower by DENSENORM_ISA.
// All matrices are row-major float32. No entry allocates, throws, or spawns threads:
// threading belongs to the drivers in core/ (see cpp/kernels/README.md).
#pragma once
#include <atomic>
#include <cstddef>

namespace densenorm {

// scalar runs everywhere; avx2 < avx512 on x86-64; neon on AArch64 (the numbering is no ranking
// across architectures: isa_runs() says what this build and CPU can run).
enum class Isa : int { scalar = 0, avx2 = 1, avx512 = 2, neon = 3 };
constexpr int kIsaCount = 4;
const char* isa_name(Isa isa);  // "scalar" | "avx2" | "avx512" | "neon"

// Activations. Softmax is row-wise (over the feature axis of one row).
enum class Act : int { linear = 0, relu = 1, sigmoid = 2, tanh = 3, softmax = 4 };

// Team state for KernelTable::gemm_team (set up by the caller, see gemm_driver.cc).
// Work is claimed, not assigned: members take the next piece from a shared counter, so a member
// slowed down (a busy sibling hyperthread, a descheduled vCPU) does less of it instead of making
// the others wait at the barrier.
struct GemmTeam {
  size_t nthreads = 1;
  // Waits until every member arrived; false when the team aborted (a member threw): return.
  bool (*barrier)(GemmTeam* team) = nullptr;
  void* ctx = nullptr;                     // the barrier's state
  float* volatile shared_bpack = nullptr;  // published by member 0 before the first barrier
  // Claim counters (pieces of op(B) to pack, row chunks of C to compute), numbered across the
  // whole product in block order; every member walks the blocks in the same order.
  std::atomic<size_t> next_pack{0};
  std::atomic<size_t> next_rows{0};
};

// Optional GEMM epilogue for a product feeding batch normalization: per-column shifted sums of
// the final C, taken while each tile is still in registers (no second pass over C). Rows are
// grouped in fixed chunks of kStatRows rows (a multiple of every microkernel MR: 4, 6, 8); for
// chunk q and column j of the call:
//   part[q·2·ldp + j]       = Σ_{i in chunk q} (C(i,j) − shift[j])
//   part[q·2·ldp + ldp + j] = Σ_{i in chunk q} (C(i,j) − shift[j])²
// Each tile sums its rows in ascending order, and the chunk's tiles are added in ascending row
// order (the chunk's first tile writes, the others add), so the partials do not depend on how C
// is split across threads as long as no chunk is split (the driver keeps row splits on chunk
// boundaries). Chunk 0 starts at the call's row 0; the driver offsets shift/part for sub-calls.
constexpr size_t kStatRows = 24;

// Products with N <= kGemmDirectMaxN read op(A) in place (no packing; Gemm::run), so the threaded
// driver's column grid packs nothing twice for them and it never runs them as a team.
constexpr size_t kGemmDirectMaxN = 128;
struct GemmColStats {
  const float* shift;  // [N]
  float* part;         // [ceil(M / kStatRows) × 2 × ldp]
  size_t ldp;          // row stride of part (>= N: the whole problem's N)
};

struct KernelTable {
  Isa isa;

  // C[M×N] (= or +=) op(A)[M×K] · op(B)[K×N].
  // op(A) = A (A is M×K, row stride lda) or Aᵀ (A is K×M, row stride lda) when trans_a;
  // op(B) = B (K×N, ldb) or Bᵀ (B is N×K, ldb) when trans_b. accumulate=false overwrites C.
  // Single-threaded; the driver calls it on disjoint column ranges of C. For a given (i,j) the
  // summation order over K must not depend on M, N or on the column range (bit-identical results
  // for every thread split).
  // stats (nullable): also the per-column shifted sums of the result (see GemmColStats).
  void (*gemm)(bool trans_a, bool trans_b, size_t M, size_t N, size_t K,
               const float* A, size_t lda, const float* B, size_t ldb,
               float* C, size_t ldc, bool accumulate, const GemmColStats* stats);

  // Per-column (feature) mean and biased variance of X[rows×cols] (row stride ld), computed in
  // two passes (mean, then Σ(x−mean)²) so there is no catastrophic cancellation.
  void (*col_mean_var)(const float* X, size_t rows, size_t cols, size_t ld,
                       float* mean, float* var);

  // Per-column sum of X[rows×cols]: out[j] = Σ_i X[i,j]  (bias gradients, Σdu).
  void (*col_sum)(const float* X, size_t rows, size_t cols, size_t ld, float* out);

  // Y[i,j] = act(X[i,j]*scale[j] + shift[j]) for an elementwise act (not softmax).
  // scale may be nullptr (=1), shift may be nullptr (=0). X and Y may alias.
  // Used for: batch-norm normalize+scale+shift+activation, and bias+activation.
  void (*scale_shift_act)(const float* X, size_t rows, size_t cols, size_t ldx,
                          const float* scale, const float* shift, Act act,
                          float* Y, size_t ldy);

  // dX = dY ⊙ act'(from Y = act(pre)), elementwise act (not softmax), expressed through the
  // activation's output Y: relu: Y>0; sigmoid: Y(1−Y); tanh: 1−Y²; linear: 1. dX may alias dY.
  void (*act_backward)(const float* dY, const float* Y, size_t n, Act act, float* dX);

  // Batch-norm backward reductions over rows, fused with the activation gradient:
  //   du[i,j] = dY[i,j]·act'(Y[i,j])      (act elementwise; written to dU, which may alias dY)
  //   sum_du[j] = Σ_i du[i,j];  sum_du_xhat[j] = Σ_i du[i,j]·(Z[i,j]−mean[j])·invstd[j]
  void (*bn_backward_reduce)(const float* dY, const float* Y, const float* Z,
                             size_t rows, size_t cols, Act act,
                             const float* mean, const float* invstd,
                             float* dU, float* sum_du, float* sum_du_xhat);

  // Batch-norm input gradient:
  //   dZ[i,j] = k[j]·(dU[i,j] − sum_du[j]/rows − (Z[i,j]−mean[j])·invstd[j]·sum_du_xhat[j]/rows)
  // with k[j] = gamma[j]·invstd[j] (gamma nullptr means 1). dZ may alias dU.
  void (*bn_backward_dx)(const float* dU, const float* Z, size_t rows, size_t cols,
                         const float* mean, const float* invstd, const float* gamma,
                         const float* sum_du, const float* sum_du_xhat, float* dZ);

  // Optimizer updates over n parameters, in place. weight_decay is decoupled (AdamW style):
  // p -= lr·wd·p before the gradient step.
  void (*sgd_update)(size_t n, float* p, const float* g, float* velocity /*nullable if momentum==0*/,
                     float lr, float momentum, bool nesterov, float weight_decay);
  // Adam: m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g²; p -= lr_t·m/(sqrt(v)+eps_hat)
  // where the caller passes lr_t = lr·sqrt(1−b2^t)/(1−b1^t) and eps_hat = eps·sqrt(1−b2^t)
  // (the Keras/TF formulation with epsilon in the "hat" form). Decay uses the raw lr.
  void (*adam_update)(size_t n, float* p, const float* g, float* m, float* v,
                      float lr, float lr_t, float beta1, float beta2, float eps_hat,
                      float weight_decay);
  // RMSprop (Keras): ms = rho·ms + (1−rho)·g²; step = lr·g/(sqrt(ms)+eps);
  // with momentum: mom = momentum·mom + step; p -= mom; else p -= step. mom nullable if momentum==0.
  void (*rmsprop_update)(size_t n, float* p, const float* g, float* ms, float* mom,
                         float lr, float rho, float momentum, float eps, float weight_decay);

  // Cooperative (team) GEMM, same contract as gemm: every member tid (0..team->nthreads-1) calls
  // it at the same time with the same arguments. Each op(B) block (K block × column block) is
  // packed once into a buffer shared by the team (double-buffered), members claiming pieces of
  // panels; team->barrier(); then members claim row chunks of C (packing their rows of op(A)) and
  // compute them against it. The K blocks and per-C(i,j) arithmetic are gemm's, so results are
  // bit-identical to gemm for every team size and every claim order. With stats, chunks are
  // whole kStatRows chunks.
  void (*gemm_team)(GemmTeam* team, size_t tid, bool trans_a, bool trans_b, size_t M, size_t N,
                    size_t K, const float* A, size_t lda, const float* B, size_t ldb,
                    float* C, size_t ldc, bool accumulate, const GemmColStats* stats);

  // The K block length gemm uses for a K-long product (its blocks are [b·KB, min(K, (b+1)·KB))):
  // the driver may compute blocks separately (each as a gemm of K = its length, which is one
  // block) and add them to C in block order — the same operations as one call.
  size_t (*gemm_kblock)(size_t K);

  // The microkernel's tile width NR in floats (4 scalar, 16 AVX2, 32 AVX-512): the driver splits
  // columns on multiples of it, so no split creates an edge tile.
  size_t gemm_nr;

  // Pre-packed op(B) (inference, where B is a layer's kernel that stays the same across calls):
  // gemm_pack_b writes all of op(B) (K×N) as gemm's own panels, K block after K block, each block
  // [kc × ceil(N/NR)·NR] with NR-wide panels of kc rows, zero-padded past N; gemm_packed_b_size
  // floats. gemm_prepacked then computes C[M×N] = op(A) · op(B)[:, j0 : j0+N] from it (j0 a
  // multiple of NR; ldbp = the packed matrix's full N), with gemm's K blocks, tiles and
  // arithmetic: the same bits as gemm on the unpacked B, for any M. No statistics.
  size_t (*gemm_packed_b_size)(size_t K, size_t N);
  void (*gemm_pack_b)(bool trans_b, const float* B, size_t ldb, size_t K, size_t N, float* out);
  void (*gemm_prepacked)(bool trans_a, size_t M, size_t N, size_t K, const float* A, size_t lda,
                         const float* BP, size_t ldbp, size_t j0, float* C, size_t ldc,
                         bool accumulate);

  // Row normalization (layer/group normalization, RMSNorm) of X [rows × cols], per row and per
  // each of `groups` contiguous groups of cols/groups features: m = mean (0 when rms),
  // v = mean((x − m)²), x̂ = (x − m)/√(v + eps), Y = act(γ·x̂ + β) for an elementwise act
  // (γ, β nullable: 1, 0). mean/invstd are [rows × groups]; xhat nullable. Y may alias X.
  void (*row_norm_forward)(const float* X, size_t rows, size_t cols, size_t groups, bool rms,
                           float eps, const float* gamma, const float* beta, Act act,
                           float* xhat, float* mean, float* invstd, float* Y);
  // Its input gradient from dU (the gradient of γ·x̂ + β), with u = γ·dU per row and group:
  //   dX = invstd·(u − mean(u) − x̂·mean(u·x̂))   (rms: without mean(u)). dX may alias dU.
  void (*row_norm_backward)(const float* dU, const float* xhat, size_t rows, size_t cols,
                            size_t groups, bool rms, const float* gamma, const float* invstd,
                            float* dX);
};

// The active table (best ISA the CPU and OS support, or the one DENSENORM_ISA forces).
// Never fails after init_kernels() succeeded.
const KernelTable& kernels();
// Chooses the table; returns nullptr on success or a static error message (e.g. DENSENORM_ISA
// names an ISA this CPU lacks, or an unknown name). Idempotent.
const char* init_kernels();
// Table for a given ISA, or nullptr when this CPU/build cannot run it (tests compare ISAs).
const KernelTable* kernels_for(Isa isa);
// Best ISA the CPU supports (independent of DENSENORM_ISA).
Isa detected_isa();
// Whether this build has the table for `isa` and this CPU can run it.
bool isa_runs(Isa isa);

}  // namespace densenorm

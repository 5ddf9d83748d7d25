// A compiled Sequential model: a chain of fused blocks run entirely in C++.
//
// A block is   [Dense(W, b)] → pre_act → [BatchNorm] → post_act
// (each part optional), so Dense→BN→Activation, Dense(act)→BN, a lone BN or a lone Activation are
// all one block, run as one pass forward and one pass backward. Parameters, gradients and
// optimizer state live in caller-owned memory (the JS façade's Float32Arrays); the Net owns only
// its workspace. The core never throws: every entry returns a Status.
#pragma once
#include <cstddef>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "densenorm/kernels.h"

namespace densenorm {

struct Status {
  bool ok = true;
  std::string message;
  static Status Ok() { return {}; }
  static Status Error(std::string m) { return {false, std::move(m)}; }
};

enum class Loss : int {
  categorical_crossentropy = 0,
  sparse_categorical_crossentropy = 1,
  binary_crossentropy = 2,
  mean_squared_error = 3,
};

enum class Optim : int { sgd = 0, adam = 1, rmsprop = 2 };

struct OptimizerConfig {
  Optim type = Optim::sgd;
  float learning_rate = 0.01f;
  float momentum = 0.f;      // sgd, rmsprop
  bool nesterov = false;     // sgd
  float beta1 = 0.9f, beta2 = 0.999f;  // adam
  float rho = 0.9f;          // rmsprop
  float epsilon = 1e-7f;     // adam, rmsprop
  float weight_decay = 0.f;  // decoupled
};

// One trainable tensor and its optimizer state (state arrays sized like the parameter; nullptr
// where the optimizer does not need them).
struct ParamSlot {
  float* value = nullptr;
  float* grad = nullptr;
  float* state1 = nullptr;  // sgd velocity | adam m | rmsprop mean square
  float* state2 = nullptr;  // adam v | rmsprop momentum
  size_t size = 0;
};

struct BlockSpec {
  size_t in = 0, out = 0;  // features; without Dense, in == out
  // Dense (kernel == nullptr: none). kernel is [in × out] row-major (Keras order).
  float* kernel = nullptr;
  float* bias = nullptr;       // nullable
  bool dense_trainable = true;
  float* grad_kernel = nullptr;  // required when dense_trainable
  float* grad_bias = nullptr;
  Act pre_act = Act::linear;
  // Batch normalization.
  bool has_bn = false;
  float* gamma = nullptr;      // nullable (scale: false)
  float* beta = nullptr;       // nullable (center: false)
  float* moving_mean = nullptr;
  float* moving_var = nullptr;
  double* num_batches = nullptr;  // cumulative-average counter (momentum null)
  float epsilon = 1e-3f;
  float momentum = 0.99f;
  bool cumulative = false;     // momentum null: moving = cumulative average of batch statistics
  bool bn_trainable = true;    // false: frozen, runs in inference mode even while training
  float* grad_gamma = nullptr;
  float* grad_beta = nullptr;
  Act post_act = Act::linear;
};

struct StepResult {
  double loss = 0;
  double correct = 0;   // accuracy numerator
  double count = 0;     // accuracy denominator
};

class Net {
 public:
  // Validates the chain (shapes line up, required pointers present); on error returns nullptr
  // and sets *status.
  static Net* create(std::vector<BlockSpec> blocks, Loss loss, std::vector<ParamSlot> params,
                     OptimizerConfig opt, Status* status);

  size_t in_features() const { return blocks_.front().in; }
  size_t out_features() const { return blocks_.back().out; }

  // Inference (moving statistics): out is [batch × out_features].
  Status predict(const float* x, size_t batch, float* out);
  // Inference-mode loss and accuracy counts.
  Status evaluate(const float* x, const float* y, size_t batch, StepResult* res);
  // Training-mode forward output (batch statistics); update_stats also updates moving stats.
  Status forward_train(const float* x, size_t batch, bool update_stats, float* out);
  // Forward (training mode, no stat update) + backward from a given output gradient dy;
  // fills every grad buffer and, if dx != nullptr, the input gradient. For kernel tests.
  Status forward_backward(const float* x, size_t batch, const float* dy, float* dx);
  // Forward (training mode) + loss + backward; grads filled; no optimizer step.
  Status loss_and_grad(const float* x, const float* y, size_t batch, bool update_stats,
                       StepResult* res);
  // One full training step: forward, loss, backward, optimizer update (iteration is Adam's t,
  // 1-based). Moving statistics are never touched by the optimizer.
  Status train_step(const float* x, const float* y, size_t batch, double iteration,
                    StepResult* res);
  // Replaces every BN layer's moving statistics by the exact statistics of its input over all of
  // x (layer by layer, earlier layers already recalibrated, inference mode).
  Status recalibrate(const float* x, size_t n, size_t batch_size);

  void set_learning_rate(float lr) { opt_.learning_rate = lr; }

  // Inference multiplies by a packed copy of each Dense kernel (net.cc, "Packed kernels"), made
  // on first use and again after the weights change: the optimizer marks that itself; whoever
  // else writes a kernel (setWeights, loading) calls weights_changed().
  void weights_changed() { weights_version_.fetch_add(1, std::memory_order_acq_rel); }

  // How train_step used the pool at its last batch size (net.cc, "Step threading"): "tuning"
  // (trial steps still being timed), "pool" (measured faster, or DENSENORM_STEP_TUNE=0), "one
  // thread" (measured faster), "single" (the pool has one thread) or "none" (no step yet).
  const char* step_threading() const;

 private:
  struct BlockWs {
    std::vector<float> a;      // BN input (= pre_act output) [B × out]
    std::vector<float> u;      // last block: input of post_act (logits)
    std::vector<float> y;      // block output [B × out]
    std::vector<float> mean, var, invstd, scale, shift, sum_du, sum_du_xhat;
    std::vector<float> stat_shift;  // the GEMM statistics epilogue's per-feature shift
  };
  struct Workspace {
    size_t batch = 0;
    bool full = false;  // has the training buffers (g0, g1, d, part, dxs), not only inference's
    std::vector<BlockWs> b;
    std::vector<float> g0, g1;  // gradient ping-pong [B × max width]
    std::vector<float> d;       // dU / dA scratch
    std::vector<float> part;    // batch-norm backward partial sums [row chunks × 2 × max width]
    std::vector<float> dxs;     // batch-norm dx pre-scaled sums [4 × max width]
    std::vector<float> stat_part;  // GEMM statistics epilogue partials [B/kStatRows × 2 × max width]
  };

  Net() = default;
  // Sizes ws for batch rows (grows only). full: also the gradient buffers training needs; an
  // inference workspace holds just the activations, so predict touches no more memory than it must.
  void ensure(Workspace& ws, size_t batch, bool full) const;
  // Inference workspaces, kept across predict/evaluate calls (several may run at once, each
  // with its own): no allocation or page faults per call after warm-up.
  std::unique_ptr<Workspace> acquire_infer_ws();
  void release_infer_ws(std::unique_ptr<Workspace> ws);
  // mode: 0 inference, 1 training (batch statistics).
  Status forward(Workspace& ws, const float* x, size_t batch, int mode, size_t upto_block,
                 bool keep_logits);
  void backward(Workspace& ws, const float* x, size_t batch, float* dy_or_dlogits,
                bool dy_is_logits, float* dx);
  Status loss_forward(const Workspace& ws, const float* y, size_t batch, StepResult* res,
                      float* grad, bool* grad_is_logits) const;
  void optimizer_step(double iteration);
  Status train_step_once(const float* x, const float* y, size_t batch, double iteration,
                         StepResult* res);
  // Threaded batch-norm backward passes (same results for every thread count).
  static void bn_reduce(const KernelTable& K, Workspace& ws, const float* dY, const float* Y,
                        const float* Z, size_t rows, size_t cols, Act act, const float* mean,
                        const float* invstd, float* dU, float* sum_du, float* sum_du_xhat);
  static void bn_dx(const KernelTable& K, Workspace& ws, const float* dU, const float* Z,
                    size_t rows, size_t cols, const float* mean, const float* invstd,
                    const float* gamma, const float* sum_du, const float* sum_du_xhat, float* dZ);
  // Folds the batch statistics of the last training forward into the moving statistics; run only
  // once the loss is known to be finite, so a failed step leaves every buffer as it was.
  void update_moving(const Workspace& ws, size_t batch);
  Status check_batch(size_t batch, bool training) const;

  std::vector<BlockSpec> blocks_;
  Loss loss_ = Loss::mean_squared_error;
  std::vector<ParamSlot> params_;
  struct OptPiece { size_t slot, begin, end; };
  std::vector<OptPiece> opt_pieces_;  // optimizer_step's split, reused across steps
  OptimizerConfig opt_;
  Workspace train_ws_;
  Workspace infer_ws_;  // recalibrate's
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Workspace>> pool_;
  size_t max_width_ = 0;
  // Packed kernels for inference, per block (net.cc, "Packed kernels").
  struct PackedKernel {
    std::shared_ptr<std::vector<float>> buf;  // over-allocated for 64-byte alignment
    const float* data = nullptr;              // aligned, inside buf
    uint64_t version = ~uint64_t{0};
  };
  // A snapshot of block k's packed kernel (packing it first if the weights changed); keeps the
  // buffer alive while the caller uses it, whatever other threads do meanwhile.
  std::shared_ptr<std::vector<float>> packed_kernel(size_t k, const float** data);
  std::vector<PackedKernel> packed_;
  std::mutex packed_mu_;
  std::atomic<uint64_t> weights_version_{0};
  // train_step's measured threading (net.cc, "Step threading").
  static constexpr int kTunePairs = 6;
  static constexpr int kRetuneSteps = 1000;
  struct StepTune {
    size_t batch = 0;
    int threads = 0;
    bool enabled = true;
    int state = 0;  // 0 tuning, 1 pool, 2 one thread
    int n = 0;      // trial steps run for this batch size and pool size (2 warm-ups first)
    int since = 0;  // steps since the decision
    double ms[2][kTunePairs] = {};  // [0] pool, [1] one thread
    int count[2] = {0, 0};
  } tune_;
};

// Whether train_step measures pool against one thread (Net::step_threading): 1 on, 0 off (always
// the pool), -1 back to DENSENORM_STEP_TUNE (on unless "0"). Process-wide; a net's next step
// starts over (tuning again when turned on).
void set_step_tuning(int on);

// Whether inference uses packed kernels (Net::weights_changed): 1 on, 0 off (packs on every call,
// like training), -1 back to DENSENORM_PACKED_INFERENCE (on unless "0"). Process-wide, for
// tests and memory-tight servers (the packed copies take as much memory as the kernels).
void set_packed_inference(int on);

// Row-wise helpers used by the core (softmax is not elementwise, so it is not in the ISA table).
void softmax_rows(const float* x, size_t rows, size_t cols, float* y);
void softmax_backward_rows(const float* dy, const float* y, size_t rows, size_t cols, float* dx);

}  // namespace densenorm

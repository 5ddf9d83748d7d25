// A compiled Sequential model: a chain of fused blocks (model.h BlockSpec) run entirely in C++.
//
// Dense→BN→Activation, Dense(act)→BN, a lone BN or a lone Activation are each one block, run as
// one pass forward and one pass backward (core/block.cc). Parameters, gradients and optimizer
// state live in caller-owned memory (the JS façade's Float32Arrays); the Net owns only its
// workspaces. The core never throws: every entry returns a Status.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "densenorm/model.h"
#include "densenorm/ops.h"
#include "densenorm/status.h"

namespace densenorm {

struct Workspace;      // core/net_workspace.h
class PackedWeights;   // core/packed_weights.h
class StepTuner;       // core/step_tuner.h
struct OptimizerPiece; // core/optimizer.h
struct KernelTable;    // densenorm/kernels.h
struct MetricDef;      // core/metrics.h

class Net {
 public:
  // Validates the chain (shapes line up, required pointers present); on error returns nullptr
  // and sets *status.
  static std::unique_ptr<Net> create(std::vector<BlockSpec> blocks, Loss loss,
                                     std::vector<ParamSlot> params, OptimizerConfig opt,
                                     Status* status);
  // The same from an op list, grouped into blocks by fuse_ops (densenorm/ops.h).
  static std::unique_ptr<Net> create(const std::vector<OpSpec>& ops, size_t in_features,
                                     bool fuse, Loss loss, std::vector<ParamSlot> params,
                                     OptimizerConfig opt, Status* status);
  ~Net();

  // Which ops (indices into create's list) each block runs; empty when made from blocks.
  const std::vector<std::vector<size_t>>& fused_groups() const { return groups_; }

  size_t in_features() const { return blocks_.front().in; }
  size_t out_features() const { return blocks_.back().out; }

  // Inference (moving statistics): out is [batch × out_features].
  Status predict(const float* x, size_t batch, float* out);
  // Inference-mode loss (plus the regularization penalty) and accuracy counts.
  Status evaluate(const float* x, const float* y, size_t batch, StepResult* res);
  // Training-mode forward output (batch statistics); update_stats also updates moving stats.
  // step keys dropout's masks (train_step uses its iteration).
  Status forward_train(const float* x, size_t batch, bool update_stats, uint64_t step, float* out);
  // Forward (training mode, no stat update) + backward from a given output gradient dy;
  // fills every grad buffer and, if dx != nullptr, the input gradient. For kernel tests.
  Status forward_backward(const float* x, size_t batch, const float* dy, uint64_t step, float* dx);
  // Forward (training mode) + loss + backward; grads filled; no optimizer step. The loss and the
  // gradients include the parameters' regularization (ParamSlot l1, l2).
  // sample_weight: per-row loss weights [batch], or nullptr.
  Status loss_and_grad(const float* x, const float* y, size_t batch, bool update_stats,
                       uint64_t step, StepResult* res, const float* sample_weight = nullptr);
  // One full training step: forward, loss, backward, regularization, clipping, optimizer update
  // (iteration is Adam's t, 1-based). Moving statistics are never touched by the optimizer.
  Status train_step(const float* x, const float* y, size_t batch, double iteration,
                    StepResult* res, const float* sample_weight = nullptr);

  // The metrics (core/metrics.h names) every loss evaluation also adds into res->metrics, whose
  // size is metric_state_size(): each metric's state in this order.
  Status set_metrics(const std::vector<std::string>& names);
  size_t metric_state_size() const { return metric_state_; }
  // Replaces every BN layer's moving statistics by the exact statistics of its input over all of
  // x (layer by layer, earlier layers already recalibrated, inference mode).
  Status recalibrate(const float* x, size_t n, size_t batch_size);

  // Keras's dtype policy: "float32" (the default) or "mixed_bfloat16" (every GEMM, forward and
  // backward, on bf16-rounded operands with fp32 accumulation: densenorm/bf16.h; weights,
  // optimizer state, statistics, loss and update stay fp32). Anything else is an error.
  Status set_precision(const std::string& name);
  const char* precision() const { return bf16_ ? "mixed_bfloat16" : "float32"; }

  // A finite rate >= 0 for the next steps; anything else is an error and changes nothing.
  Status set_learning_rate(float lr);
  float learning_rate() const { return opt_.learning_rate; }

  // Inference multiplies by packed copies of the Dense kernels (core/packed_weights.h), made on
  // first use and again after the weights change: the optimizer marks that itself; whoever else
  // writes a kernel (setWeights, loading) calls weights_changed().
  void weights_changed();

  // How train_step used the pool at its last batch size (core/step_tuner.h): "tuning", "pool"
  // (measured faster, or DENSENORM_STEP_TUNE=0), "one thread", "single" (the pool has one
  // thread) or "none" (no step yet).
  const char* step_threading() const;

 private:
  Net();
  // Sizes ws for batch rows (grows only). full: also the gradient buffers training needs; an
  // inference workspace holds just the activations, so predict touches no more memory than it must.
  void ensure(Workspace& ws, size_t batch, bool full) const;
  // Inference workspaces, kept across predict/evaluate calls (several may run at once, each
  // with its own): no allocation or page faults per call after warm-up.
  std::unique_ptr<Workspace> acquire_infer_ws();
  void release_infer_ws(std::unique_ptr<Workspace> ws);
  // Runs blocks [0, upto) on x; keep_logits: the loss will read the last block's logits.
  void forward(Workspace& ws, const float* x, size_t batch, Mode mode, size_t upto,
               bool keep_logits, uint64_t step);
  void backward(Workspace& ws, const float* x, size_t batch, float* dy_or_dlogits,
                bool dy_is_logits, float* dx, uint64_t step);
  Status loss_forward(const Workspace& ws, const float* y, size_t batch, Mode mode,
                      StepResult* res, float* grad, bool* grad_is_logits,
                      const float* sample_weight) const;
  Status train_step_once(const float* x, const float* y, size_t batch, double iteration,
                         StepResult* res, const float* sample_weight);
  // Folds the batch statistics of the last training forward into the moving statistics; run only
  // once the loss is known to be finite, so a failed step leaves every buffer as it was.
  void update_moving(const Workspace& ws, size_t batch);
  Status check_batch(size_t batch, Mode mode) const;

  std::vector<BlockSpec> blocks_;
  std::vector<std::vector<size_t>> groups_;
  std::vector<const MetricDef*> metrics_;
  size_t metric_state_ = 0;
  Loss loss_ = Loss::mean_squared_error;
  std::vector<ParamSlot> params_;
  std::vector<OptimizerPiece> opt_pieces_;  // optimizer_step's split, reused across steps
  OptimizerConfig opt_;
  std::unique_ptr<Workspace> train_ws_;
  std::unique_ptr<Workspace> recal_ws_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Workspace>> pool_;
  size_t max_width_ = 0;
  std::unique_ptr<PackedWeights> packed_;
  std::unique_ptr<StepTuner> tuner_;
  bool bf16_ = false;
  // The table the blocks run on: kernels(), or its bf16-GEMM variant under mixed_bfloat16.
  const KernelTable& gemm_kernels() const;
};

// Whether train_step measures pool against one thread (Net::step_threading): 1 on, 0 off (always
// the pool), -1 back to DENSENORM_STEP_TUNE (on unless "0"). Process-wide; a net's next step
// starts over (tuning again when turned on).
void set_step_tuning(int on);

// Whether inference uses packed kernels (Net::weights_changed): 1 on, 0 off (packs on every call,
// like training), -1 back to DENSENORM_PACKED_INFERENCE (on unless "0"). Process-wide, for
// tests and memory-tight servers (the packed copies take as much memory as the kernels).
void set_packed_inference(int on);

}  // namespace densenorm

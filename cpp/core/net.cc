// Creation, workspaces and the loop over blocks; each block's passes are in block.cc, the losses
// in loss.cc, the optimizers in optimizer.cc.
#include "densenorm/net.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>

#include "core/block.h"
#include "core/loss.h"
#include "core/metrics.h"
#include "core/net_workspace.h"
#include "core/optimizer.h"
#include "core/packed_weights.h"
#include "core/passes.h"
#include "core/step_tuner.h"
#include "core/switches.h"
#include "densenorm/parallel.h"

namespace densenorm {

Net::Net() = default;
Net::~Net() = default;

std::unique_ptr<Net> Net::create(std::vector<BlockSpec> blocks, Loss loss,
                                 std::vector<ParamSlot> params, OptimizerConfig opt,
                                 Status* status) {
  if (const char* err = init_kernels()) {
    *status = Status::Internal(err);
    return nullptr;
  }
  if (blocks.empty()) {
    *status = Status::Invalid("a model needs at least one layer");
    return nullptr;
  }
  size_t width = 0;
  for (size_t k = 0; k < blocks.size(); ++k) {
    BlockSpec& b = blocks[k];
    const std::string where = "block " + std::to_string(k);
    if (b.in == 0 || b.out == 0) {
      *status = Status::Invalid(where + ": feature counts must be positive");
      return nullptr;
    }
    if (k > 0 && blocks[k - 1].out != b.in) {
      *status = Status::Invalid(where + ": expects " + std::to_string(b.in) +
                                " input features but the previous block gives " +
                                std::to_string(blocks[k - 1].out));
      return nullptr;
    }
    if (!b.kernel && b.in != b.out) {
      *status = Status::Invalid(where + ": without a dense kernel in and out must match");
      return nullptr;
    }
    if (b.kernel && b.dense_trainable && !b.grad_kernel) {
      *status = Status::Invalid(where + ": trainable dense kernel needs a gradient buffer");
      return nullptr;
    }
    if (b.has_bn && (!b.moving_mean || !b.moving_var || (b.cumulative && !b.num_batches))) {
      *status = Status::Invalid(where + ": batch normalization needs its moving statistics");
      return nullptr;
    }
    if (b.has_bn && b.renorm && (!b.renorm_mean || !b.renorm_stddev)) {
      *status = Status::Invalid(where + ": batch renormalization needs its renorm statistics");
      return nullptr;
    }
    if (b.has_row_norm && (b.norm_groups == 0 || b.out % b.norm_groups != 0)) {
      *status = Status::Invalid(where + ": groups must divide the feature count " +
                                std::to_string(b.out) + " but received " +
                                std::to_string(b.norm_groups));
      return nullptr;
    }
    // Without batch norm the two activations are consecutive; keep the last one as post_act so
    // the loss can always read the final activation's input (the logits).
    if (!b.has_norm() && b.post_act == Act::linear) {
      b.post_act = b.pre_act;
      b.pre_act = Act::linear;
    }
    width = std::max({width, b.in, b.out});
  }
  Status st = check_optimizer_config(opt);
  if (st.ok()) st = check_param_slots(params, opt);
  if (!st.ok()) {
    *status = st;
    return nullptr;
  }
  std::unique_ptr<Net> net(new Net());
  net->blocks_ = std::move(blocks);
  net->loss_ = loss;
  net->params_ = std::move(params);
  net->opt_ = opt;
  net->max_width_ = width;
  net->train_ws_ = std::make_unique<Workspace>();
  net->recal_ws_ = std::make_unique<Workspace>();
  net->packed_ = std::make_unique<PackedWeights>(net->blocks_.size());
  net->tuner_ = std::make_unique<StepTuner>();
  *status = Status::Ok();
  return net;
}

std::unique_ptr<Net> Net::create(const std::vector<OpSpec>& ops, size_t in_features, bool fuse,
                                 Loss loss, std::vector<ParamSlot> params, OptimizerConfig opt,
                                 Status* status) {
  std::vector<BlockSpec> blocks;
  std::vector<std::vector<size_t>> groups;
  *status = fuse_ops(ops, in_features, fuse, &blocks, &groups);
  if (!status->ok()) return nullptr;
  std::unique_ptr<Net> net = create(std::move(blocks), loss, std::move(params), opt, status);
  if (net) net->groups_ = std::move(groups);
  return net;
}

void Net::weights_changed() { packed_->changed(); }

void Net::ensure(Workspace& ws, size_t batch, bool full) const {
  if (ws.batch >= batch && ws.b.size() == blocks_.size() && (ws.full || !full)) return;
  const size_t B = std::max(batch, ws.batch);
  ws.batch = B;
  ws.full = ws.full || full;
  ws.b.resize(blocks_.size());
  for (size_t k = 0; k < blocks_.size(); ++k) {
    const BlockSpec& s = blocks_[k];
    BlockBuffers& w = ws.b[k];
    w.bn_in.resize(B * s.out);
    w.out.resize(B * s.out);
    if (k + 1 == blocks_.size()) w.logits.resize(B * s.out);
    if (full && s.epilogue) w.epi_out.resize(B * s.out);
    for (auto* v : {&w.mean, &w.var, &w.invstd, &w.scale, &w.shift, &w.sum_du, &w.sum_du_xhat,
                    &w.stat_shift})
      v->resize(s.out);
    if (s.renorm)
      for (auto* v : {&w.renorm_r, &w.renorm_d, &w.gamma_r}) v->resize(s.out);
    if (s.virtual_batch > 0 && full)
      for (auto* v : {&w.gmean, &w.gvar, &w.ginvstd, &w.gscale, &w.gshift})
        v->resize((B + s.virtual_batch - 1) / s.virtual_batch * s.out);
    if (s.has_row_norm) {
      w.row_mean.resize(B * s.norm_groups);
      w.row_invstd.resize(B * s.norm_groups);
      if (full) {
        w.xhat.resize(B * s.out);
        w.zeros.assign(s.out, 0.0f);
        w.ones.assign(s.out, 1.0f);
      }
    }
  }
  StepScratch& sc = ws.scratch;
  sc.grad_a.resize(B * max_width_);  // evaluate's loss gradient scratch too
  if (!ws.full) return;
  sc.grad_b.resize(B * max_width_);
  sc.d.resize(B * max_width_);
  sc.bn_part.resize((B + kRowChunk - 1) / kRowChunk * 2 * max_width_);
  sc.bn_prescaled.resize(4 * max_width_);
  sc.stat_part.resize((B + kStatRows - 1) / kStatRows * 2 * max_width_);
}

Status Net::check_batch(size_t batch, Mode mode) const {
  if (batch == 0) return Status::Invalid("Expected at least 1 row for x but received 0");
  if (mode == Mode::kTraining && batch < 2) {
    for (const BlockSpec& b : blocks_)
      if (b.has_bn && b.bn_trainable)
        return Status::Invalid(
            "Expected a training batch of at least 2 rows for batch normalization but received 1 "
            "(batch statistics of one row are undefined)");
  }
  if (mode == Mode::kTraining) {
    for (const BlockSpec& b : blocks_)
      if (b.bn_batch_stats(mode) && b.virtual_batch > 0 && batch % b.virtual_batch != 0)
        return Status::Invalid("Expected a training batch size divisible by virtualBatchSize " +
                               std::to_string(b.virtual_batch) + " but received " +
                               std::to_string(batch));
  }
  return Status::Ok();
}

void Net::forward(Workspace& ws, const float* x, size_t B, Mode mode, size_t upto,
                  bool keep_logits, uint64_t step) {
  const KernelTable& K = gemm_kernels();
  ensure(ws, B, mode == Mode::kTraining);
  const size_t last = blocks_.size() - 1;
  for (size_t k = 0; k < upto; ++k) {
    const BlockSpec& s = blocks_[k];
    const float* X = k == 0 ? x : block_output(blocks_[k - 1], ws.b[k - 1], mode);
    const float* packed = nullptr;
    std::shared_ptr<std::vector<float>> hold;  // keeps the packed copy alive for this call
    if (s.kernel && mode == Mode::kInference && B > PackedWeights::kMinRows &&
        packed_inference_enabled())
      hold = packed_->get(k, s.kernel, s.in, s.out, &packed, K);
    block_forward(K, s, ws.b[k], ws.scratch.stat_part.data(), X, B, mode,
                  k == last && keep_logits, packed, step);
  }
}

void Net::backward(Workspace& ws, const float* x, size_t B, float* cur, bool dy_is_logits,
                   float* dx, uint64_t step) {
  const KernelTable& K = gemm_kernels();
  const size_t last = blocks_.size() - 1;
  StepScratch& sc = ws.scratch;
  for (size_t k = blocks_.size(); k-- > 0;) {
    const BlockSpec& s = blocks_[k];
    const float* X = k == 0 ? x : block_output(blocks_[k - 1], ws.b[k - 1], Mode::kTraining);
    const Act post = (k == last && dy_is_logits) ? Act::linear : s.post_act;
    float* next = (cur == sc.grad_a.data()) ? sc.grad_b.data() : sc.grad_a.data();
    block_backward(K, s, ws.b[k], sc, X, B, cur, post, k == 0 ? dx : next, step);
    cur = next;
  }
}

Status Net::set_metrics(const std::vector<std::string>& names) {
  std::vector<const MetricDef*> defs;
  size_t size = 0;
  for (const std::string& n : names) {
    Status st;
    const MetricDef* m = find_metric(n, &st);
    if (!m) return st;
    defs.push_back(m);
    size += m->state_size;
  }
  metrics_ = std::move(defs);
  metric_state_ = size;
  return Status::Ok();
}

Status Net::loss_forward(const Workspace& ws, const float* t, size_t B, Mode mode,
                         StepResult* res, float* grad, bool* grad_is_logits,
                         const float* sample_weight) const {
  const BlockSpec& s = blocks_.back();
  const BlockBuffers& w = ws.b.back();
  LossInput in;
  in.y = w.out.data();
  // The final activation's input: logits when a normalization precedes it, else the BN-input buffer.
  in.logits = s.has_norm() ? w.logits.data() : w.bn_in.data();
  in.classes = s.out;
  in.final_act = s.post_act;
  if (has_epilogue(s, mode)) {  // the loss sees the epilogue's output, after every activation
    in.y = in.logits = w.epi_out.data();
    in.final_act = Act::linear;
  }
  in.weights = sample_weight;
  Status st = densenorm::loss_forward(loss_, in, t, B, res, grad, grad_is_logits);
  if (!st.ok() || metrics_.empty()) return st;
  res->metrics.assign(metric_state_, 0.0);
  const MetricInput mi{in.y, t, B, s.out, loss_def(loss_).class_ids};
  double* state = res->metrics.data();
  for (const MetricDef* m : metrics_) {
    m->add(mi, state);
    state += m->state_size;
  }
  return st;
}

Status Net::predict(const float* x, size_t batch, float* out) {
  Status st = check_batch(batch, Mode::kInference);
  if (!st.ok()) return st;
  std::unique_ptr<Workspace> ws = acquire_infer_ws();
  forward(*ws, x, batch, Mode::kInference, blocks_.size(), false, 0);
  std::memcpy(out, ws->b.back().out.data(), batch * out_features() * sizeof(float));
  release_infer_ws(std::move(ws));
  return st;
}

Status Net::evaluate(const float* x, const float* y, size_t batch, StepResult* res) {
  Status st = check_batch(batch, Mode::kInference);
  if (!st.ok()) return st;
  std::unique_ptr<Workspace> ws = acquire_infer_ws();
  forward(*ws, x, batch, Mode::kInference, blocks_.size(), true, 0);
  bool logits = false;
  st = loss_forward(*ws, y, batch, Mode::kInference, res, ws->scratch.grad_a.data(), &logits, nullptr);
  release_infer_ws(std::move(ws));
  if (st.ok()) res->loss += regularize(params_, false);  // Keras's evaluate adds it too
  return st;
}

std::unique_ptr<Workspace> Net::acquire_infer_ws() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!pool_.empty()) {
      std::unique_ptr<Workspace> ws = std::move(pool_.back());
      pool_.pop_back();
      return ws;
    }
  }
  return std::make_unique<Workspace>();
}

void Net::release_infer_ws(std::unique_ptr<Workspace> ws) {
  // Keep a few (one per concurrent caller seen, bounded): a burst of parallel predictAsync calls
  // does not leave its peak memory behind for ever.
  constexpr size_t kMaxPooled = 4;
  std::lock_guard<std::mutex> lock(pool_mu_);
  if (pool_.size() < kMaxPooled) pool_.push_back(std::move(ws));
}

Status Net::forward_train(const float* x, size_t batch, bool update_stats, uint64_t step,
                          float* out) {
  Status st = check_batch(batch, Mode::kTraining);
  if (!st.ok()) return st;
  Workspace& ws = *train_ws_;
  forward(ws, x, batch, Mode::kTraining, blocks_.size(), false, step);
  if (update_stats) update_moving(ws, batch);
  std::memcpy(out, block_output(blocks_.back(), ws.b.back(), Mode::kTraining),
              batch * out_features() * sizeof(float));
  return st;
}

Status Net::forward_backward(const float* x, size_t batch, const float* dy, uint64_t step,
                             float* dx) {
  Status st = check_batch(batch, Mode::kTraining);
  if (!st.ok()) return st;
  Workspace& ws = *train_ws_;
  forward(ws, x, batch, Mode::kTraining, blocks_.size(), false, step);
  std::memcpy(ws.scratch.grad_a.data(), dy, batch * out_features() * sizeof(float));
  backward(ws, x, batch, ws.scratch.grad_a.data(), false, dx, step);
  return Status::Ok();
}

Status Net::loss_and_grad(const float* x, const float* y, size_t batch, bool update_stats,
                          uint64_t step, StepResult* res, const float* sample_weight) {
  Status st = check_batch(batch, Mode::kTraining);
  if (!st.ok()) return st;
  Workspace& ws = *train_ws_;
  forward(ws, x, batch, Mode::kTraining, blocks_.size(), true, step);
  bool logits = false;
  st = loss_forward(ws, y, batch, Mode::kTraining, res, ws.scratch.grad_a.data(), &logits,
                    sample_weight);
  if (!st.ok()) return st;
  if (update_stats) update_moving(ws, batch);
  backward(ws, x, batch, ws.scratch.grad_a.data(), logits, nullptr, step);
  // On the weights before the update, as Keras's forward computes the layers' losses.
  res->loss += regularize(params_, true);
  return Status::Ok();
}

Status Net::train_step_once(const float* x, const float* y, size_t batch, double iteration,
                            StepResult* res, const float* sample_weight) {
  // The optimizer's step count keys dropout: the same step draws the same masks after a rebuild.
  Status st = loss_and_grad(x, y, batch, true, static_cast<uint64_t>(iteration), res, sample_weight);
  if (!st.ok()) return st;
  packed_->changed();  // the packed kernels are stale
  clip_gradients(opt_, params_);
  optimizer_step(opt_, params_, iteration, &opt_pieces_);
  return Status::Ok();
}

Status Net::set_learning_rate(float lr) {
  Status st = check_learning_rate(lr);
  if (st.ok()) opt_.learning_rate = lr;
  return st;
}

const char* Net::step_threading() const { return tuner_->describe(); }

Status Net::train_step(const float* x, const float* y, size_t batch, double iteration,
                       StepResult* res, const float* sample_weight) {
  const int pt = pool_threads();
  return tuner_->run(
      batch, pt, step_tuning_enabled(),
      [&](bool serial) {
        SerialScope one(serial);
        return train_step_once(x, y, batch, iteration, res, sample_weight);
      },
      [pt] { parallel_for(static_cast<size_t>(pt), [](size_t) {}); },
      [] {
        return std::chrono::duration<double, std::milli>(
                   std::chrono::steady_clock::now().time_since_epoch()).count();
      });
}

void Net::update_moving(const Workspace& ws, size_t B) {
  for (size_t k = 0; k < blocks_.size(); ++k) {
    const BlockSpec& s = blocks_[k];
    if (!s.bn_batch_stats(Mode::kTraining)) continue;
    const BlockBuffers& w = ws.b[k];
    // The statistics' sample: the batch, or under ghost batch norm one sub-batch (w.mean/var
    // then hold the sub-batches' mean statistics).
    const size_t rows = s.virtual_batch > 0 && s.virtual_batch < B ? s.virtual_batch : B;
    const float unbias = static_cast<float>(rows) / static_cast<float>(rows - 1);
    const bool skip_bias = s.bias_cancels(Mode::kTraining);  // the batch mean excludes the bias
    const float m = s.cumulative ? static_cast<float>(1.0 / ++*s.num_batches) : 1.0f - s.momentum;
    for (size_t j = 0; j < s.out; ++j) {
      const float bm = w.mean[j] + (skip_bias ? s.bias[j] : 0.0f);
      const float bv = w.var[j] * unbias;
      s.moving_mean[j] += (bm - s.moving_mean[j]) * m;
      s.moving_var[j] += (bv - s.moving_var[j]) * m;
    }
    if (!s.renorm) continue;
    const float rm = 1.0f - s.renorm_momentum;
    for (size_t j = 0; j < s.out; ++j) {
      const float bm = w.mean[j] + (skip_bias ? s.bias[j] : 0.0f);
      s.renorm_mean[j] += (bm - s.renorm_mean[j]) * rm;
      s.renorm_stddev[j] += (std::sqrt(w.var[j] + s.epsilon) - s.renorm_stddev[j]) * rm;
    }
  }
}

}  // namespace densenorm

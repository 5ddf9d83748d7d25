// JS class NativeNet: owns a densenorm::Net built from a plain spec object whose Float32Arrays
// (weights, gradients, optimizer state) stay referenced for the Net's lifetime.
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "args.h"
#include "errors.h"
#include "spec.h"
#include "densenorm/batch.h"
#include "densenorm/net.h"
#include "densenorm/settings.h"

namespace densenorm_binding {
using densenorm::Net;
using densenorm::ParamSlot;
using densenorm::Status;
using densenorm::StepResult;

namespace {

Napi::Object result_object(Napi::Env env, const StepResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("loss", r.loss);
  o.Set("correct", r.correct);
  o.Set("count", r.count);
  if (!r.metrics.empty()) {
    Napi::Float64Array m = Napi::Float64Array::New(env, r.metrics.size());
    for (size_t i = 0; i < r.metrics.size(); ++i) m[i] = r.metrics[i];
    o.Set("metrics", m);
  }
  return o;
}

class NetWrap;

// One training step (or prediction) off the event loop; holds references to its arrays.
class StepWorker : public Napi::AsyncWorker {
 public:
  enum Kind { kTrain, kPredict, kEvaluate };
  StepWorker(Napi::Env env, NetWrap* owner, Kind kind, Napi::Object keep, const float* x,
             const float* y, float* out, size_t batch, double iteration,
             const float* sample_weight = nullptr);
  ~StepWorker() override;
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& e) override;

 private:
  Napi::Promise::Deferred deferred_;
  NetWrap* owner_;
  Kind kind_;
  Napi::ObjectReference keep_;
  const float* x_;
  const float* y_;
  float* out_;
  size_t batch_;
  double iteration_;
  const float* sample_weight_;
  StepResult res_;
  Status status_;
};

// A run of fit's batches off the event loop, in one hop (fit uses it when no callback asks to pause
// at each batch): batch b gathers rows order[start_b .. start_b + n_b) of x and y and runs one
// training step at iteration0 + b, writing loss, correct and count to out[3b ..]. It stops
// before a batch once stop[0] != 0 (fit's AbortSignal or stopTraining), and at a failing step,
// whose message it returns with the number of batches done; the failing batch changed nothing.
// With a progress function, the event loop is told how many batches are done as they finish
// (calls may be merged: the latest count wins) while the loop goes on.
class BatchesWorker : public Napi::AsyncProgressWorker<uint32_t> {
 public:
  BatchesWorker(Napi::Env env, NetWrap* owner, Napi::Object keep, const float* x, size_t in,
                const float* y, size_t y_per_row, const int32_t* order, const int32_t* bounds,
                size_t batches, double iteration0, const float* rates, const int32_t* stop, double* out,
                Napi::Value progress, const float* sample_weight);
  ~BatchesWorker() override;
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute(const ExecutionProgress& progress) override;
  void OnProgress(const uint32_t* done, size_t count) override;
  void OnOK() override;
  void OnError(const Napi::Error& e) override;

 private:
  Napi::Promise::Deferred deferred_;
  NetWrap* owner_;
  Napi::ObjectReference keep_;
  Napi::FunctionReference progress_;
  const float* x_;
  size_t in_;
  const float* y_;
  size_t y_per_row_;
  const int32_t* order_;
  const int32_t* bounds_;
  size_t batches_;
  double iteration0_;
  const float* rates_;
  const int32_t* stop_;
  double* out_;
  const float* sample_weight_;
  size_t done_ = 0;
  std::string failure_;
};

class NetWrap : public Napi::ObjectWrap<NetWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeNet",
                       {InstanceMethod("predict", &NetWrap::Predict),
                        InstanceMethod("evaluate", &NetWrap::Evaluate),
                        InstanceMethod("forwardTrain", &NetWrap::ForwardTrain),
                        InstanceMethod("forwardBackward", &NetWrap::ForwardBackward),
                        InstanceMethod("lossAndGrad", &NetWrap::LossAndGrad),
                        InstanceMethod("trainStep", &NetWrap::TrainStep),
                        InstanceMethod("trainStepAsync", &NetWrap::TrainStepAsync),
                        InstanceMethod("trainBatchesAsync", &NetWrap::TrainBatchesAsync),
                        InstanceMethod("predictAsync", &NetWrap::PredictAsync),
                        InstanceMethod("evaluateAsync", &NetWrap::EvaluateAsync),
                        InstanceMethod("recalibrate", &NetWrap::Recalibrate),
                        InstanceMethod("setLearningRate", &NetWrap::SetLearningRate),
                        InstanceMethod("stepThreading", &NetWrap::StepThreading),
                        InstanceMethod("weightsChanged", &NetWrap::WeightsChanged),
                        InstanceMethod("fusedGroups", &NetWrap::FusedGroups),
                        InstanceMethod("dispose", &NetWrap::Dispose)});
  }

  explicit NetWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NetWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw_type(env, "spec", "an object", info[0]);
    Napi::Object spec = info[0].As<Napi::Object>();
    spec_ = Napi::Persistent(spec);
    pin_sink = &pins_;  // every array accepted below is re-checked by live()
    struct Unsink { ~Unsink() { pin_sink = nullptr; } } unsink;

    const size_t in_features = count(spec.Get("inputFeatures"), "spec.inputFeatures", densenorm::kMaxFeatures);
    std::vector<densenorm::OpSpec> ops = to_ops(spec.Get("ops"), "spec.ops");
    const bool fuse = spec.Get("fuse").IsUndefined() ? densenorm::settings::fuse_default()
                                                      : flag(spec.Get("fuse"), "spec.fuse");
    const size_t loss = count(spec.Get("loss"), "spec.loss", densenorm::kLossCount - 1);

    densenorm::OptimizerConfig opt = to_optimizer(spec.Get("optimizer"), "spec.optimizer");
    std::vector<ParamSlot> params = to_params(spec.Get("params"), "spec.params");
    Status st;
    net_ = Net::create(ops, in_features, fuse, static_cast<densenorm::Loss>(loss), std::move(params),
                       opt, &st);
    if (!net_) throw_status(env, st);
    Napi::Value pv = spec.Get("precision");
    if (!pv.IsUndefined()) {
      if (!pv.IsString()) throw Napi::TypeError::New(env, "Expected spec.precision to be a string");
      st = net_->set_precision(pv.As<Napi::String>().Utf8Value());
      if (!st.ok()) throw_status(env, st);
    }
    Napi::Value mv = spec.Get("metrics");
    if (!mv.IsUndefined()) {
      st = net_->set_metrics(to_names(mv, "spec.metrics"));
      if (!st.ok()) throw_status(env, st);
    }
  }

  Net* net() { return net_.get(); }
  std::atomic<int> training{0};  // workers running a training step
  std::atomic<int> reading{0};   // workers running a prediction

 private:
  // Training writes the weights: nothing else may run beside it. Predictions only read them, so
  // several may run at once, but not beside training or dispose.
  Net* live(Napi::Env env, bool read_only = false) {
    if (!net_) throw densenorm_error(env, "This model's native memory was disposed", "ERR_DISPOSED");
    check_pins(env, pins_);
    if (training.load() > 0)
      throw densenorm_error(env, "The model is training on another thread; await fit() before using it", "ERR_BUSY");
    if (!read_only && reading.load() > 0)
      throw densenorm_error(env, "The model has predictions running on other threads; await them first", "ERR_BUSY");
    return net_.get();
  }
  void check(Napi::Env env, const Status& st) {
    if (!st.ok()) throw_status(env, st);
  }
  // Per-row sample weights [rows] (undefined: none).
  const float* weights(const Napi::Value& v, size_t rows) {
    return v.IsUndefined() ? nullptr : f32(v, "sampleWeight", rows);
  }
  // The dropout step of the test entries (forwardTrain, ...): 0 unless given.
  uint64_t step_arg(const Napi::Value& v) {
    return v.IsUndefined() ? 0 : static_cast<uint64_t>(count(v, "step", (size_t{1} << 53) - 1));
  }
  Napi::Value FusedGroups(const Napi::CallbackInfo& info) {
    return groups_value(info.Env(), live(info.Env(), true)->fused_groups());
  }
  // x is [batch × in]
  const float* input(const Napi::CallbackInfo& info, int idx, size_t* batch) {
    *batch = count(info[idx + 1], "batch");
    return f32(info[idx], "x", mul(info.Env(), *batch, net_->in_features(), "x"));
  }

  Napi::Value Predict(const Napi::CallbackInfo& info) {
    Net* n = live(info.Env(), true);
    size_t b;
    const float* x = input(info, 0, &b);
    float* out = f32(info[2], "out", b * n->out_features());
    check(info.Env(), n->predict(x, b, out));
    return info.Env().Undefined();
  }
  Napi::Value Evaluate(const Napi::CallbackInfo& info) {
    Net* n = live(info.Env());
    size_t b;
    const float* x = input(info, 0, &b);
    const float* y = target(info, 2, b);
    StepResult r;
    check(info.Env(), n->evaluate(x, y, b, &r));
    return result_object(info.Env(), r);
  }
  const float* target(const Napi::CallbackInfo& info, int idx, size_t b) {
    size_t len = 0;
    const float* y = f32(info[idx], "y", SIZE_MAX, false, &len);
    if (len != b && len != b * net_->out_features())
      throw_range(info.Env(), "Expected " + std::to_string(b * net_->out_features()) + " (or " +
                                  std::to_string(b) + " class ids) elements for y but received " +
                                  std::to_string(len));
    return y;
  }
  Napi::Value ForwardTrain(const Napi::CallbackInfo& info) {
    Net* n = live(info.Env());
    size_t b;
    const float* x = input(info, 0, &b);
    bool upd = flag(info[2], "updateStats");
    float* out = f32(info[3], "out", b * n->out_features());
    check(info.Env(), n->forward_train(x, b, upd, step_arg(info[4]), out));
    return info.Env().Undefined();
  }
  Napi::Value ForwardBackward(const Napi::CallbackInfo& info) {
    Net* n = live(info.Env());
    size_t b;
    const float* x = input(info, 0, &b);
    const float* dy = f32(info[2], "dy", b * n->out_features());
    float* dx = f32(info[3], "dx", b * n->in_features(), true);
    check(info.Env(), n->forward_backward(x, b, dy, step_arg(info[4]), dx));
    return info.Env().Undefined();
  }
  Napi::Value LossAndGrad(const Napi::CallbackInfo& info) {
    Net* n = live(info.Env());
    size_t b;
    const float* x = input(info, 0, &b);
    const float* y = target(info, 2, b);
    StepResult r;
    check(info.Env(), n->loss_and_grad(x, y, b, flag(info[3], "updateStats"), step_arg(info[4]), &r,
                                       weights(info[5], b)));
    return result_object(info.Env(), r);
  }
  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    Net* n = live(info.Env());
    size_t b;
    const float* x = input(info, 0, &b);
    const float* y = target(info, 2, b);
    StepResult r;
    check(info.Env(), n->train_step(x, y, b, num(info[3], "iteration"), &r, weights(info[4], b)));
    return result_object(info.Env(), r);
  }
  Napi::Value TrainStepAsync(const Napi::CallbackInfo& info) {
    live(info.Env());
    size_t b;
    const float* x = input(info, 0, &b);
    const float* y = target(info, 2, b);
    double it = num(info[3], "iteration");
    const float* sw = weights(info[4], b);
    Napi::Object keep = Napi::Object::New(info.Env());
    keep.Set("x", info[0]);
    keep.Set("y", info[2]);
    if (sw) keep.Set("sampleWeight", info[4]);
    auto* w = new StepWorker(info.Env(), this, StepWorker::kTrain, keep, x, y, nullptr, b, it, sw);
    training.fetch_add(1);
    w->Queue();
    return w->Promise();
  }
  // trainBatchesAsync(x, y, yPerRow, order: Int32Array, bounds: Int32Array [start, n]…,
  // iteration0, stop: Int32Array(1), out: Float64Array((3 + metric states) × batches),
  // options?: { progress?, sampleWeight?, rates?: Float32Array(batches) }) → Promise<{done, error?}>;
  // rates: the learning rate of each batch (a schedule's).
  Napi::Value TrainBatchesAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Net* n = live(env);
    const size_t in = n->in_features();
    size_t x_len = 0, y_len = 0;
    const float* x = f32(info[0], "x", SIZE_MAX, false, &x_len);
    const float* y = f32(info[1], "y", SIZE_MAX, false, &y_len);
    if (x_len % in != 0)
      throw_range(env, "Expected a multiple of " + std::to_string(in) + " elements for x but received " +
                           std::to_string(x_len));
    const size_t rows = x_len / in;
    const size_t ypr = count(info[2], "yPerRow", n->out_features());
    if (ypr != 1 && ypr != n->out_features())
      throw_range(env, "Expected 1 or " + std::to_string(n->out_features()) + " for yPerRow but received " +
                           std::to_string(ypr));
    if (y_len != rows * ypr)
      throw_range(env, "Expected " + std::to_string(rows * ypr) + " elements for y but received " +
                           std::to_string(y_len));
    auto i32 = [&](int idx, const char* name) {
      if (!info[idx].IsTypedArray() || info[idx].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
        throw_type(env, name, "an Int32Array", info[idx]);
      return info[idx].As<Napi::Int32Array>();
    };
    auto order = i32(3, "order");
    auto bounds = i32(4, "bounds");
    for (size_t i = 0; i < order.ElementLength(); ++i)
      if (order[i] < 0 || static_cast<size_t>(order[i]) >= rows)
        throw_range(env, "Expected row indices in [0, " + std::to_string(rows) + ") for order but received " +
                             std::to_string(order[i]) + " at " + std::to_string(i));
    if (bounds.ElementLength() % 2 != 0)
      throw_range(env, "Expected [start, n] pairs for bounds but received " +
                           std::to_string(bounds.ElementLength()) + " elements");
    const size_t batches = bounds.ElementLength() / 2;
    for (size_t b = 0; b < batches; ++b) {
      const int64_t st = bounds[2 * b], cnt = bounds[2 * b + 1];
      if (st < 0 || cnt < 1 || static_cast<size_t>(st + cnt) > order.ElementLength())
        throw_range(env, "Expected batches inside order's " + std::to_string(order.ElementLength()) +
                             " rows for bounds but received [" + std::to_string(st) + ", " +
                             std::to_string(cnt) + "] at batch " + std::to_string(b));
    }
    const double it0 = num(info[5], "iteration0");
    auto stop = i32(6, "stop");
    if (stop.ElementLength() < 1) throw_range(env, "Expected at least 1 element for stop but received 0");
    double* out = f64(info[7], "out", (3 + n->metric_state_size()) * batches);
    Napi::Object keep = Napi::Object::New(env);
    for (int i : {0, 1, 3, 4, 6, 7}) keep.Set(std::to_string(i), info[i]);
    // options: { progress?, sampleWeight?, rates? }
    Napi::Value progress = env.Undefined();
    const float* sw = nullptr;
    const float* rates = nullptr;  // one learning rate per batch (a schedule's)
    if (!info[8].IsUndefined()) {
      if (!info[8].IsObject()) throw_type(env, "options", "an object or undefined", info[8]);
      Napi::Object opts = info[8].As<Napi::Object>();
      progress = opts.Get("progress");
      if (!progress.IsUndefined() && !progress.IsFunction())
        throw_type(env, "options.progress", "a function or undefined", progress);
      sw = weights(opts.Get("sampleWeight"), rows);
      if (sw) keep.Set("sampleWeight", opts.Get("sampleWeight"));
      rates = f32(opts.Get("rates"), "options.rates", batches, true);
      if (rates) keep.Set("rates", opts.Get("rates"));
    }
    auto* w = new BatchesWorker(env, this, keep, x, in, y, ypr, order.Data(), bounds.Data(), batches,
                                it0, rates, stop.Data(), out, progress, sw);
    training.fetch_add(1);
    w->Queue();
    return w->Promise();
  }
  Napi::Value EvaluateAsync(const Napi::CallbackInfo& info) {
    live(info.Env(), true);
    size_t b;
    const float* x = input(info, 0, &b);
    const float* y = target(info, 2, b);
    Napi::Object keep = Napi::Object::New(info.Env());
    keep.Set("x", info[0]);
    keep.Set("y", info[2]);
    auto* w = new StepWorker(info.Env(), this, StepWorker::kEvaluate, keep, x, y, nullptr, b, 0);
    reading.fetch_add(1);
    w->Queue();
    return w->Promise();
  }
  Napi::Value PredictAsync(const Napi::CallbackInfo& info) {
    Net* n = live(info.Env(), true);
    size_t b;
    const float* x = input(info, 0, &b);
    float* out = f32(info[2], "out", b * n->out_features());
    Napi::Object keep = Napi::Object::New(info.Env());
    keep.Set("x", info[0]);
    keep.Set("out", info[2]);
    auto* w = new StepWorker(info.Env(), this, StepWorker::kPredict, keep, x, nullptr, out, b, 0);
    reading.fetch_add(1);
    w->Queue();
    return w->Promise();
  }
  Napi::Value Recalibrate(const Napi::CallbackInfo& info) {
    Net* n = live(info.Env());
    size_t rows;
    const float* x = input(info, 0, &rows);
    check(info.Env(), n->recalibrate(x, rows, count(info[2], "batchSize")));
    return info.Env().Undefined();
  }
  Napi::Value SetLearningRate(const Napi::CallbackInfo& info) {
    Net* n = live(info.Env());
    check(info.Env(), n->set_learning_rate(static_cast<float>(num(info[0], "learningRate"))));
    return info.Env().Undefined();
  }
  // stepThreading(): how trainStep used the pool at its last batch size (Net::step_threading).
  // Read it between steps (it is the training thread's state).
  Napi::Value StepThreading(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), live(info.Env())->step_threading());
  }
  // weightsChanged(): JavaScript wrote into a kernel array; inference repacks it (Net::weights_changed).
  Napi::Value WeightsChanged(const Napi::CallbackInfo& info) {
    live(info.Env())->weights_changed();
    return info.Env().Undefined();
  }
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    live(info.Env());
    net_.reset();
    spec_.Reset();
    pins_.clear();
    return info.Env().Undefined();
  }

  std::unique_ptr<Net> net_;
  Napi::ObjectReference spec_;
  std::vector<Pinned> pins_;
};

StepWorker::StepWorker(Napi::Env env, NetWrap* owner, Kind kind, Napi::Object keep,
                       const float* x, const float* y, float* out, size_t batch, double iteration,
                       const float* sample_weight)
    : Napi::AsyncWorker(env, "densenorm.step"),
      deferred_(Napi::Promise::Deferred::New(env)),
      owner_(owner), kind_(kind), x_(x), y_(y), out_(out), batch_(batch), iteration_(iteration),
      sample_weight_(sample_weight) {
  keep.Set("owner", owner->Value());  // keeps the Net alive while the worker runs
  keep_ = Napi::Persistent(keep);
}
StepWorker::~StepWorker() { keep_.Reset(); }

void StepWorker::Execute() {
  Status st;
  switch (kind_) {
    case kTrain: st = owner_->net()->train_step(x_, y_, batch_, iteration_, &res_, sample_weight_); break;
    case kPredict: st = owner_->net()->predict(x_, batch_, out_); break;
    case kEvaluate: st = owner_->net()->evaluate(x_, y_, batch_, &res_); break;
  }
  status_ = st;
  if (!st.ok()) SetError(st.message);
}
void StepWorker::OnOK() {
  (kind_ == kTrain ? owner_->training : owner_->reading).fetch_sub(1);
  deferred_.Resolve(result_object(Env(), res_));
}
void StepWorker::OnError(const Napi::Error& e) {
  (kind_ == kTrain ? owner_->training : owner_->reading).fetch_sub(1);
  deferred_.Reject(status_.ok() ? e.Value() : status_error(Env(), status_).Value());
}

BatchesWorker::BatchesWorker(Napi::Env env, NetWrap* owner, Napi::Object keep, const float* x,
                             size_t in, const float* y, size_t y_per_row, const int32_t* order,
                             const int32_t* bounds, size_t batches, double iteration0,
                             const float* rates, const int32_t* stop, double* out, Napi::Value progress,
                             const float* sample_weight)
    : Napi::AsyncProgressWorker<uint32_t>(env, "densenorm.batches"),
      deferred_(Napi::Promise::Deferred::New(env)), owner_(owner), x_(x), in_(in), y_(y),
      y_per_row_(y_per_row), order_(order), bounds_(bounds), batches_(batches),
      iteration0_(iteration0), rates_(rates), stop_(stop), out_(out), sample_weight_(sample_weight) {
  keep.Set("owner", owner->Value());
  keep_ = Napi::Persistent(keep);
  if (progress.IsFunction()) progress_ = Napi::Persistent(progress.As<Napi::Function>());
}
BatchesWorker::~BatchesWorker() {
  keep_.Reset();
  progress_.Reset();
}

void BatchesWorker::Execute(const ExecutionProgress& progress) {
  const densenorm::TrainingRows rows{x_, in_, y_, y_per_row_, sample_weight_};
  const densenorm::BatchPlan plan{order_, bounds_, batches_};
  std::function<void(size_t)> on_batch;
  if (!progress_.IsEmpty())
    on_batch = [&progress](size_t done) {
      const uint32_t d = static_cast<uint32_t>(done);
      progress.Send(&d, 1);
    };
  const Status st = densenorm::train_batches(*owner_->net(), rows, plan, iteration0_, rates_, stop_,
                                             out_, &done_, on_batch);
  if (!st.ok()) failure_ = st.message;
}
void BatchesWorker::OnProgress(const uint32_t* done, size_t count) {
  if (progress_.IsEmpty() || count == 0) return;
  Napi::HandleScope scope(Env());
  try {
    progress_.Call({Napi::Number::New(Env(), done[count - 1])});
  } catch (const Napi::Error&) {
    // The façade's handler catches its own errors; nothing may escape into the event loop here.
  }
}
void BatchesWorker::OnOK() {
  owner_->training.fetch_sub(1);
  Napi::Object o = Napi::Object::New(Env());
  o.Set("done", static_cast<double>(done_));
  if (!failure_.empty()) o.Set("error", failure_);
  deferred_.Resolve(o);
}
void BatchesWorker::OnError(const Napi::Error& e) {
  owner_->training.fetch_sub(1);
  deferred_.Reject(e.Value());
}

}  // namespace

Napi::Function DefineNet(Napi::Env env) { return NetWrap::Define(env); }

}  // namespace densenorm_binding

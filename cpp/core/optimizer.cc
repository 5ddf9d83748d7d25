#include "core/optimizer.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>

#include "core/passes.h"
#include "densenorm/parallel.h"

namespace densenorm {
namespace {

float no_correction(const OptimizerConfig&, double) { return 0.0f; }

int sgd_states(const OptimizerConfig& o) { return o.momentum != 0 ? 1 : 0; }
void sgd_update(const KernelTable& K, const OptimizerConfig& o, float, const ParamSlot& p,
                size_t b, size_t e) {
  float* velocity = p.state[0] ? p.state[0] + b : nullptr;
  K.sgd_update(e - b, p.value + b, p.grad + b, velocity, o.learning_rate, o.momentum, o.nesterov,
               o.weight_decay);
}

int adam_states(const OptimizerConfig&) { return 2; }
float adam_rate(const OptimizerConfig& o, double t) {
  const double b1t = std::pow(static_cast<double>(o.beta1), t);
  const double b2t = std::pow(static_cast<double>(o.beta2), t);
  return static_cast<float>(o.learning_rate * std::sqrt(1 - b2t) / (1 - b1t));
}
void adam_update(const KernelTable& K, const OptimizerConfig& o, float lr_t, const ParamSlot& p,
                 size_t b, size_t e) {
  K.adam_update(e - b, p.value + b, p.grad + b, p.state[0] + b, p.state[1] + b, o.learning_rate,
                lr_t, o.beta1, o.beta2, o.epsilon, o.weight_decay);
}

int rmsprop_states(const OptimizerConfig& o) { return o.momentum != 0 ? 2 : 1; }
void rmsprop_update(const KernelTable& K, const OptimizerConfig& o, float, const ParamSlot& p,
                    size_t b, size_t e) {
  float* momentum = p.state[1] ? p.state[1] + b : nullptr;
  K.rmsprop_update(e - b, p.value + b, p.grad + b, p.state[0] + b, momentum, o.learning_rate,
                   o.rho, o.momentum, o.epsilon, o.weight_decay);
}

// In Optim's order.
constexpr OptimizerDef kOptimizers[kOptimCount] = {
    {"sgd", sgd_states, sgd_update, no_correction},
    {"adam", adam_states, adam_update, adam_rate},
    {"rmsprop", rmsprop_states, rmsprop_update, no_correction},
};

}  // namespace

const OptimizerDef& optimizer_def(Optim o) { return kOptimizers[static_cast<int>(o)]; }

namespace {
bool finite_non_negative(float v) { return std::isfinite(v) && v >= 0; }
std::string text(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
  return buf;
}
}  // namespace

Status check_param_slots(const std::vector<ParamSlot>& params, const OptimizerConfig& o) {
  const int states = optimizer_def(o.type).state_count(o);
  for (const ParamSlot& p : params) {
    if (!p.value || !p.grad || p.size == 0)
      return Status::Invalid("parameter slot without value or gradient");
    for (int i = 0; i < states; ++i)
      if (!p.state[i]) return Status::Invalid("parameter slot lacks optimizer state");
    if (!finite_non_negative(p.l1) || !finite_non_negative(p.l2))
      return Status::Invalid("Expected finite l1 and l2 >= 0 for a parameter's regularizer but received " +
                             text(p.l1) + " and " + text(p.l2));
  }
  return Status::Ok();
}

Status check_learning_rate(float lr) {
  if (finite_non_negative(lr)) return Status::Ok();
  return Status::Invalid("Expected a finite number >= 0 for learningRate but received " + text(lr));
}

Status check_optimizer_config(const OptimizerConfig& o) {
  Status st = check_learning_rate(o.learning_rate);
  if (!st.ok()) return st;
  const std::pair<const char*, float> clips[] = {
      {"clipnorm", o.clipnorm}, {"globalClipnorm", o.global_clipnorm}, {"clipvalue", o.clipvalue}};
  int set = 0;
  for (const auto& [name, v] : clips) {
    if (!finite_non_negative(v))
      return Status::Invalid(std::string("Expected a finite number >= 0 (0: off) for ") + name +
                             " but received " + text(v));
    set += v > 0;
  }
  if (set > 1)
    return Status::Invalid("Expected at most one of clipnorm, globalClipnorm and clipvalue but received " +
                           std::to_string(set));
  return Status::Ok();
}

double regularize(const std::vector<ParamSlot>& params, bool add_grad) {
  double penalty = 0;
  for (const ParamSlot& p : params) {
    if (p.l1 == 0 && p.l2 == 0) continue;
    double s1 = 0, s2 = 0;
    const float l1 = p.l1, l2x2 = 2 * p.l2;
    for (size_t i = 0; i < p.size; ++i) {
      const float w = p.value[i];
      s1 += std::fabs(static_cast<double>(w));
      s2 += static_cast<double>(w) * w;
      if (add_grad) {
        const float sign = w > 0 ? 1.0f : (w < 0 ? -1.0f : 0.0f);
        p.grad[i] += l1 * sign + l2x2 * w;
      }
    }
    penalty += static_cast<double>(p.l1) * s1 + static_cast<double>(p.l2) * s2;
  }
  return penalty;
}

namespace {
double squared_norm(const ParamSlot& p) {
  double s = 0;
  for (size_t i = 0; i < p.size; ++i) s += static_cast<double>(p.grad[i]) * p.grad[i];
  return s;
}
void scale_grad(const ParamSlot& p, float c, float norm) {
  for (size_t i = 0; i < p.size; ++i) p.grad[i] = p.grad[i] * c / norm;  // Keras: (g·c) / max(‖g‖, c)
}
}  // namespace

void clip_gradients(const OptimizerConfig& o, const std::vector<ParamSlot>& params) {
  if (o.clipvalue > 0) {
    const float c = o.clipvalue;
    for (const ParamSlot& p : params)
      for (size_t i = 0; i < p.size; ++i) p.grad[i] = p.grad[i] > c ? c : (p.grad[i] < -c ? -c : p.grad[i]);
  } else if (o.clipnorm > 0) {
    for (const ParamSlot& p : params) {
      const double n = std::sqrt(squared_norm(p));
      if (n > o.clipnorm) scale_grad(p, o.clipnorm, static_cast<float>(n));
    }
  } else if (o.global_clipnorm > 0) {
    double total = 0;
    for (const ParamSlot& p : params) total += squared_norm(p);
    const double n = std::sqrt(total);
    if (n <= o.global_clipnorm) return;  // within the norm: unchanged
    const float norm = std::isfinite(n) ? static_cast<float>(n) : std::numeric_limits<float>::quiet_NaN();
    for (const ParamSlot& p : params) scale_grad(p, o.global_clipnorm, norm);
  }
}

void optimizer_step(const OptimizerConfig& o, const std::vector<ParamSlot>& params, double t,
                    std::vector<OptimizerPiece>* pieces) {
  const KernelTable& K = kernels();
  const OptimizerDef& def = optimizer_def(o.type);
  const float lr_t = def.corrected_rate(o, t);
  size_t total = 0;
  for (const ParamSlot& slot : params) total += slot.size;
  const size_t nt = static_cast<size_t>(num_threads());
  if (total < kParMin || nt <= 1) {
    for (const ParamSlot& slot : params) def.update(K, o, lr_t, slot, 0, slot.size);
    return;
  }
  // One parallel region for all parameters: pieces of about total / (4·threads) elements
  // (aligned), a small parameter being one piece (one region per parameter would wake the pool
  // once per parameter for a few microseconds of work).
  size_t per = (total + nt * 4 - 1) / (nt * 4);
  per = (per + kFlatAlign - 1) / kFlatAlign * kFlatAlign;
  pieces->clear();  // keeps its capacity: no allocation after the first step
  for (size_t s = 0; s < params.size(); ++s)
    for (size_t b = 0; b < params[s].size; b += per)
      pieces->push_back({s, b, std::min(params[s].size, b + per)});
  parallel_for(pieces->size(), [&](size_t i) {
    const OptimizerPiece& q = (*pieces)[i];
    def.update(K, o, lr_t, params[q.slot], q.begin, q.end);
  });
}

}  // namespace densenorm

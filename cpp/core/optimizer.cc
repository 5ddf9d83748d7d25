#include "core/optimizer.h"

#include <cmath>

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

Status check_param_slots(const std::vector<ParamSlot>& params, const OptimizerConfig& o) {
  const int states = optimizer_def(o.type).state_count(o);
  for (const ParamSlot& p : params) {
    if (!p.value || !p.grad || p.size == 0)
      return Status::Invalid("parameter slot without value or gradient");
    for (int i = 0; i < states; ++i)
      if (!p.state[i]) return Status::Invalid("parameter slot lacks optimizer state");
  }
  return Status::Ok();
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

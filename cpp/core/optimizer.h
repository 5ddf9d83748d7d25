// The optimizers, one table: how many state arrays each needs and its update of one parameter
// range. Every update is elementwise, so any split of the parameters gives the same bits.
#pragma once
#include <cstddef>
#include <vector>

#include "densenorm/kernels.h"
#include "densenorm/model.h"
#include "densenorm/status.h"

namespace densenorm {

struct OptimizerDef {
  const char* name;
  // State arrays a parameter needs under config o (0, 1 or 2: ParamSlot::state[0..n)).
  int (*state_count)(const OptimizerConfig& o);
  // Updates elements [b, e) of one parameter; lr_t is the step's bias-corrected rate (adam).
  void (*update)(const KernelTable& K, const OptimizerConfig& o, float lr_t, const ParamSlot& p,
                 size_t b, size_t e);
  // The step's learning rate after bias correction at iteration t (1-based), or 0 if unused.
  float (*corrected_rate)(const OptimizerConfig& o, double t);
};

const OptimizerDef& optimizer_def(Optim o);

// Every slot has a value, a gradient, the state arrays its optimizer needs and l1, l2 finite >= 0.
Status check_param_slots(const std::vector<ParamSlot>& params, const OptimizerConfig& o);

// A learning rate the update rules accept: finite and >= 0 (0 leaves the weights as they are).
Status check_learning_rate(float lr);
// The learning rate, and the clipping values finite >= 0 with at most one of them set.
Status check_optimizer_config(const OptimizerConfig& o);

// The regularization penalty Σ l1·Σ|w| + l2·Σw² of every slot (double, in slot order, so the same
// bits for every thread count); with add_grad also adds l1·sign(w) + 2·l2·w to each gradient.
// Slots without l1 and l2 are skipped: a model without regularizers reads nothing.
double regularize(const std::vector<ParamSlot>& params, bool add_grad);

// Gradient clipping as Keras applies it before the update: clipvalue per element, clipnorm per
// tensor (g·c / ‖g‖ when ‖g‖ > c), global_clipnorm over all tensors (g·c / ‖G‖ when ‖G‖ > c, NaN
// when ‖G‖ is not finite). Norms are summed serially in double. Nothing is read when all are off.
void clip_gradients(const OptimizerConfig& o, const std::vector<ParamSlot>& params);

// One update of every parameter at iteration t (1-based), after clip_gradients. pieces: scratch
// kept across steps.
struct OptimizerPiece { size_t slot, begin, end; };
void optimizer_step(const OptimizerConfig& o, const std::vector<ParamSlot>& params, double t,
                    std::vector<OptimizerPiece>* pieces);

}  // namespace densenorm

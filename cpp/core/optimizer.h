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

// Every slot has a value, a gradient and the state arrays its optimizer needs.
Status check_param_slots(const std::vector<ParamSlot>& params, const OptimizerConfig& o);

// One update of every parameter at iteration t (1-based). pieces: scratch kept across steps.
struct OptimizerPiece { size_t slot, begin, end; };
void optimizer_step(const OptimizerConfig& o, const std::vector<ParamSlot>& params, double t,
                    std::vector<OptimizerPiece>* pieces);

}  // namespace densenorm

// What one op file (core/ops/<name>.cc) gives the fusion planner: where in a block its work can
// go and how to fill that part of the BlockSpec. An op file registers itself (DENSENORM_OP), so
// adding an op touches no central list.
#pragma once
#include <string>

#include "densenorm/model.h"
#include "densenorm/ops.h"
#include "densenorm/status.h"

namespace densenorm {

// The parts of a block, in the order they run: [Dense] → pre_act → [BatchNorm] → post_act →
// [epilogue]. An op joins the open block when one of its parts comes after every part filled.
enum Part : int { kDensePart = 0, kPreActPart, kNormPart, kPostActPart, kEpiloguePart, kPartCount };

struct OpDef {
  const char* name;
  // The parts this op can fill, as a bit mask of 1 << Part, given its attributes; the planner
  // takes the first one after the open block's last filled part, else opens a new block.
  unsigned (*parts)(const OpSpec& op);
  // The last part the op fills when placed at `part` (Dense with an activation fills
  // kPreActPart too); nullptr: just `part`.
  int (*last_part)(const OpSpec& op, int part);
  // Fills `part` (and through last_part) of block b, whose b.in is the op's input width and b.out
  // starts equal to it. Checks every array's size: the arrays are the caller's memory.
  Status (*apply)(const OpSpec& op, int part, BlockSpec& b);
};

struct OpRegistrar {
  explicit OpRegistrar(const OpDef& def);
};

#define DENSENORM_OP(def) static const ::densenorm::OpRegistrar dn_op_registrar_##def(def)

// Helpers for apply().
// The activation named by op.str[key] (missing: linear).
Status op_activation(const OpSpec& op, const char* key, Act* out);
// Tensor `key` as float32 with exactly `size` elements; optional: may be absent (then nullptr).
Status op_f32(const OpSpec& op, const char* key, size_t size, bool optional, float** out);
Status op_f64(const OpSpec& op, const char* key, size_t size, bool optional, double** out);

}  // namespace densenorm

// The model as the façade hands it over: a list of ops (one per layer), each a name plus named
// numbers, strings and caller-owned arrays. Which ops run together as one fused block is decided
// here (core/fuse.cc), not by the caller; an op the current block cannot take starts a new one.
#pragma once
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "densenorm/model.h"
#include "densenorm/status.h"

namespace densenorm {

// An array the op reads or writes in place: float32 or float64, `size` elements.
struct OpTensor {
  float* f32 = nullptr;
  double* f64 = nullptr;
  size_t size = 0;
};

struct OpSpec {
  std::string op;                           // "dense", "batchNormalization", "activation", ...
  std::map<std::string, double> num;        // numbers and booleans (0/1)
  std::map<std::string, std::string> str;   // e.g. activation names
  std::map<std::string, OpTensor> tensors;  // absent: none (e.g. no bias)

  bool has(const std::string& k) const { return num.count(k) != 0; }
  double number(const std::string& k, double def) const {
    auto it = num.find(k);
    return it == num.end() ? def : it->second;
  }
};

// The op list turned into blocks for Net::create. fuse == false puts every op in a block of its
// own (the unfused reference the fused plan is tested against). groups[k] lists the ops of
// blocks[k]. in_features: the model's input width.
Status fuse_ops(const std::vector<OpSpec>& ops, size_t in_features, bool fuse,
                std::vector<BlockSpec>* blocks, std::vector<std::vector<size_t>>* groups);

// Only the grouping (no arrays needed): what fuse_ops would group, for summaries.
Status fusion_groups(const std::vector<OpSpec>& ops, bool fuse,
                     std::vector<std::vector<size_t>>* groups);

// The op names the core knows, sorted.
std::vector<std::string> op_names();

}  // namespace densenorm

// The fusion plan without Node: every op file registered itself in a plain C++ binary (the op
// objects are linked in directly), the grouping rule, and the errors for bad op lists.
#include <cstdio>
#include <string>
#include <vector>

#include "densenorm/ops.h"

namespace {

using densenorm::OpSpec;

int failures = 0;
void expect(bool cond, const std::string& what) {
  std::printf("%s %s\n", cond ? "ok  " : "FAIL", what.c_str());
  if (!cond) ++failures;
}

OpSpec op(const char* name, const char* act = nullptr) {
  OpSpec o;
  o.op = name;
  if (act) o.str["activation"] = act;
  if (std::string(name) == "dense") o.num["units"] = 4;
  if (std::string(name) == "dropout") o.num["rate"] = 0.5;
  return o;
}

std::string groups(const std::vector<OpSpec>& ops, bool fuse = true) {
  std::vector<std::vector<size_t>> g;
  densenorm::Status st = densenorm::fusion_groups(ops, fuse, &g);
  if (!st.ok()) return "error: " + st.message;
  std::string s;
  for (const auto& b : g) {
    s += "[";
    for (size_t i = 0; i < b.size(); ++i) s += (i ? "," : "") + std::to_string(b[i]);
    s += "]";
  }
  return s;
}

}  // namespace

int main() {
  const std::vector<std::string> names = densenorm::op_names();
  expect(names == std::vector<std::string>{"activation", "batchNormalization", "dense", "dropout",
                                          "groupNormalization", "layerNormalization"},
         "every op file registered itself");
  expect(groups({op("dense"), op("batchNormalization"), op("activation", "relu")}) == "[0,1,2]",
         "Dense → BN → act is one block");
  expect(groups({op("dense", "relu"), op("activation", "tanh"), op("activation", "sigmoid")}) == "[0,1][2]",
         "Dense(act) fills the pre-activation: one more activation, then a new block");
  expect(groups({op("dense"), op("dropout"), op("batchNormalization")}) == "[0,1][2]",
         "dropout closes its block");
  expect(groups({op("dense"), op("batchNormalization")}, false) == "[0][1]", "unfused: a block per op");
  expect(groups({op("dense"), op("layerNormalization"), op("activation", "relu"), op("dense"),
                 op("groupNormalization"), op("batchNormalization")}) == "[0,1,2][3,4][5]",
         "layer and group normalization fill the normalization part, as batch norm does");
  expect(groups({op("conv2d")}).find("unknown op 'conv2d' (the core knows: activation, batchNormalization, dense, dropout, groupNormalization, layerNormalization)") != std::string::npos,
         "an unknown op names the known ones");
  std::vector<densenorm::BlockSpec> blocks;
  std::vector<std::vector<size_t>> g;
  densenorm::Status st = densenorm::fuse_ops({op("dense")}, 3, true, &blocks, &g);
  expect(!st.ok() && st.message == "op 0 (dense): Expected a Float32Array for kernel but received none",
         "a missing array is an error naming the op and the array");
  std::vector<float> k(12), wrong(11);
  OpSpec d = op("dense");
  d.tensors["kernel"] = {wrong.data(), nullptr, wrong.size()};
  d.num["trainable"] = 0;
  st = densenorm::fuse_ops({d}, 3, true, &blocks, &g);
  expect(!st.ok() && st.message == "op 0 (dense): Expected 12 elements for kernel but received 11",
         "an array of the wrong size is an error, before anything reads it");
  d.tensors["kernel"] = {k.data(), nullptr, k.size()};
  st = densenorm::fuse_ops({d, op("dropout")}, 3, true, &blocks, &g);
  expect(st.ok() && blocks.size() == 1 && blocks[0].in == 3 && blocks[0].out == 4 && blocks[0].epilogue,
         "a valid list becomes blocks with widths and the dropout epilogue");
  std::printf("%s\n", failures ? "FAILED" : "all passed");
  return failures ? 1 : 0;
}

// The fusion plan: which consecutive ops of the list run as one block. Each op says which block
// parts it can fill (core/ops/<name>.cc); the rule here is the only place that groups them.
#include <algorithm>
#include <cmath>
#include <map>

#include "core/ops/op.h"
#include "densenorm/ops.h"

namespace densenorm {
namespace {

std::map<std::string, const OpDef*>& registry() {
  static std::map<std::string, const OpDef*> r;  // filled by static registrars before main
  return r;
}

// The first part in mask after `last` (-1: an empty block), or kPartCount.
int first_part_after(unsigned mask, int last) {
  for (int p = last + 1; p < kPartCount; ++p)
    if (mask & (1u << p)) return p;
  return kPartCount;
}

Status lookup(const OpSpec& op, size_t i, const OpDef** def) {
  auto it = registry().find(op.op);
  if (it == registry().end()) {
    std::string known;
    for (const std::string& n : op_names()) known += (known.empty() ? "" : ", ") + n;
    return Status::Invalid("op " + std::to_string(i) + ": unknown op '" + op.op +
                           "' (the core knows: " + known + ")");
  }
  *def = it->second;
  if (def[0]->parts(op) == 0)
    return Status::Invalid("op " + std::to_string(i) + " (" + op.op + "): its attributes leave it no part of a block");
  return Status::Ok();
}

// Plans ops into blocks; with out != nullptr also fills them.
Status plan(const std::vector<OpSpec>& ops, size_t in_features, bool fuse,
            std::vector<BlockSpec>* out, std::vector<std::vector<size_t>>* groups) {
  groups->clear();
  if (out) out->clear();
  std::vector<BlockSpec> blocks;
  int last = kPartCount;  // no open block
  size_t width = in_features;
  for (size_t i = 0; i < ops.size(); ++i) {
    const OpDef* def = nullptr;
    Status st = lookup(ops[i], i, &def);
    if (!st.ok()) return st;
    const unsigned mask = def->parts(ops[i]);
    int part = fuse ? first_part_after(mask, last) : kPartCount;
    if (part == kPartCount) {  // a new block
      if (!blocks.empty()) width = blocks.back().out;
      blocks.emplace_back();
      blocks.back().in = blocks.back().out = width;
      groups->emplace_back();
      part = first_part_after(mask, -1);
    }
    groups->back().push_back(i);
    last = def->last_part ? def->last_part(ops[i], part) : part;
    if (!out) continue;
    st = def->apply(ops[i], part, blocks.back());
    if (!st.ok()) return Status{st.code, "op " + std::to_string(i) + " (" + ops[i].op + "): " + st.message};
  }
  if (out) *out = std::move(blocks);
  return Status::Ok();
}

}  // namespace

OpRegistrar::OpRegistrar(const OpDef& def) { registry()[def.name] = &def; }

std::vector<std::string> op_names() {
  std::vector<std::string> names;
  for (const auto& kv : registry()) names.push_back(kv.first);
  return names;
}

Status fuse_ops(const std::vector<OpSpec>& ops, size_t in_features, bool fuse,
                std::vector<BlockSpec>* blocks, std::vector<std::vector<size_t>>* groups) {
  if (in_features == 0 || in_features > kMaxFeatures)
    return Status::Invalid("Expected 1 to " + std::to_string(kMaxFeatures) +
                           " input features but received " + std::to_string(in_features));
  return plan(ops, in_features, fuse, blocks, groups);
}

Status fusion_groups(const std::vector<OpSpec>& ops, bool fuse,
                     std::vector<std::vector<size_t>>* groups) {
  return plan(ops, 1, fuse, nullptr, groups);
}

Status op_activation(const OpSpec& op, const char* key, Act* out) {
  auto it = op.str.find(key);
  if (it == op.str.end()) {
    *out = Act::linear;
    return Status::Ok();
  }
  for (int a = 0; a < kActCount; ++a)
    if (it->second == kActNames[a]) {
      *out = static_cast<Act>(a);
      return Status::Ok();
    }
  std::string known;
  for (int a = 0; a < kActCount; ++a) known += (a ? ", " : "") + std::string(kActNames[a]);
  return Status{Code::kInvalidArgument,
                std::string("Expected one of ") + known + " for " + key + " but received '" + it->second + "'"};
}

namespace {
Status check_tensor(const OpSpec& op, const char* key, size_t size, bool optional, bool f64,
                    const OpTensor** t) {
  *t = nullptr;
  const char* want = f64 ? "a Float64Array" : "a Float32Array";
  auto it = op.tensors.find(key);
  if (it == op.tensors.end()) {
    if (optional) return Status::Ok();
    return Status{Code::kType, std::string("Expected ") + want + " for " + key + " but received none"};
  }
  if (f64 ? !it->second.f64 : !it->second.f32)
    return Status{Code::kType, std::string("Expected ") + want + " for " + key + " but received " +
                                   (f64 ? "a Float32Array" : "a Float64Array")};
  if (it->second.size != size)
    return Status::Invalid(std::string("Expected ") + std::to_string(size) + " elements for " + key +
                           " but received " + std::to_string(it->second.size));
  *t = &it->second;
  return Status::Ok();
}
}  // namespace

Status op_f32(const OpSpec& op, const char* key, size_t size, bool optional, float** out) {
  const OpTensor* t = nullptr;
  Status st = check_tensor(op, key, size, optional, false, &t);
  *out = t ? t->f32 : nullptr;
  return st;
}

Status op_f64(const OpSpec& op, const char* key, size_t size, bool optional, double** out) {
  const OpTensor* t = nullptr;
  Status st = check_tensor(op, key, size, optional, true, &t);
  *out = t ? t->f64 : nullptr;
  return st;
}

}  // namespace densenorm

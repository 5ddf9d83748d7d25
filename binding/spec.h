// The parts of a NativeNet spec. The op list is converted without knowing any op: numbers and
// booleans, strings, and Float32Array/Float64Array properties become the OpSpec's maps (arrays
// pinned); what each op needs is checked by its core/ops/<name>.cc.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "densenorm/model.h"
#include "densenorm/ops.h"

namespace densenorm_binding {

std::vector<densenorm::OpSpec> to_ops(const Napi::Value& v, const std::string& name);

// { type, learningRate, momentum, ... } (lib/native.ts NativeOptimizerSpec).
densenorm::OptimizerConfig to_optimizer(const Napi::Value& v, const std::string& name);

// [{ value, grad, state1?, state2? }, ...]: the optimizer's slots (arrays pinned).
std::vector<densenorm::ParamSlot> to_params(const Napi::Value& v, const std::string& name);

// An array of strings.
std::vector<std::string> to_names(const Napi::Value& v, const std::string& name);

// [[op indices of block 0], ...] as a JS array of arrays.
Napi::Value groups_value(Napi::Env env, const std::vector<std::vector<size_t>>& groups);

}  // namespace densenorm_binding

// The op list of a NativeNet spec, converted without knowing any op: numbers and booleans,
// strings, and Float32Array/Float64Array properties become the OpSpec's maps (arrays pinned).
// What each op needs is checked by its core/ops/<name>.cc.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "densenorm/ops.h"

namespace densenorm_binding {

std::vector<densenorm::OpSpec> to_ops(const Napi::Value& v, const std::string& name);

// [[op indices of block 0], ...] as a JS array of arrays.
Napi::Value groups_value(Napi::Env env, const std::vector<std::vector<size_t>>& groups);

}  // namespace densenorm_binding

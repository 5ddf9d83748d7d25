// The optimizer half of a NativeNet spec: spec.optimizer and spec.params, converted for the core.
#pragma once
#include <napi.h>

#include <vector>

#include "densenorm/model.h"

namespace densenorm_binding {

// spec.optimizer: { type, learningRate, momentum?, nesterov?, beta1?, beta2?, rho?, epsilon?,
// weightDecay?, clipnorm?, globalClipnorm?, clipvalue? } (the core checks the values).
densenorm::OptimizerConfig optimizer_config(Napi::Env env, const Napi::Value& v);

// spec.params: [{ value, grad, state1?, state2?, l1?, l2? }], each array pinned.
std::vector<densenorm::ParamSlot> param_slots(Napi::Env env, const Napi::Value& v);

}  // namespace densenorm_binding

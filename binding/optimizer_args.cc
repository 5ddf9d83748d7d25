#include "optimizer_args.h"

#include <string>

#include "args.h"

namespace densenorm_binding {

densenorm::OptimizerConfig optimizer_config(Napi::Env env, const Napi::Value& ov) {
  densenorm::OptimizerConfig opt;
  if (!ov.IsObject()) throw_type(env, "spec.optimizer", "an object", ov);
  Napi::Object o = ov.As<Napi::Object>();
  opt.type = static_cast<densenorm::Optim>(count(o.Get("type"), "spec.optimizer.type", densenorm::kOptimCount - 1));
  auto getf = [&](const char* k, float def) {
    Napi::Value v = o.Get(k);
    return v.IsUndefined() ? def : static_cast<float>(num(v, std::string("spec.optimizer.") + k));
  };
  opt.learning_rate = getf("learningRate", opt.learning_rate);
  opt.momentum = getf("momentum", 0.f);
  opt.nesterov = flag(o.Get("nesterov"), "spec.optimizer.nesterov");
  opt.beta1 = getf("beta1", opt.beta1);
  opt.beta2 = getf("beta2", opt.beta2);
  opt.rho = getf("rho", opt.rho);
  opt.epsilon = getf("epsilon", opt.epsilon);
  opt.weight_decay = getf("weightDecay", 0.f);
  opt.clipnorm = getf("clipnorm", 0.f);
  opt.global_clipnorm = getf("globalClipnorm", 0.f);
  opt.clipvalue = getf("clipvalue", 0.f);
  return opt;
}

std::vector<densenorm::ParamSlot> param_slots(Napi::Env env, const Napi::Value& pv) {
  std::vector<densenorm::ParamSlot> params;
  if (!pv.IsArray()) throw_type(env, "spec.params", "an array", pv);
  Napi::Array pa = pv.As<Napi::Array>();
  for (uint32_t i = 0; i < pa.Length(); ++i) {
    const std::string w = "spec.params[" + std::to_string(i) + "]";
    if (!pa.Get(i).IsObject()) throw_type(env, w, "an object", pa.Get(i));
    Napi::Object p = pa.Get(i).As<Napi::Object>();
    densenorm::ParamSlot s;
    s.value = f32(p.Get("value"), w + ".value", SIZE_MAX, false, &s.size);
    s.grad = f32(p.Get("grad"), w + ".grad", s.size);
    s.state[0] = f32(p.Get("state1"), w + ".state1", s.size, true);
    s.state[1] = f32(p.Get("state2"), w + ".state2", s.size, true);
    auto getf = [&](const char* k) {
      Napi::Value v = p.Get(k);
      return v.IsUndefined() ? 0.f : static_cast<float>(num(v, w + "." + k));
    };
    s.l1 = getf("l1");
    s.l2 = getf("l2");
    params.push_back(s);
  }
  return params;
}

}  // namespace densenorm_binding

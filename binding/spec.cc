#include "spec.h"

#include "args.h"

namespace densenorm_binding {

std::vector<densenorm::OpSpec> to_ops(const Napi::Value& v, const std::string& name) {
  Napi::Env env = v.Env();
  if (!v.IsArray()) throw_type(env, name, "an array of ops", v);
  Napi::Array a = v.As<Napi::Array>();
  std::vector<densenorm::OpSpec> ops(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    const std::string w = name + "[" + std::to_string(i) + "]";
    Napi::Value ov = a.Get(i);
    if (!ov.IsObject() || ov.IsArray()) throw_type(env, w, "an object like { op: 'dense', ... }", ov);
    Napi::Object o = ov.As<Napi::Object>();
    densenorm::OpSpec& op = ops[i];
    if (!o.Get("op").IsString()) throw_type(env, w + ".op", "an op name", o.Get("op"));
    op.op = o.Get("op").As<Napi::String>().Utf8Value();
    Napi::Array keys = o.GetPropertyNames();
    for (uint32_t k = 0; k < keys.Length(); ++k) {
      const std::string key = keys.Get(k).As<Napi::String>().Utf8Value();
      if (key == "op") continue;
      Napi::Value x = o.Get(key);
      const std::string where = w + "." + key;
      if (x.IsUndefined() || x.IsNull()) continue;
      if (x.IsNumber()) {
        op.num[key] = x.As<Napi::Number>().DoubleValue();
      } else if (x.IsBoolean()) {
        op.num[key] = x.As<Napi::Boolean>().Value() ? 1 : 0;
      } else if (x.IsString()) {
        op.str[key] = x.As<Napi::String>().Utf8Value();
      } else if (x.IsTypedArray() && x.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
        densenorm::OpTensor& t = op.tensors[key];
        t.f32 = f32(x, where, SIZE_MAX, false, &t.size);
      } else if (x.IsTypedArray() && x.As<Napi::TypedArray>().TypedArrayType() == napi_float64_array) {
        densenorm::OpTensor& t = op.tensors[key];
        t.size = x.As<Napi::TypedArray>().ElementLength();
        t.f64 = f64(x, where, t.size);
      } else {
        throw_type(env, where, "a number, boolean, string, Float32Array or Float64Array", x);
      }
    }
  }
  return ops;
}

densenorm::OptimizerConfig to_optimizer(const Napi::Value& ov, const std::string& name) {
  Napi::Env env = ov.Env();
  densenorm::OptimizerConfig opt;
  if (!ov.IsObject()) throw_type(env, name, "an object", ov);
  Napi::Object o = ov.As<Napi::Object>();
  opt.type = static_cast<densenorm::Optim>(count(o.Get("type"), name + ".type", densenorm::kOptimCount - 1));
  auto getf = [&](const char* k, float def) {
    Napi::Value v = o.Get(k);
    return v.IsUndefined() ? def : static_cast<float>(num(v, name + "." + k));
  };
  opt.learning_rate = getf("learningRate", opt.learning_rate);
  opt.momentum = getf("momentum", 0.f);
  opt.nesterov = flag(o.Get("nesterov"), name + ".nesterov");
  opt.beta1 = getf("beta1", opt.beta1);
  opt.beta2 = getf("beta2", opt.beta2);
  opt.rho = getf("rho", opt.rho);
  opt.epsilon = getf("epsilon", opt.epsilon);
  opt.weight_decay = getf("weightDecay", 0.f);
  opt.clipnorm = getf("clipnorm", 0.f);  // 0: off (the core checks the values)
  opt.global_clipnorm = getf("globalClipnorm", 0.f);
  opt.clipvalue = getf("clipvalue", 0.f);
  return opt;
}

std::vector<densenorm::ParamSlot> to_params(const Napi::Value& pv, const std::string& name) {
  Napi::Env env = pv.Env();
  std::vector<densenorm::ParamSlot> params;
  if (!pv.IsArray()) throw_type(env, name, "an array", pv);
  Napi::Array pa = pv.As<Napi::Array>();
  for (uint32_t i = 0; i < pa.Length(); ++i) {
    const std::string w = name + "[" + std::to_string(i) + "]";
    if (!pa.Get(i).IsObject()) throw_type(env, w, "an object", pa.Get(i));
    Napi::Object p = pa.Get(i).As<Napi::Object>();
    densenorm::ParamSlot s;
    s.value = f32(p.Get("value"), w + ".value", SIZE_MAX, false, &s.size);
    s.grad = f32(p.Get("grad"), w + ".grad", s.size);
    s.state[0] = f32(p.Get("state1"), w + ".state1", s.size, true);
    s.state[1] = f32(p.Get("state2"), w + ".state2", s.size, true);
    auto factor = [&](const char* k) {  // regularization; absent: 0
      Napi::Value v = p.Get(k);
      return v.IsUndefined() ? 0.f : static_cast<float>(num(v, w + "." + k));
    };
    s.l1 = factor("l1");
    s.l2 = factor("l2");
    params.push_back(s);
  }
  return params;
}

std::vector<std::string> to_names(const Napi::Value& v, const std::string& name) {
  if (!v.IsArray()) throw_type(v.Env(), name, "an array of names", v);
  Napi::Array a = v.As<Napi::Array>();
  std::vector<std::string> names;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    if (!a.Get(i).IsString()) throw_type(v.Env(), name + "[" + std::to_string(i) + "]", "a name", a.Get(i));
    names.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  }
  return names;
}

Napi::Value groups_value(Napi::Env env, const std::vector<std::vector<size_t>>& groups) {
  Napi::Array out = Napi::Array::New(env, groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    Napi::Array a = Napi::Array::New(env, groups[g].size());
    for (size_t i = 0; i < groups[g].size(); ++i) a.Set(static_cast<uint32_t>(i), static_cast<double>(groups[g][i]));
    out.Set(static_cast<uint32_t>(g), a);
  }
  return out;
}

}  // namespace densenorm_binding

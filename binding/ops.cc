#include "ops.h"

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

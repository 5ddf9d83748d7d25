// QuantizedNet for JavaScript: the int8 inference chain (densenorm/quantized.h), predict on the
// calling thread or on a worker (predictAsync), and int8Info (which path this process runs).
#include <napi.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "args.h"
#include "errors.h"
#include "densenorm/int8.h"
#include "densenorm/kernels.h"
#include "densenorm/quantized.h"

namespace densenorm_binding {
namespace {
using densenorm::int8::Path;

template <class T>
T* typed(Napi::Env env, const Napi::Value& v, napi_typedarray_type ty, const std::string& name, const char* what, size_t len) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != ty) throw_type(env, name, what, v);
  auto a = v.As<Napi::TypedArray>();
  if (a.ElementLength() != len) {
    throw_range(env, "Expected " + std::to_string(len) + " elements for " + name + " but received " + std::to_string(a.ElementLength()));
  }
  return reinterpret_cast<T*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
}

size_t count(Napi::Env env, const Napi::Value& v, const std::string& name, size_t max) {
  if (!v.IsNumber()) throw_type(env, name, "a number", v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= static_cast<double>(max)) || d != static_cast<double>(static_cast<size_t>(d))) {
    throw_range(env, "Expected an integer in [0, " + std::to_string(max) + "] for " + name + " but received " + describe(v));
  }
  return static_cast<size_t>(d);
}

float num(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsNumber()) throw_type(env, name, "a number", v);
  return static_cast<float>(v.As<Napi::Number>().DoubleValue());
}

const densenorm::int8::Table& table_named(Napi::Env env, const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return densenorm::int8::active();
  if (!v.IsString()) throw_type(env, "path", "a string", v);
  const std::string s = v.As<Napi::String>().Utf8Value();
  for (int i = 0; i < densenorm::int8::kPathCount; ++i) {
    const Path p = static_cast<Path>(i);
    if (s == densenorm::int8::path_name(p)) {
      if (const auto* t = densenorm::int8::table_for(p)) return *t;
      throw_range(env, "The int8 path " + s + " is not available on this CPU");
    }
  }
  throw_range(env, "Expected scalar, avx2, avx512 or avx512_vnni for path but received " + s);
}

class QNetWrap : public Napi::ObjectWrap<QNetWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "QuantizedNet",
                       {InstanceMethod("predict", &QNetWrap::Predict),
                        InstanceMethod("predictAsync", &QNetWrap::PredictAsync),
                        InstanceMethod("layer0", &QNetWrap::Layer0),
                        InstanceAccessor("path", &QNetWrap::PathName, nullptr)});
  }

  explicit QNetWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<QNetWrap>(info) {
    Napi::Env env = info.Env();
    if (const char* err = densenorm::init_kernels()) throw densenorm_error(env, err, "ERR_NATIVE");
    if (info.Length() < 1 || !info[0].IsObject()) throw_type(env, "spec", "an object", info[0]);
    Napi::Object spec = info[0].As<Napi::Object>();
    const auto& table = table_named(env, spec.Get("path"));
    const float in_inv = num(env, spec.Get("inputInv"), "spec.inputInv");
    const float in_zp = num(env, spec.Get("inputZeroPoint"), "spec.inputZeroPoint");
    Napi::Value lv = spec.Get("layers");
    if (!lv.IsArray()) throw_type(env, "spec.layers", "an array", lv);
    Napi::Array layers = lv.As<Napi::Array>();
    std::vector<densenorm::int8::QLayerSpec> specs;
    for (uint32_t i = 0; i < layers.Length(); ++i) {
      const std::string at = "spec.layers[" + std::to_string(i) + "]";
      Napi::Value e = layers.Get(i);
      if (!e.IsObject()) throw_type(env, at, "an object", e);
      Napi::Object o = e.As<Napi::Object>();
      densenorm::int8::QLayerSpec s;
      s.in = count(env, o.Get("in"), at + ".in", 1u << 16);
      s.out = count(env, o.Get("out"), at + ".out", 1u << 24);
      s.weights = typed<int8_t>(env, o.Get("weights"), napi_int8_array, at + ".weights", "an Int8Array", s.in * s.out);
      s.mult = typed<float>(env, o.Get("mult"), napi_float32_array, at + ".mult", "a Float32Array", s.out);
      s.bias = typed<float>(env, o.Get("bias"), napi_float32_array, at + ".bias", "a Float32Array", s.out);
      s.zp_in = static_cast<int32_t>(count(env, o.Get("zeroPointIn"), at + ".zeroPointIn", 255));
      s.relu = o.Get("relu").ToBoolean().Value();
      s.inv_out = num(env, o.Get("outInv"), at + ".outInv");
      s.zp_out = num(env, o.Get("outZeroPoint"), at + ".outZeroPoint");
      for (size_t k = 0; k < s.in * s.out; ++k) {
        if (s.weights[k] < -127) throw_range(env, "Expected weights in [-127, 127] for " + at + ".weights but received -128");
      }
      specs.push_back(s);
    }
    try {
      net_ = std::make_unique<densenorm::int8::QuantizedNet>(table, in_inv, in_zp, specs);
    } catch (const std::invalid_argument& e) {
      throw_range(env, std::string("Invalid quantized net: ") + e.what());
    }
  }

  densenorm::int8::QuantizedNet* net() { return net_.get(); }
  std::mutex mu;

 private:
  Napi::Value PathName(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), densenorm::int8::path_name(net_->table().path));
  }

  struct Call {
    const float* x;
    size_t rows;
    float* out;
  };
  Call args(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const size_t rows = count(env, info[1], "rows", 1u << 30);
    Call c;
    c.rows = rows;
    c.x = typed<float>(env, info[0], napi_float32_array, "x", "a Float32Array", rows * net_->input_features());
    c.out = typed<float>(env, info[2], napi_float32_array, "out", "a Float32Array", rows * net_->output_features());
    return c;
  }

  Napi::Value Predict(const Napi::CallbackInfo& info) {
    const Call c = args(info);
    std::lock_guard<std::mutex> lock(mu);
    net_->predict(c.x, c.rows, c.out);
    return info.Env().Undefined();
  }

  Napi::Value Layer0(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const size_t rows = count(env, info[1], "rows", 1u << 30);
    const size_t ld = densenorm::int8::padded_k(net_->input_features());
    const auto* a = typed<uint8_t>(env, info[0], napi_uint8_array, "a", "a Uint8Array", rows * ld);
    if (!info[2].IsTypedArray()) throw_type(env, "out", "a Uint8Array or Float32Array", info[2]);
    // Layer 0's output width is the next layer's input (or the net's output when it is alone).
    std::lock_guard<std::mutex> lock(mu);
    if (info[2].As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
      float* o = typed<float>(env, info[2], napi_float32_array, "out", "a Float32Array", rows * net_->output_features());
      net_->layer0(a, rows, nullptr, o);
    } else {
      const size_t n = info[2].As<Napi::TypedArray>().ElementLength();
      if (rows == 0 || n % rows != 0) throw_range(env, "out: expected rows × the layer's width elements");
      uint8_t* o = typed<uint8_t>(env, info[2], napi_uint8_array, "out", "a Uint8Array", n);
      net_->layer0(a, rows, o, nullptr);
    }
    return env.Undefined();
  }

  class Worker : public Napi::AsyncWorker {
   public:
    Worker(Napi::Env env, QNetWrap* owner, Napi::Object keep, Call c)
        : Napi::AsyncWorker(env, "densenorm.int8"), deferred_(Napi::Promise::Deferred::New(env)), owner_(owner), c_(c) {
      keep.Set("owner", owner->Value());
      keep_ = Napi::Persistent(keep);
    }
    ~Worker() override { keep_.Reset(); }
    Napi::Promise promise() { return deferred_.Promise(); }
    void Execute() override {
      std::lock_guard<std::mutex> lock(owner_->mu);
      owner_->net()->predict(c_.x, c_.rows, c_.out);
    }
    void OnOK() override { deferred_.Resolve(Env().Undefined()); }
    void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

   private:
    Napi::Promise::Deferred deferred_;
    QNetWrap* owner_;
    Call c_;
    Napi::ObjectReference keep_;
  };

  Napi::Value PredictAsync(const Napi::CallbackInfo& info) {
    const Call c = args(info);
    Napi::Object keep = Napi::Object::New(info.Env());
    keep.Set("x", info[0]);
    keep.Set("out", info[2]);
    auto* w = new Worker(info.Env(), this, keep, c);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  }

  std::unique_ptr<densenorm::int8::QuantizedNet> net_;
};

}  // namespace

Napi::Value Int8Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (const char* err = densenorm::init_kernels()) throw densenorm_error(env, err, "ERR_NATIVE");
  Napi::Object o = Napi::Object::New(env);
  o.Set("path", densenorm::int8::path_name(densenorm::int8::active().path));
  o.Set("vnni", densenorm::int8::cpu_has_vnni());
  Napi::Array avail = Napi::Array::New(env);
  uint32_t n = 0;
  for (int i = 0; i < densenorm::int8::kPathCount; ++i) {
    const Path p = static_cast<Path>(i);
    if (densenorm::int8::table_for(p)) avail.Set(n++, densenorm::int8::path_name(p));
  }
  o.Set("available", avail);
  return o;
}

Napi::Function DefineQuantizedNet(Napi::Env env) { return QNetWrap::Define(env); }

}  // namespace densenorm_binding

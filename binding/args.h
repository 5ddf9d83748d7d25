// Argument conversion for the binding: re-checks only what protects memory (types, lengths).
#pragma once
#include <napi.h>

#include <cstddef>
#include <string>
#include <vector>

namespace densenorm_binding {

inline std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>();
    const char* names[] = {"Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array",
                           "Uint16Array", "Int32Array", "Uint32Array", "Float32Array",
                           "Float64Array", "BigInt64Array", "BigUint64Array"};
    int ty = static_cast<int>(t.TypedArrayType());
    std::string n = (ty >= 0 && ty < 11) ? names[ty] : "TypedArray";
    return "a " + n + "(" + std::to_string(t.ElementLength()) + ")";
  }
  if (v.IsNumber()) return std::to_string(v.As<Napi::Number>().DoubleValue());
  if (v.IsString()) return "a string";
  if (v.IsBoolean()) return "a boolean";
  if (v.IsArray()) return "an array";
  if (v.IsFunction()) return "a function";
  return "an object";
}

[[noreturn]] inline void throw_type(Napi::Env env, const std::string& name, const std::string& expected,
                                    const Napi::Value& got) {
  throw Napi::TypeError::New(env, "Expected " + expected + " for " + name + " but received " +
                                      describe(got));
}

[[noreturn]] inline void throw_range(Napi::Env env, const std::string& msg) {
  throw Napi::RangeError::New(env, msg);
}

// Arrays a NativeNet keeps pointers to. The Net re-checks them before every call, so a buffer
// detached (transferred) or resized after construction is an exception, not a dangling read.
struct Pinned {
  Napi::Reference<Napi::TypedArray> ref;
  const void* data;
  size_t length;
  std::string name;
};
// Set while a NativeNet is being constructed: f32()/f64() record every array they accept.
inline thread_local std::vector<Pinned>* pin_sink = nullptr;

inline void pin(const Napi::Value& v, const std::string& name, const void* data, size_t len) {
  if (pin_sink) pin_sink->push_back({Napi::Persistent(v.As<Napi::TypedArray>()), data, len, name});
}

// Throws when a pinned array no longer has the memory it had at construction.
inline void check_pins(Napi::Env env, const std::vector<Pinned>& pins) {
  for (const Pinned& p : pins) {
    Napi::TypedArray a = p.ref.Value();
    void* data = nullptr;
    size_t len = 0;
    napi_status st = napi_get_typedarray_info(env, a, nullptr, &len, &data, nullptr, nullptr);
    if (st != napi_ok || data != p.data || len != p.length)
      throw Napi::Error::New(env, "The array given as " + p.name +
                                      " was detached (transferred) or resized after the model was built; "
                                      "rebuild the model");
  }
}

// A Float32Array with exactly `len` elements (len == SIZE_MAX: any length); nullptr when
// optional and undefined/null.
inline float* f32(const Napi::Value& v, const std::string& name, size_t len, bool optional = false,
                  size_t* out_len = nullptr) {
  Napi::Env env = v.Env();
  if (optional && (v.IsUndefined() || v.IsNull())) return nullptr;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw_type(env, name, "a Float32Array", v);
  auto a = v.As<Napi::Float32Array>();
  if (a.ArrayBuffer().IsDetached())
    throw Napi::TypeError::New(env, "Expected an attached buffer for " + name + " but received a detached one");
  if (len != SIZE_MAX && a.ElementLength() != len)
    throw_range(env, "Expected " + std::to_string(len) + " elements for " + name + " but received " +
                         std::to_string(a.ElementLength()));
  if (out_len) *out_len = a.ElementLength();
  pin(v, name, a.Data(), a.ElementLength());
  return a.Data();
}

inline double* f64(const Napi::Value& v, const std::string& name, size_t len) {
  Napi::Env env = v.Env();
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw_type(env, name, "a Float64Array", v);
  auto a = v.As<Napi::Float64Array>();
  if (a.ElementLength() != len)
    throw_range(env, "Expected " + std::to_string(len) + " elements for " + name + " but received " +
                         std::to_string(a.ElementLength()));
  if (a.ArrayBuffer().IsDetached())
    throw Napi::TypeError::New(env, "Expected an attached buffer for " + name + " but received a detached one");
  pin(v, name, a.Data(), a.ElementLength());
  return a.Data();
}

inline double num(const Napi::Value& v, const std::string& name) {
  if (!v.IsNumber()) throw_type(v.Env(), name, "a number", v);
  return v.As<Napi::Number>().DoubleValue();
}

inline size_t count(const Napi::Value& v, const std::string& name, size_t max = (size_t(1) << 40)) {
  double d = num(v, name);
  if (!(d >= 0) || d != static_cast<double>(static_cast<size_t>(d)) || d > static_cast<double>(max))
    throw_range(v.Env(), "Expected a non-negative integer for " + name + " but received " + describe(v));
  return static_cast<size_t>(d);
}

inline bool flag(const Napi::Value& v, const std::string& name) {
  if (v.IsUndefined()) return false;
  if (!v.IsBoolean()) throw_type(v.Env(), name, "a boolean", v);
  return v.As<Napi::Boolean>().Value();
}

// checked a*b for sizes
inline size_t mul(Napi::Env env, size_t a, size_t b, const std::string& what) {
  if (a != 0 && b > SIZE_MAX / 4 / a) throw_range(env, "Expected a size that fits in memory for " + what);
  return a * b;
}

}  // namespace densenorm_binding

#include "errors.h"

namespace densenorm_binding {
namespace {

struct AddonData {
  Napi::FunctionReference error_class;
};

AddonData* data(Napi::Env env) {
  AddonData* d = env.GetInstanceData<AddonData>();
  if (!d) {
    d = new AddonData();
    env.SetInstanceData(d);  // deleted with the environment
  }
  return d;
}

}  // namespace

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction())
    throw Napi::TypeError::New(env, "Expected a class (function) for errorClass");
  data(env)->error_class = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

Napi::Error densenorm_error(Napi::Env env, const std::string& message, const char* code) {
  AddonData* d = data(env);
  if (d->error_class.IsEmpty()) {
    Napi::Error e = Napi::Error::New(env, message);
    e.Set("code", code);
    return e;
  }
  Napi::Object o = d->error_class.New({Napi::String::New(env, message), Napi::String::New(env, code)});
  return Napi::Error(env, o);
}

Napi::Error status_error(Napi::Env env, const densenorm::Status& st) {
  using densenorm::Code;
  switch (st.code) {
    case Code::kInvalidArgument: return Napi::RangeError::New(env, st.message);
    case Code::kType: return Napi::TypeError::New(env, st.message);
    case Code::kTraining: return densenorm_error(env, st.message, "ERR_TRAINING");
    case Code::kOk:
    case Code::kInternal: break;
  }
  return densenorm_error(env, st.message, "ERR_NATIVE");
}

}  // namespace densenorm_binding

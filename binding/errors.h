// Native failures reach JavaScript as the library's own classes: a Status's code picks RangeError,
// TypeError or the DensenormError class the façade hands over at load (setErrorClass).
#pragma once
#include <napi.h>

#include <string>

#include "densenorm/status.h"

namespace densenorm_binding {

// setErrorClass(DensenormError): (message, code) constructor used for non-argument failures.
Napi::Value SetErrorClass(const Napi::CallbackInfo& info);

// The JS error for a failed Status (or for message + code when there is no Status).
Napi::Error status_error(Napi::Env env, const densenorm::Status& st);
Napi::Error densenorm_error(Napi::Env env, const std::string& message, const char* code);

[[noreturn]] inline void throw_status(Napi::Env env, const densenorm::Status& st) {
  throw status_error(env, st);
}

}  // namespace densenorm_binding

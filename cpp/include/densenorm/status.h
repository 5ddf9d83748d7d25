// What every core entry returns: the core never throws, so the binding maps a code to a JS class.
#pragma once
#include <string>
#include <utility>

namespace densenorm {

enum class Code : int {
  kOk = 0,
  kInvalidArgument,  // a value out of range or shapes that do not line up (JS RangeError)
  kType,             // an argument of the wrong kind (JS TypeError)
  kTraining,         // a step failed on valid input, e.g. the loss is not finite
  kInternal,         // the CPU, the kernels or memory failed
};

struct Status {
  Code code = Code::kOk;
  std::string message;
  bool ok() const { return code == Code::kOk; }
  static Status Ok() { return {}; }
  static Status Invalid(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status Training(std::string m) { return {Code::kTraining, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
};

}  // namespace densenorm

// Net's dtype policy (Net::set_precision): which kernel table its blocks run on.
#include <string>

#include "densenorm/bf16.h"
#include "densenorm/net.h"

namespace densenorm {

Status Net::set_precision(const std::string& name) {
  if (name == "float32") {
    bf16_ = false;
  } else if (name == "mixed_bfloat16") {
    if (const char* err = bf16_setting_error()) return Status::Invalid(err);
    bf16_ = true;
  } else {
    return Status::Invalid("Expected precision to be one of 'float32', 'mixed_bfloat16' but received '" +
                           name.substr(0, 64) + "'");
  }
  weights_changed();  // the packed inference kernels are in the other table's layout
  return Status::Ok();
}

const KernelTable& Net::gemm_kernels() const { return bf16_ ? kernels_bf16() : kernels(); }

}  // namespace densenorm

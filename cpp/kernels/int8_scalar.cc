// int8 scalar table (baseline flags): the portable path and the oracle every vector path equals.
#define DENSENORM_KERNEL_NS scalar
#include "int8_impl.h"

namespace densenorm {
namespace int8 {
const Table* int8_table_scalar() {
  static const Table t = scalar::make_table<scalar::ScalarQ>(Path::scalar);
  return &t;
}
}  // namespace int8
}  // namespace densenorm

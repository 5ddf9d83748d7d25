// int8 AVX512-VNNI table (compiled with -mavx512vnni; called only when CPUID.7.0:ECX[11] is set):
// vpdpbusd, 64 u8·s8 products per instruction into int32.
#if !defined(__AVX512VNNI__)
#error "int8_vnni.cc must be compiled with -mavx512vnni"
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define DENSENORM_KERNEL_NS avx512vnni
#include "int8_impl.h"

namespace densenorm {
namespace int8 {
const Table* int8_table_vnni() {
  static const Table t = avx512vnni::make_table<avx512vnni::Vnni512>(Path::vnni);
  return &t;
}
}  // namespace int8
}  // namespace densenorm

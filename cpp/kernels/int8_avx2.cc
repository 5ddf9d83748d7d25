// int8 AVX2 table: the s16 widening route (vpmaddwd), exact with full 8-bit activations.
#if !defined(__AVX2__)
#error "int8_avx2.cc must be compiled with -mavx2"
#endif
#define DENSENORM_KERNEL_NS avx2
#include "int8_impl.h"

namespace densenorm {
namespace int8 {
const Table* int8_table_avx2() {
  static const Table t = avx2::make_table<avx2::Avx2Wide>(Path::avx2);
  return &t;
}
}  // namespace int8
}  // namespace densenorm

// int8 AVX-512 table without VNNI: the s16 widening route on zmm (vpmaddwd).
#if !defined(__AVX512F__) || !defined(__AVX512BW__)
#error "int8_avx512.cc must be compiled with -mavx512f -mavx512bw"
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define DENSENORM_KERNEL_NS avx512
#include "int8_impl.h"

namespace densenorm {
namespace int8 {
const Table* int8_table_avx512() {
  static const Table t = avx512::make_table<avx512::Avx512Wide>(Path::avx512);
  return &t;
}
}  // namespace int8
}  // namespace densenorm

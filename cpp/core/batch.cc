#include "densenorm/batch.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace densenorm {

size_t first_non_finite(const float* x, size_t n) {
  // Blocks without an early exit inside, so the compiler vectorizes the test: a float is not
  // finite exactly when its exponent bits are all ones.
  constexpr size_t kBlock = 1024;
  for (size_t b = 0; b < n; b += kBlock) {
    const size_t e = std::min(n, b + kBlock);
    uint32_t bad = 0;
    for (size_t i = b; i < e; ++i) {
      uint32_t u;
      std::memcpy(&u, x + i, sizeof u);
      bad |= static_cast<uint32_t>((u & 0x7f800000u) == 0x7f800000u);
    }
    if (bad)
      for (size_t i = b; i < e; ++i)
        if (!std::isfinite(x[i])) return i;
  }
  return n;
}

void gather_rows(const float* src, size_t row_len, const int32_t* rows, size_t n, float* dst) {
  for (size_t i = 0; i < n; ++i)
    std::memcpy(dst + i * row_len, src + static_cast<size_t>(rows[i]) * row_len,
                row_len * sizeof(float));
}

}  // namespace densenorm

#include "densenorm/batch.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "densenorm/net.h"

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

Status train_batches(Net& net, const TrainingRows& rows, const BatchPlan& plan, double iteration0,
                     const int32_t* stop, double* out, size_t* done,
                     const std::function<void(size_t)>& on_batch) {
  *done = 0;
  size_t most = 0;
  for (size_t b = 0; b < plan.batches; ++b) most = std::max(most, static_cast<size_t>(plan.bounds[2 * b + 1]));
  std::vector<float> bx(most * rows.in), by(most * rows.y_per_row);
  for (size_t b = 0; b < plan.batches; ++b) {
    if (__atomic_load_n(stop, __ATOMIC_RELAXED) != 0) break;
    const size_t start = static_cast<size_t>(plan.bounds[2 * b]);
    const size_t n = static_cast<size_t>(plan.bounds[2 * b + 1]);
    gather_rows(rows.x, rows.in, plan.order + start, n, bx.data());
    gather_rows(rows.y, rows.y_per_row, plan.order + start, n, by.data());
    StepResult r;
    Status st = net.train_step(bx.data(), by.data(), n, iteration0 + static_cast<double>(b), &r);
    if (!st.ok()) return st;
    out[3 * b] = r.loss;
    out[3 * b + 1] = r.correct;
    out[3 * b + 2] = r.count;
    ++*done;
    if (on_batch) on_batch(*done);
  }
  return Status::Ok();
}

}  // namespace densenorm

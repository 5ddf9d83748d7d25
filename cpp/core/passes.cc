#include "core/passes.h"

#include <cmath>
#include <cstring>

namespace densenorm {

void softmax_rows(const float* x, size_t rows, size_t cols, float* y) {
  for (size_t i = 0; i < rows; ++i) {
    const float* xr = x + i * cols;
    float* yr = y + i * cols;
    float m = xr[0];
    for (size_t j = 1; j < cols; ++j) m = std::max(m, xr[j]);
    double s = 0;
    for (size_t j = 0; j < cols; ++j) {
      float e = std::exp(xr[j] - m);
      yr[j] = e;
      s += e;
    }
    const float inv = static_cast<float>(1.0 / s);
    for (size_t j = 0; j < cols; ++j) yr[j] *= inv;
  }
}

void softmax_backward_rows(const float* dy, const float* y, size_t rows, size_t cols, float* dx) {
  for (size_t i = 0; i < rows; ++i) {
    const float* dyr = dy + i * cols;
    const float* yr = y + i * cols;
    float* dxr = dx + i * cols;
    double dot = 0;
    for (size_t j = 0; j < cols; ++j) dot += static_cast<double>(dyr[j]) * yr[j];
    const float d = static_cast<float>(dot);
    for (size_t j = 0; j < cols; ++j) dxr[j] = yr[j] * (dyr[j] - d);
  }
}

void copy_rows(const float* src, float* dst, size_t count) {
  if (src != dst) std::memcpy(dst, src, count * sizeof(float));
}

// The chunks are added in order in double, mean = shift + S1/B, var = S2/B − (S1/B)². A column
// whose mean is more than 4 standard deviations from its shift (the float chunk sums would lose
// its variance to cancellation) gets the exact two-pass col_mean_var instead; accepted, the
// relative error of var is about 17·24·2⁻²⁴ (< 3e-5).
void bn_stats_cols(const KernelTable& K, const float* part, const float* shift, const float* A,
                   size_t rows, size_t cols, size_t j0, size_t j1, float* mean, float* var) {
  const size_t chunks = (rows + kStatRows - 1) / kStatRows;
  const double inv = 1.0 / static_cast<double>(rows);
  for (size_t j = j0; j < j1; ++j) {
    double s1 = 0, s2 = 0;
    for (size_t q = 0; q < chunks; ++q) {
      s1 += part[q * 2 * cols + j];
      s2 += part[q * 2 * cols + cols + j];
    }
    const double m = s1 * inv, v = s2 * inv - m * m;
    if (m * m <= 16.0 * v) {  // false also for NaN, and for v < 0 from rounding
      mean[j] = static_cast<float>(static_cast<double>(shift[j]) + m);
      var[j] = static_cast<float>(v);
    } else {
      K.col_mean_var(A + j, rows, 1, cols, mean + j, var + j);
    }
  }
}

namespace threaded {

void scale_shift_act(const KernelTable& K, const float* X, size_t rows, size_t cols, size_t ldx,
                     const float* scale, const float* shift, Act act, float* Y, size_t ldy) {
  for_ranges(rows, rows * cols, 1, [&](size_t b, size_t e) {
    K.scale_shift_act(X + b * ldx, e - b, cols, ldx, scale, shift, act, Y + b * ldy, ldy);
  });
}

void act_backward(const KernelTable& K, const float* dY, const float* Y, size_t n, Act act, float* dX) {
  for_ranges(n, n, kFlatAlign, [&](size_t b, size_t e) { K.act_backward(dY + b, Y + b, e - b, act, dX + b); });
}

void col_mean_var(const KernelTable& K, const float* X, size_t rows, size_t cols, size_t ld,
                  float* mean, float* var) {
  for_ranges(cols, rows * cols, kColAlign, [&](size_t b, size_t e) {
    K.col_mean_var(X + b, rows, e - b, ld, mean + b, var + b);
  });
}

void col_sum(const KernelTable& K, const float* X, size_t rows, size_t cols, size_t ld, float* out) {
  for_ranges(cols, rows * cols, kColAlign, [&](size_t b, size_t e) { K.col_sum(X + b, rows, e - b, ld, out + b); });
}

void softmax_rows(const float* x, size_t rows, size_t cols, float* y) {
  for_ranges(rows, rows * cols, 1, [&](size_t b, size_t e) {
    densenorm::softmax_rows(x + b * cols, e - b, cols, y + b * cols);
  });
}

void softmax_backward_rows(const float* dy, const float* y, size_t rows, size_t cols, float* dx) {
  for_ranges(rows, rows * cols, 1, [&](size_t b, size_t e) {
    densenorm::softmax_backward_rows(dy + b * cols, y + b * cols, e - b, cols, dx + b * cols);
  });
}

void apply_act(const KernelTable& K, const float* X, size_t rows, size_t cols, Act act, float* Y) {
  if (act == Act::softmax) {
    softmax_rows(X, rows, cols, Y);
  } else if (act != Act::linear) {
    scale_shift_act(K, X, rows, cols, cols, nullptr, nullptr, act, Y, cols);
  } else {
    copy_rows(X, Y, rows * cols);
  }
}

void act_grad(const KernelTable& K, const float* dY, const float* Y, size_t rows, size_t cols,
              Act act, float* dX) {
  if (act == Act::softmax) {
    softmax_backward_rows(dY, Y, rows, cols, dX);
  } else if (act != Act::linear) {
    act_backward(K, dY, Y, rows * cols, act, dX);
  } else {
    copy_rows(dY, dX, rows * cols);
  }
}

// Each chunk writes its dU rows and its partial sums to part; the partials are then added in
// chunk order, so the sums are the same for every thread count.
void bn_reduce(const KernelTable& K, float* part, const float* dY, const float* Y, const float* Z,
               size_t rows, size_t cols, Act act, const float* mean, const float* invstd,
               float* dU, float* sum_du, float* sum_du_xhat) {
  if (rows * cols < kParMin || rows <= kRowChunk) {
    K.bn_backward_reduce(dY, Y, Z, rows, cols, act, mean, invstd, dU, sum_du, sum_du_xhat);
    return;
  }
  const size_t chunks = (rows + kRowChunk - 1) / kRowChunk;
  parallel_for(chunks, [&](size_t c) {
    const size_t r0 = c * kRowChunk, o = r0 * cols;
    const size_t r = std::min(kRowChunk, rows - r0);
    float* p = part + c * 2 * cols;
    K.bn_backward_reduce(dY + o, Y + o, Z + o, r, cols, act, mean, invstd, dU + o, p, p + cols);
  });
  for_ranges(cols, chunks * cols * 2, kColAlign, [&](size_t b, size_t e) {
    for (size_t j = b; j < e; ++j) {
      float s1 = part[j], s2 = part[cols + j];
      for (size_t c = 1; c < chunks; ++c) {
        s1 += part[c * 2 * cols + j];
        s2 += part[c * 2 * cols + cols + j];
      }
      sum_du[j] = s1;
      sum_du_xhat[j] = s2;
    }
  });
}

// Bit-identical to one call: the kernel scales the sums by 1/rows, so a kRowChunk-row call (a
// power of two: exact scaling) gets the sums pre-scaled as fl(sum·(1/B))·kRowChunk, and a
// leftover row (rows = 1) gets fl(sum·(1/B)).
void bn_dx(const KernelTable& K, float* prescaled, const float* dU, const float* Z, size_t rows,
           size_t cols, const float* mean, const float* invstd, const float* gamma,
           const float* sum_du, const float* sum_du_xhat, float* dZ) {
  if (rows * cols < kParMin || rows <= kRowChunk || num_threads() <= 1) {
    K.bn_backward_dx(dU, Z, rows, cols, mean, invstd, gamma, sum_du, sum_du_xhat, dZ);
    return;
  }
  float* b1 = prescaled;
  float* b2 = b1 + cols;
  float* c1 = b2 + cols;
  float* c2 = c1 + cols;
  const float inv = 1.0f / static_cast<float>(rows);
  const float chunk = static_cast<float>(kRowChunk);
  constexpr float kBig = 3.0e38f / static_cast<float>(kRowChunk);
  bool ok = true;
  for (size_t j = 0; j < cols; ++j) {
    b1[j] = sum_du[j] * inv;
    b2[j] = sum_du_xhat[j] * inv;
    c1[j] = b1[j] * chunk;
    c2[j] = b2[j] * chunk;
    ok = ok && std::fabs(b1[j]) < kBig && std::fabs(b2[j]) < kBig;
  }
  if (!ok) {  // pre-scaling could overflow: one call
    K.bn_backward_dx(dU, Z, rows, cols, mean, invstd, gamma, sum_du, sum_du_xhat, dZ);
    return;
  }
  for_ranges(rows, rows * cols, kRowChunk, [&](size_t b, size_t e) {
    size_t r = b;
    for (; r + kRowChunk <= e; r += kRowChunk) {
      const size_t o = r * cols;
      K.bn_backward_dx(dU + o, Z + o, kRowChunk, cols, mean, invstd, gamma, c1, c2, dZ + o);
    }
    for (; r < e; ++r) {
      const size_t o = r * cols;
      K.bn_backward_dx(dU + o, Z + o, 1, cols, mean, invstd, gamma, b1, b2, dZ + o);
    }
  });
}

}  // namespace threaded
}  // namespace densenorm

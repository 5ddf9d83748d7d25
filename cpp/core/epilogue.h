// An elementwise op after a block's post-activation (dropout, ...): run on the block's output
// while it is still in cache, and undone on the incoming gradient first thing in the backward.
// It runs only where active(mode); elsewhere the block's output passes through untouched.
#pragma once
#include <cstddef>
#include <cstdint>

#include "densenorm/model.h"

namespace densenorm {

class Epilogue {
 public:
  virtual ~Epilogue() = default;
  virtual bool active(Mode mode) const = 0;
  // Z = f(Y) for rows [r0, r1) of [rows × n] matrices (row-major, same layout); `step` keys any
  // randomness so the backward of the same step sees the same draw.
  virtual void forward(const float* Y, float* Z, size_t n, size_t r0, size_t r1,
                       uint64_t step) const = 0;
  // d = d ⊙ f'(·) in place over rows [r0, r1).
  virtual void backward(float* d, size_t n, size_t r0, size_t r1, uint64_t step) const = 0;
};

}  // namespace densenorm

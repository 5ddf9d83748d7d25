// The façade's per-batch work, done natively (in JavaScript it costs more than a small model's
// whole training step): the finiteness check, the gather of shuffled rows, an epoch's loop.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "densenorm/model.h"
#include "densenorm/status.h"

namespace densenorm {

class Net;

// Index of the first NaN or ±Infinity in x[0..n), or n when every value is finite.
size_t first_non_finite(const float* x, size_t n);

// dst[i·row_len …] = src[rows[i]·row_len …] for i in [0, n): the rows of a shuffled batch.
// rows[i] must be < the number of rows of src (the caller checks).
void gather_rows(const float* src, size_t row_len, const int32_t* rows, size_t n, float* dst);

// The rows one epoch trains on: x [rows × in], y [rows × y_per_row] (targets or class ids).
struct TrainingRows {
  const float* x = nullptr;
  size_t in = 0;
  const float* y = nullptr;
  size_t y_per_row = 0;
};

// An epoch's batches: batch b is rows order[bounds[2b] .. bounds[2b] + bounds[2b + 1]).
struct BatchPlan {
  const int32_t* order = nullptr;
  const int32_t* bounds = nullptr;
  size_t batches = 0;
};

// Runs plan's batches as training steps at iterations iteration0, iteration0 + 1, …, writing
// loss, correct and count of batch b to out[3b ..]. Stops before a batch once *stop != 0 (written
// by another thread between batches) and at a failing step, whose Status it returns; *done
// counts the batches that ran. The failing batch changed nothing. Indices must be in range (the
// caller checks). on_batch, when set, is called with *done after each batch (on this thread).
Status train_batches(Net& net, const TrainingRows& rows, const BatchPlan& plan, double iteration0,
                     const int32_t* stop, double* out, size_t* done,
                     const std::function<void(size_t)>& on_batch = nullptr);

}  // namespace densenorm

// Per-batch work of the façade's training loop, done natively: in JS these cost more than a
// small model's whole training step (W1: the finiteness check of a 60×784 batch 60-130 µs, the
// gather of its shuffled rows by typed-array views ~130 µs; the step itself ~350 µs).
#pragma once
#include <cstddef>
#include <cstdint>

namespace densenorm {

// Index of the first NaN or ±Infinity in x[0..n), or n when every value is finite.
size_t first_non_finite(const float* x, size_t n);

// dst[i·row_len …] = src[rows[i]·row_len …] for i in [0, n): the rows of a shuffled batch.
// rows[i] must be < the number of rows of src (the caller checks).
void gather_rows(const float* src, size_t row_len, const int32_t* rows, size_t n, float* dst);

}  // namespace densenorm

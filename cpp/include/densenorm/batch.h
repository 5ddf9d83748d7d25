// Per-batch work of the façade's training loop, done natively: in JS the finiteness check and
// the gather of shuffled rows cost about as much as a small model's whole training step.
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

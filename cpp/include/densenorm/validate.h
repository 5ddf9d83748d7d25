// Input checks the façade needs on every call, done natively (a JS loop over W1's 60×784 batch
// costs 60-130 µs, a sixth of the training step).
#pragma once
#include <cstddef>

namespace densenorm {

// Index of the first NaN or ±Infinity in x[0..n), or n when every value is finite.
size_t first_non_finite(const float* x, size_t n);

}  // namespace densenorm

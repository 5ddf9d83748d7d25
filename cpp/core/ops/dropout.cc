// dropout (inverted): in training each value is kept with probability 1 − rate and scaled by
// 1/(1 − rate), else zeroed; identity otherwise. The keep decision is a hash of (seed, step, row,
// column), so a step's mask is the same for any thread count and split, and the backward
// recomputes it instead of storing it. Runs as the block's epilogue.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "core/epilogue.h"
#include "core/ops/op.h"

#if defined(__has_attribute)
#if __has_attribute(target_clones)
#define DN_HAS_TARGET_CLONES 1
#endif
#endif
// target_clones needs ifunc: ELF with glibc (not macOS's Mach-O, Windows, nor musl's loader).
#if defined(__x86_64__) && defined(DN_HAS_TARGET_CLONES) && defined(__ELF__) && defined(__GLIBC__)
// Integer hashing vectorizes only with 32-bit lane multiplies (SSE4.1 and up); the result is
// the same bits on every clone.
#define DN_DROPOUT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DN_DROPOUT_CLONES
#endif

namespace densenorm {
namespace {

inline uint32_t mix(uint32_t x) {  // a 32-bit finalizer with low bias (lowbias32)
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

constexpr uint32_t kGolden = 0x9e3779b9U;

// Z = Y · scale where the hash of the column clears the threshold, else +0 (Z may be Y): the
// forward on the output and the backward on the gradient are the same map. Branch-free so it
// vectorizes.
DN_DROPOUT_CLONES
void mask_row(const float* Y, float* Z, size_t n, uint32_t key, uint32_t threshold, float scale) {
  for (size_t j = 0; j < n; ++j) {
    const uint32_t h = mix(key ^ (static_cast<uint32_t>(j) * kGolden));
    const uint32_t keep = 0U - static_cast<uint32_t>(h >= threshold);
    const float v = Y[j] * scale;
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    bits &= keep;
    std::memcpy(Z + j, &bits, sizeof bits);
  }
}

// The same with one draw for the whole row (noiseShape [batch, 1]).
void mask_row_shared(const float* Y, float* Z, size_t n, uint32_t key, uint32_t threshold,
                     float scale) {
  const bool keep = mix(key) >= threshold;
  for (size_t j = 0; j < n; ++j) Z[j] = keep ? Y[j] * scale : 0.0f;
}

class Dropout final : public Epilogue {
 public:
  Dropout(double rate, uint64_t seed, bool same_rows, bool same_columns)
      : rate_(rate),
        threshold_(static_cast<uint32_t>(std::min(rate * 4294967296.0, 4294967295.0))),
        scale_(static_cast<float>(1.0 / (1.0 - rate))),
        seed_(seed),
        same_rows_(same_rows),
        same_columns_(same_columns) {}

  bool active(Mode mode) const override { return mode == Mode::kTraining && rate_ > 0; }

  void forward(const float* Y, float* Z, size_t n, size_t r0, size_t r1,
               uint64_t step) const override {
    for (size_t r = r0; r < r1; ++r) {
      if (same_columns_) mask_row_shared(Y + r * n, Z + r * n, n, row_key(step, r), threshold_, scale_);
      else mask_row(Y + r * n, Z + r * n, n, row_key(step, r), threshold_, scale_);
    }
  }

  void backward(float* d, size_t n, size_t r0, size_t r1, uint64_t step) const override {
    forward(d, d, n, r0, r1, step);  // the gradient passes where the value did, scaled the same
  }

 private:
  uint32_t row_key(uint64_t step, size_t row) const {
    uint32_t h = mix(static_cast<uint32_t>(seed_) ^ kGolden);
    h = mix(h ^ static_cast<uint32_t>(seed_ >> 32));
    h = mix(h ^ static_cast<uint32_t>(step));
    h = mix(h ^ static_cast<uint32_t>(step >> 32));
    return mix(h + (same_rows_ ? 0U : static_cast<uint32_t>(row) * kGolden));
  }

  double rate_;
  uint32_t threshold_;  // dropped where the hash is below it: P = threshold / 2^32 ≈ rate
  float scale_;
  uint64_t seed_;
  bool same_rows_, same_columns_;  // noiseShape [1, n] / [batch, 1]: one draw shared
};

unsigned parts(const OpSpec&) { return 1u << kEpiloguePart; }

Status apply(const OpSpec& op, int, BlockSpec& b) {
  const double rate = op.number("rate", -1);
  if (!(rate >= 0 && rate < 1))
    return Status::Invalid("Expected rate in [0, 1) but received " + std::to_string(rate));
  const double seed = op.number("seed", 0);
  if (!(seed >= 0 && seed <= 9007199254740991.0 && std::floor(seed) == seed))
    return Status::Invalid("Expected seed to be an integer from 0 to 2^53 - 1 but received " + std::to_string(seed));
  b.epilogue = std::make_shared<Dropout>(rate, static_cast<uint64_t>(seed),
                                         op.number("sameRows", 0) != 0,
                                         op.number("sameColumns", 0) != 0);
  return Status::Ok();
}

const OpDef kDropout{"dropout", parts, nullptr, apply};

}  // namespace
DENSENORM_OP(kDropout);
}  // namespace densenorm

// A chain of int8 Dense layers (densenorm/int8.h does the math): float input quantized once to
// u8, each hidden layer's epilogue writes the next layer's u8 input, the last one writes fp32.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "densenorm/int8.h"

namespace densenorm {
namespace int8 {

struct QLayerSpec {
  size_t in = 0, out = 0;
  const int8_t* weights = nullptr;  // [in × out] row-major, values in [-127, 127]
  const float* mult = nullptr;      // [out]
  const float* bias = nullptr;      // [out]
  int32_t zp_in = 0;                // the input's zero point (0..255)
  bool relu = false;
  float inv_out = 1.0f, zp_out = 0.0f;  // hidden layers: the next input's 1/scale and zero point
};

class QuantizedNet {
 public:
  // Copies and packs the weights; throws std::invalid_argument on inconsistent sizes.
  QuantizedNet(const Table& t, float in_inv, float in_zp, const std::vector<QLayerSpec>& layers);
  size_t input_features() const { return layers_.front().in; }
  size_t output_features() const { return layers_.back().out; }
  const Table& table() const { return *t_; }
  // out[rows × output_features()] from x[rows × input_features()]. Not reentrant (one workspace).
  void predict(const float* x, size_t rows, float* out);
  // Layer 0 alone on u8 input a[rows × padded_k(in)] (kernel tests and benches); out_f32 when
  // the layer is the last, else out_u8 [rows × out].
  void layer0(const uint8_t* a, size_t rows, uint8_t* out_u8, float* out_f32);

 private:
  struct Layer {
    size_t in, out, ldin;
    std::vector<uint8_t> packed;
    std::vector<int32_t> comp;
    std::vector<float> mult, bias;
    bool relu;
    float inv_out, zp_out;
  };
  void run(const Layer& l, const uint8_t* a, size_t rows, uint8_t* out_u8, size_t ldo, float* out_f32);
  const Table* t_;
  float in_inv_, in_zp_;
  std::vector<Layer> layers_;
  std::vector<uint8_t> buf_[2];
};

}  // namespace int8
}  // namespace densenorm

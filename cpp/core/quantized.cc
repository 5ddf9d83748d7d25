// QuantizedNet (densenorm/quantized.h): packing, zero-point compensation and the layer chain.
#include "densenorm/quantized.h"

#include <stdexcept>

namespace densenorm {
namespace int8 {

namespace {
size_t round64(size_t n) { return (n + 63) / 64 * 64; }
}  // namespace

QuantizedNet::QuantizedNet(const Table& t, float in_inv, float in_zp, const std::vector<QLayerSpec>& specs)
    : t_(&t), in_inv_(in_inv), in_zp_(in_zp) {
  if (specs.empty()) throw std::invalid_argument("a quantized net needs at least one layer");
  for (size_t li = 0; li < specs.size(); ++li) {
    const QLayerSpec& s = specs[li];
    if (s.in == 0 || s.out == 0 || !s.weights || !s.mult || !s.bias) throw std::invalid_argument("empty quantized layer");
    if (li > 0 && s.in != specs[li - 1].out) throw std::invalid_argument("quantized layer sizes do not chain");
    if (s.zp_in < 0 || s.zp_in > 255) throw std::invalid_argument("zero point outside 0..255");
    Layer l;
    l.in = s.in;
    l.out = s.out;
    l.ldin = padded_k(s.in);
    l.packed.resize(t.packed_bytes(s.in, s.out) + 64);
    t.pack(s.weights, s.in, s.out, l.packed.data());
    const size_t np = round64(s.out);
    l.comp.assign(np, 0);
    l.mult.assign(np, 0.0f);
    l.bias.assign(np, 0.0f);
    for (size_t n = 0; n < s.out; ++n) {
      int64_t sum = 0;
      for (size_t k = 0; k < s.in; ++k) sum += s.weights[k * s.out + n];
      l.comp[n] = static_cast<int32_t>(sum * s.zp_in);
      l.mult[n] = s.mult[n];
      l.bias[n] = s.bias[n];
    }
    l.relu = s.relu;
    l.inv_out = s.inv_out;
    l.zp_out = s.zp_out;
    layers_.push_back(std::move(l));
  }
}

void QuantizedNet::run(const Layer& l, const uint8_t* a, size_t rows, uint8_t* out_u8, size_t ldo, float* out_f32) {
  QGemm g;
  g.M = rows;
  g.N = l.out;
  g.K = l.in;
  g.A = a;
  g.lda = l.ldin;
  g.Bp = l.packed.data();
  g.comp = l.comp.data();
  g.mult = l.mult.data();
  g.bias = l.bias.data();
  g.relu = l.relu;
  g.inv = l.inv_out;
  g.zp = l.zp_out;
  g.out_u8 = out_u8;
  g.out_f32 = out_f32;
  g.ldo = ldo;
  qgemm(*t_, g);
}

void QuantizedNet::predict(const float* x, size_t rows, float* out) {
  if (rows == 0) return;
  size_t widest = 0;
  for (const Layer& l : layers_) widest = l.ldin > widest ? l.ldin : widest;
  for (auto& b : buf_) {
    if (b.size() < rows * widest) b.assign(rows * widest, 0);
  }
  const Layer& first = layers_.front();
  uint8_t* a = buf_[0].data();
  for (size_t i = 0; i < rows; ++i) {
    t_->quantize(x + i * first.in, first.in, in_inv_, in_zp_, a + i * first.ldin);
    for (size_t k = first.in; k < first.ldin; ++k) a[i * first.ldin + k] = 0;
  }
  for (size_t li = 0; li < layers_.size(); ++li) {
    const Layer& l = layers_[li];
    if (li + 1 == layers_.size()) {
      run(l, a, rows, nullptr, l.out, out);
    } else {
      const size_t ldo = layers_[li + 1].ldin;
      uint8_t* o = buf_[(li + 1) & 1].data();
      // The K padding of the next input must be zero (the packed weights are zero there too,
      // but 0 · garbage is still read).
      if (ldo != l.out)
        for (size_t i = 0; i < rows; ++i)
          for (size_t k = l.out; k < ldo; ++k) o[i * ldo + k] = 0;
      run(l, a, rows, o, ldo, nullptr);
      a = o;
    }
  }
}

void QuantizedNet::layer0(const uint8_t* a, size_t rows, uint8_t* out_u8, float* out_f32) {
  const Layer& l = layers_.front();
  run(l, a, rows, out_u8, l.out, out_f32);
}

}  // namespace int8
}  // namespace densenorm

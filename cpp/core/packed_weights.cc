#include "core/packed_weights.h"

#include "densenorm/kernels.h"

namespace densenorm {

std::shared_ptr<std::vector<float>> PackedWeights::get(size_t k, const float* kernel, size_t in,
                                                       size_t out, const float** data,
                                                       const KernelTable& K) {
  std::lock_guard<std::mutex> lk(mu_);
  if (k >= slots_.size()) slots_.resize(k + 1);
  Slot& p = slots_[k];
  const uint64_t v = version_.load(std::memory_order_acquire);
  if (!p.buf || p.version != v || p.table != &K) {
    // A new buffer each time (not in place): a predict on another thread may still hold the old.
    auto buf = std::make_shared<std::vector<float>>(K.gemm_packed_b_size(in, out) + 16);
    uintptr_t a = reinterpret_cast<uintptr_t>(buf->data());
    a = (a + 63) & ~static_cast<uintptr_t>(63);
    float* d = reinterpret_cast<float*>(a);
    K.gemm_pack_b(false, kernel, out, in, out, d);
    p.buf = std::move(buf);
    p.data = d;
    p.version = v;
    p.table = &K;
  }
  *data = p.data;
  return p.buf;
}

}  // namespace densenorm

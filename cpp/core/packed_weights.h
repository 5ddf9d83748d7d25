// Packed copies of the Dense kernels for inference.
//
// Every GEMM packs op(B) into the microkernel's panels as it goes. In training the kernel changes
// every step, so that is one copy per step; in inference it is the same work on every call. So
// inference keeps one packed copy per kernel (KernelTable::gemm_pack_b), repacked when the
// weights version moved: the optimizer bumps it, and so does whoever else writes a kernel
// (Net::weights_changed). Few-row products stream B on their own path and never pack. Same bits
// as packing per call.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace densenorm {

struct KernelTable;

class PackedWeights {
 public:
  static constexpr size_t kMinRows = 8;  // fewer rows stream B unpacked

  explicit PackedWeights(size_t slots = 0) : slots_(slots) {}

  // A snapshot of slot k's packed copy of kernel [in × out] (packing it first if the weights
  // changed); the returned buffer stays alive while the caller uses *data, whatever other
  // threads do meanwhile.
  // table: whose gemm_pack_b layout (kernels() or densenorm/bf16.h's); a slot packed for
  // another table is repacked.
  std::shared_ptr<std::vector<float>> get(size_t k, const float* kernel, size_t in, size_t out,
                                          const float** data, const KernelTable& table);
  void changed() { version_.fetch_add(1, std::memory_order_acq_rel); }

 private:
  struct Slot {
    std::shared_ptr<std::vector<float>> buf;  // over-allocated for 64-byte alignment
    const float* data = nullptr;              // aligned, inside buf
    uint64_t version = ~uint64_t{0};
    const KernelTable* table = nullptr;  // whose layout buf holds
  };
  std::vector<Slot> slots_;
  std::mutex mu_;
  std::atomic<uint64_t> version_{0};
};

}  // namespace densenorm

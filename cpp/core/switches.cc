#include "core/switches.h"

#include <atomic>

#include "densenorm/net.h"
#include "densenorm/settings.h"

namespace densenorm {
namespace {

std::atomic<int> g_step_tune{-1};         // -1: DENSENORM_STEP_TUNE decides
std::atomic<int> g_packed_inference{-1};  // -1: DENSENORM_PACKED_INFERENCE decides

int tri_state(int on) { return on < 0 ? -1 : on ? 1 : 0; }

}  // namespace

bool step_tuning_enabled() {
  const int v = g_step_tune.load(std::memory_order_relaxed);
  return v < 0 ? settings::step_tune_default() : v == 1;
}

bool packed_inference_enabled() {
  const int v = g_packed_inference.load(std::memory_order_relaxed);
  return v < 0 ? settings::packed_inference_default() : v == 1;
}

void set_step_tuning(int on) { g_step_tune.store(tri_state(on), std::memory_order_relaxed); }
void set_packed_inference(int on) { g_packed_inference.store(tri_state(on), std::memory_order_relaxed); }

}  // namespace densenorm

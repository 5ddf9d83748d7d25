// Process-wide switches the tests and memory-tight servers flip (net.h set_step_tuning,
// set_packed_inference), each defaulting to its environment variable.
#pragma once

namespace densenorm {

bool step_tuning_enabled();
bool packed_inference_enabled();

}  // namespace densenorm

// Every DENSENORM_* environment variable the C++ core reads, parsed in one place (settings.cc).
// Each is read on its first use and then kept for the life of the process (a thread-safe static):
// the values are process constants, and getenv is not free. README.md "Environment variables"
// lists them.
#pragma once
#include <cstddef>
#include <string>

#include "densenorm/kernels.h"

namespace densenorm {
namespace settings {

// DENSENORM_ISA: scalar | avx2 | avx512 (also avx-512) | neon, any case, surrounding spaces ignored.
struct IsaRequest {
  bool given = false;  // set and not empty
  bool known = false;  // names one of the ISAs above; `isa` holds it
  Isa isa = Isa::scalar;
  std::string text;    // the value as given, for error messages
};
const IsaRequest& isa_request();

// DENSENORM_NUM_THREADS: the thread pool's initial size, 1..1024; 0 when unset or not a positive
// integer (the pool then takes the CPUs this process may run on).
int num_threads();

// DENSENORM_GEMM_KC / _MC / _NC: overrides of the GEMM cache blocking; 0 when unset or not a
// positive integer (the blocking then comes from the cache sizes).
size_t gemm_kc();
size_t gemm_mc();
size_t gemm_nc();

// DENSENORM_GEMM_TEAM_ROWS / _COLS: the GEMM team policy's defaults (a team when
// M >= rows * threads and N < cols * threads); 256 and 64 when unset or not a positive integer.
size_t gemm_team_rows();
size_t gemm_team_cols();

// DENSENORM_PACKED_INFERENCE: inference keeps packed copies of the Dense kernels; on unless "0".
bool packed_inference_default();

// DENSENORM_STEP_TUNE: train_step times the pool against one thread; on unless "0".
bool step_tune_default();

// DENSENORM_FUSE: consecutive ops run as fused blocks; "0" runs every op in a block of its own
// (the unfused plan, for comparing results).
bool fuse_default();

}  // namespace settings
}  // namespace densenorm

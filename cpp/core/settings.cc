// The one reader of DENSENORM_* environment variables (settings.h). Compiled into the kernel
// layer, which reads most of them, so the selftest sees the same values as the addon.
#include "densenorm/settings.h"

#include <cctype>
#include <cstdlib>

#if defined(__linux__) && defined(__GLIBC__) && !defined(DENSENORM_NO_GLIBC_FLOOR)
// cpp/compat/glibc_floor.h: libstdc++'s single-thread test reads this, not glibc 2.32's.
extern "C" {
char densenorm_libc_single_threaded = 0;
}
#endif

namespace densenorm {
namespace settings {
namespace {

// A positive decimal integer (leading digits, as strtol reads them), else 0.
long positive_int(const char* name) {
  const char* e = std::getenv(name);
  if (e == nullptr) return 0;
  char* end = nullptr;
  const long n = std::strtol(e, &end, 10);
  return end != e && n >= 1 ? n : 0;
}

// A switch: on unless the variable is exactly "0".
bool on_unless_zero(const char* name) {
  const char* e = std::getenv(name);
  return !(e && e[0] == '0' && e[1] == 0);
}

IsaRequest read_isa() {
  IsaRequest r;
  const char* env = std::getenv("DENSENORM_ISA");
  if (env == nullptr || *env == '\0') return r;
  r.given = true;
  r.text = env;
  std::string name(env);
  while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.pop_back();
  size_t b = 0;
  while (b < name.size() && std::isspace(static_cast<unsigned char>(name[b]))) ++b;
  name = name.substr(b);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  r.known = true;
  if (name == "scalar") r.isa = Isa::scalar;
  else if (name == "avx2") r.isa = Isa::avx2;
  else if (name == "avx512" || name == "avx-512") r.isa = Isa::avx512;
  else if (name == "neon") r.isa = Isa::neon;
  else r.known = false;
  return r;
}

}  // namespace

const IsaRequest& isa_request() {
  static const IsaRequest r = read_isa();
  return r;
}

int num_threads() {
  static const int v = [] {
    const long n = positive_int("DENSENORM_NUM_THREADS");
    return n > 1024 ? 1024 : static_cast<int>(n);
  }();
  return v;
}

size_t gemm_kc() {
  static const size_t v = static_cast<size_t>(positive_int("DENSENORM_GEMM_KC"));
  return v;
}
size_t gemm_mc() {
  static const size_t v = static_cast<size_t>(positive_int("DENSENORM_GEMM_MC"));
  return v;
}
size_t gemm_nc() {
  static const size_t v = static_cast<size_t>(positive_int("DENSENORM_GEMM_NC"));
  return v;
}

size_t gemm_team_rows() {
  static const size_t v = [] {
    const long n = positive_int("DENSENORM_GEMM_TEAM_ROWS");
    return n ? static_cast<size_t>(n) : size_t{256};
  }();
  return v;
}
size_t gemm_team_cols() {
  static const size_t v = [] {
    const long n = positive_int("DENSENORM_GEMM_TEAM_COLS");
    return n ? static_cast<size_t>(n) : size_t{64};
  }();
  return v;
}

bool packed_inference_default() {
  static const bool v = on_unless_zero("DENSENORM_PACKED_INFERENCE");
  return v;
}

bool step_tune_default() {
  static const bool v = on_unless_zero("DENSENORM_STEP_TUNE");
  return v;
}

bool fuse_default() {
  static const bool v = on_unless_zero("DENSENORM_FUSE");
  return v;
}

}  // namespace settings
}  // namespace densenorm

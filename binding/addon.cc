// Module exports only: backend info, thread count, the NativeNet class, the input finiteness
// check the façade runs on every batch, and a GEMM for tests.
#include <napi.h>

#include "args.h"
#include "densenorm/kernels.h"
#include "densenorm/parallel.h"
#include "densenorm/validate.h"

namespace densenorm_binding {
Napi::Function DefineNet(Napi::Env env);

namespace {
using densenorm::Isa;

Napi::Value Backend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (const char* err = densenorm::init_kernels()) throw Napi::Error::New(env, err);
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", densenorm::isa_name(densenorm::kernels().isa));
  o.Set("threads", densenorm::num_threads());
  o.Set("detected", densenorm::isa_name(densenorm::detected_isa()));
  Napi::Array avail = Napi::Array::New(env);
  uint32_t n = 0;
  for (Isa i : {Isa::scalar, Isa::avx2, Isa::avx512})
    if (densenorm::kernels_for(i)) avail.Set(n++, densenorm::isa_name(i));
  o.Set("available", avail);
  return o;
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  size_t n = count(info[0], "n", 1024);
  if (n < 1) throw_range(info.Env(), "Expected a positive integer for n but received 0");
  densenorm::set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

// gemm(isa|null, transA, transB, M, N, K, A, B, C, accumulate[, shift, part]): tests compare every
// ISA table. shift/part: the batch-statistics epilogue (kernels.h GemmColStats, part row stride N).
// isa null: the threaded driver with the active table.
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (const char* err = densenorm::init_kernels()) throw Napi::Error::New(env, err);
  bool ta = flag(info[1], "transA"), tb = flag(info[2], "transB");
  size_t M = count(info[3], "M", 1u << 20), N = count(info[4], "N", 1u << 20),
         K = count(info[5], "K", 1u << 20);
  const float* A = f32(info[6], "A", mul(env, M, K, "A"));
  const float* B = f32(info[7], "B", mul(env, K, N, "B"));
  float* C = f32(info[8], "C", mul(env, M, N, "C"));
  bool acc = flag(info[9], "accumulate");
  const size_t lda = ta ? M : K, ldb = tb ? K : N;
  // Optional shift [N] and part [ceil(M/kStatRows) × 2 × N]: the batch-statistics epilogue.
  densenorm::GemmColStats st{};
  const densenorm::GemmColStats* stats = nullptr;
  if (info.Length() > 10 && !info[10].IsUndefined() && !info[10].IsNull()) {
    st.shift = f32(info[10], "shift", N);
    st.part = f32(info[11], "part", mul(env, (M + densenorm::kStatRows - 1) / densenorm::kStatRows, 2 * N, "part"));
    st.ldp = N;
    stats = &st;
  }
  if (info[0].IsNull() || info[0].IsUndefined()) {
    densenorm::gemm(ta, tb, M, N, K, A, lda, B, ldb, C, N, acc, stats);
    return env.Undefined();
  }
  if (!info[0].IsString()) throw_type(env, "isa", "'scalar' | 'avx2' | 'avx512' or null", info[0]);
  std::string name = info[0].As<Napi::String>();
  const densenorm::KernelTable* t = nullptr;
  for (Isa i : {Isa::scalar, Isa::avx2, Isa::avx512})
    if (name == densenorm::isa_name(i)) t = densenorm::kernels_for(i);
  if (!t) throw_range(env, "Expected an ISA this CPU supports for isa but received '" + name + "'");
  t->gemm(ta, tb, M, N, K, A, lda, B, ldb, C, N, acc, stats);
  return env.Undefined();
}

// firstNonFinite(x): index of the first NaN or ±Infinity in the Float32Array x, or -1.
Napi::Value FirstNonFinite(const Napi::CallbackInfo& info) {
  size_t n = 0;
  const float* x = f32(info[0], "x", SIZE_MAX, false, &n);
  const size_t i = densenorm::first_non_finite(x, n);
  return Napi::Number::New(info.Env(), i == n ? -1.0 : static_cast<double>(i));
}

}  // namespace
}  // namespace densenorm_binding

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  using namespace densenorm_binding;
  exports.Set("backend", Napi::Function::New(env, Backend));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("firstNonFinite", Napi::Function::New(env, FirstNonFinite));
  exports.Set("NativeNet", DefineNet(env));
  return exports;
}

NODE_API_MODULE(densenorm, InitAddon)

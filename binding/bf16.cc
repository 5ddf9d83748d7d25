// The bf16 entries of the addon: bf16Info() and gemmBf16(...) (tests and the bench compare the
// bf16 GEMM paths; densenorm/bf16.h).
#include <napi.h>

#include <string>

#include "args.h"
#include "densenorm/bf16.h"
#include "densenorm/kernels.h"
#include "densenorm/parallel.h"
#include "errors.h"

namespace densenorm_binding {
namespace {
using densenorm::Isa;

// bf16Info(): { cpu: CPUID says AVX512_BF16, native: mixed_bfloat16 runs VDPBF16PS here,
// error: the DENSENORM_BF16 problem or null }.
Napi::Value Bf16Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (const char* err = densenorm::init_kernels()) throw densenorm_error(env, err, "ERR_NATIVE");
  Napi::Object o = Napi::Object::New(env);
  o.Set("cpu", densenorm::cpu_has_avx512_bf16());
  o.Set("native", densenorm::bf16_native());
  const char* e = densenorm::bf16_setting_error();
  o.Set("error", e ? Napi::Value(Napi::String::New(env, e)) : env.Null());
  return o;
}

// gemmBf16(isa|null, path, transA, transB, M, N, K, A, B, C, accumulate[, shift, part]):
// isa null: the threaded driver on the active bf16 table (path ignored); else that ISA's table,
// path 'emulate' or 'native' (a RangeError where this CPU cannot run it).
Napi::Value GemmBf16(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (const char* err = densenorm::init_kernels()) throw densenorm_error(env, err, "ERR_NATIVE");
  const bool ta = flag(info[2], "transA"), tb = flag(info[3], "transB");
  const size_t M = count(info[4], "M", 1u << 20), N = count(info[5], "N", 1u << 20),
               K = count(info[6], "K", 1u << 20);
  const float* A = f32(info[7], "A", mul(env, M, K, "A"));
  const float* B = f32(info[8], "B", mul(env, K, N, "B"));
  float* C = f32(info[9], "C", mul(env, M, N, "C"));
  const bool acc = flag(info[10], "accumulate");
  const size_t lda = ta ? M : K, ldb = tb ? K : N;
  densenorm::GemmColStats st{};
  const densenorm::GemmColStats* stats = nullptr;
  if (info.Length() > 11 && !info[11].IsUndefined() && !info[11].IsNull()) {
    st.shift = f32(info[11], "shift", N);
    st.part = f32(info[12], "part",
                  mul(env, (M + densenorm::kStatRows - 1) / densenorm::kStatRows, 2 * N, "part"));
    st.ldp = N;
    stats = &st;
  }
  if (info[0].IsNull() || info[0].IsUndefined()) {
    densenorm::gemm(ta, tb, M, N, K, A, lda, B, ldb, C, N, acc, stats, nullptr,
                    &densenorm::kernels_bf16());
    return env.Undefined();
  }
  if (!info[0].IsString()) throw_type(env, "isa", "'scalar' | 'avx2' | 'avx512' or null", info[0]);
  if (!info[1].IsString()) throw_type(env, "path", "'emulate' | 'native'", info[1]);
  const std::string name = info[0].As<Napi::String>(), path = info[1].As<Napi::String>();
  if (path != "emulate" && path != "native")
    throw_range(env, "Expected 'emulate' or 'native' for path but received '" + path + "'");
  const densenorm::KernelTable* t = nullptr;
  for (Isa i : {Isa::scalar, Isa::avx2, Isa::avx512})
    if (name == densenorm::isa_name(i)) t = densenorm::kernels_bf16_for(i, path == "native");
  if (!t)
    throw_range(env, "Expected an ISA and bf16 path this CPU supports for isa/path but received '" +
                         name + "'/'" + path + "'");
  t->gemm(ta, tb, M, N, K, A, lda, B, ldb, C, N, acc, stats);
  return env.Undefined();
}

}  // namespace

void RegisterBf16(Napi::Env env, Napi::Object exports) {
  exports.Set("bf16Info", Napi::Function::New(env, Bf16Info));
  exports.Set("gemmBf16", Napi::Function::New(env, GemmBf16));
}

}  // namespace densenorm_binding

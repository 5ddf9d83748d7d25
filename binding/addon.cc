// Module exports only: backend info, thread count, the NativeNet class, the input finiteness
// check the façade runs on every batch, and a GEMM for tests.
#include <napi.h>

#include "args.h"
#include "errors.h"
#include "spec.h"
#include "densenorm/kernels.h"
#include "densenorm/parallel.h"
#include "densenorm/batch.h"
#include "densenorm/net.h"
#include "densenorm/settings.h"
#include "core/loss.h"
#include "core/metrics.h"
#include "core/optimizer.h"

namespace densenorm_binding {
Napi::Function DefineNet(Napi::Env env);
void RegisterBf16(Napi::Env env, Napi::Object exports);  // bf16.cc
Napi::Function DefineQuantizedNet(Napi::Env env);  // int8_wrap.cc
Napi::Value Int8Info(const Napi::CallbackInfo& info);

namespace {
using densenorm::Isa;

Napi::Value Backend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (const char* err = densenorm::init_kernels()) throw densenorm_error(env, err, "ERR_NATIVE");
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", densenorm::isa_name(densenorm::kernels().isa));
  o.Set("threads", densenorm::num_threads());
  o.Set("detected", densenorm::isa_name(densenorm::detected_isa()));
  Napi::Array avail = Napi::Array::New(env);
  uint32_t n = 0;
  for (Isa i : {Isa::scalar, Isa::avx2, Isa::avx512, Isa::neon})
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

// setGemmTeamPolicy(minRowsPerThread, maxColsPerThread): when the threaded GEMM runs a team
// (parallel.h); 0 restores a default. For tests and tuning.
Napi::Value SetGemmTeamPolicy(const Napi::CallbackInfo& info) {
  const size_t rows = count(info[0], "minRowsPerThread", 1u << 30);
  const size_t cols = count(info[1], "maxColsPerThread", 1u << 30);
  densenorm::set_gemm_team_policy(rows, cols);
  return info.Env().Undefined();
}

// setStepTuning(on: boolean | null): train_step's measured pool-or-one-thread choice (net.h);
// null restores DENSENORM_STEP_TUNE's default.
Napi::Value SetStepTuning(const Napi::CallbackInfo& info) {
  if (info[0].IsNull() || info[0].IsUndefined()) densenorm::set_step_tuning(-1);
  else densenorm::set_step_tuning(flag(info[0], "on") ? 1 : 0);
  return info.Env().Undefined();
}

// setPackedInference(on: boolean | null): inference's packed kernels (net.h); null restores
// DENSENORM_PACKED_INFERENCE's default.
Napi::Value SetPackedInference(const Napi::CallbackInfo& info) {
  if (info[0].IsNull() || info[0].IsUndefined()) densenorm::set_packed_inference(-1);
  else densenorm::set_packed_inference(flag(info[0], "on") ? 1 : 0);
  return info.Env().Undefined();
}

// gemm(isa|null, transA, transB, M, N, K, A, B, C, accumulate[, shift, part]): tests compare every
// ISA table. shift/part: the batch-statistics epilogue (kernels.h GemmColStats, part row stride N).
// isa null: the threaded driver with the active table.
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (const char* err = densenorm::init_kernels()) throw densenorm_error(env, err, "ERR_NATIVE");
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
  if (!info[0].IsString()) throw_type(env, "isa", "'scalar' | 'avx2' | 'avx512' | 'neon' or null", info[0]);
  std::string name = info[0].As<Napi::String>();
  const densenorm::KernelTable* t = nullptr;
  for (Isa i : {Isa::scalar, Isa::avx2, Isa::avx512, Isa::neon})
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

// gatherRows(src, rowLen, order, start, n, dst): dst row i = src row order[start + i], i < n (fit's
// shuffled batches). Every index is checked against src's rows first.
Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t src_len = 0, order_len = 0, dst_len = 0;
  const float* src = f32(info[0], "src", SIZE_MAX, false, &src_len);
  const size_t row_len = count(info[1], "rowLen", src_len);
  if (row_len == 0) throw_range(env, "Expected a positive rowLen but received 0");
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw_type(env, "order", "an Int32Array", info[2]);
  auto order_arr = info[2].As<Napi::Int32Array>();
  order_len = order_arr.ElementLength();
  const int32_t* order = order_arr.Data();
  const size_t start = count(info[3], "start", order_len);
  const size_t n = count(info[4], "n", order_len - start);
  float* dst = f32(info[5], "dst", SIZE_MAX, false, &dst_len);
  if (dst_len < n * row_len)
    throw_range(env, "Expected at least " + std::to_string(n * row_len) + " elements for dst but received " +
                         std::to_string(dst_len));
  const size_t src_rows = src_len / row_len;
  for (size_t i = 0; i < n; ++i) {
    const int32_t r = order[start + i];
    if (r < 0 || static_cast<size_t>(r) >= src_rows)
      throw_range(env, "Expected row indices in [0, " + std::to_string(src_rows) + ") for order but received " +
                           std::to_string(r) + " at " + std::to_string(start + i));
  }
  densenorm::gather_rows(src, row_len, order + start, n, dst);
  return env.Undefined();
}

// vocabulary(): what the core knows, in its code order, so the façade's lists can be checked
// against it: activations, losses, optimizers, ISAs (all, not only this CPU's) and limits.
Napi::Value Vocabulary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto list = [&](int n, auto name) {
    Napi::Array a = Napi::Array::New(env, n);
    for (int i = 0; i < n; ++i) a.Set(i, name(i));
    return a;
  };
  Napi::Object o = Napi::Object::New(env);
  o.Set("activations", list(densenorm::kActCount, [](int i) { return densenorm::kActNames[i]; }));
  o.Set("losses", list(densenorm::kLossCount, [](int i) { return densenorm::loss_def(static_cast<densenorm::Loss>(i)).name; }));
  o.Set("optimizers", list(densenorm::kOptimCount, [](int i) { return densenorm::optimizer_def(static_cast<densenorm::Optim>(i)).name; }));
  const std::vector<std::string> ops = densenorm::op_names();
  o.Set("ops", list(static_cast<int>(ops.size()), [&](int i) { return ops[i]; }));
  const std::vector<std::string> metrics = densenorm::metric_names();
  o.Set("metrics", list(static_cast<int>(metrics.size()), [&](int i) { return metrics[i]; }));
  o.Set("isas", list(densenorm::kIsaCount, [](int i) { return densenorm::isa_name(static_cast<Isa>(i)); }));
  Napi::Object limits = Napi::Object::New(env);
  limits.Set("maxFeatures", static_cast<double>(densenorm::kMaxFeatures));
  o.Set("limits", limits);
  return o;
}

// fusionGroups(ops, fuse = true): how the core would group an op list into blocks (no arrays
// needed), as op indices per block.
Napi::Value FusionGroups(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<densenorm::OpSpec> ops = to_ops(info[0], "ops");
  const bool fuse = info[1].IsUndefined() ? densenorm::settings::fuse_default() : flag(info[1], "fuse");
  std::vector<std::vector<size_t>> groups;
  densenorm::Status st = densenorm::fusion_groups(ops, fuse, &groups);
  if (!st.ok()) throw_status(env, st);
  return groups_value(env, groups);
}

}  // namespace
}  // namespace densenorm_binding

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  using namespace densenorm_binding;
  exports.Set("backend", Napi::Function::New(env, Backend));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("setGemmTeamPolicy", Napi::Function::New(env, SetGemmTeamPolicy));
  exports.Set("setStepTuning", Napi::Function::New(env, SetStepTuning));
  exports.Set("setPackedInference", Napi::Function::New(env, SetPackedInference));
  exports.Set("firstNonFinite", Napi::Function::New(env, FirstNonFinite));
  exports.Set("gatherRows", Napi::Function::New(env, GatherRows));
  exports.Set("fusionGroups", Napi::Function::New(env, FusionGroups));
  exports.Set("vocabulary", Napi::Function::New(env, Vocabulary));
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass));
  RegisterBf16(env, exports);
  exports.Set("NativeNet", DefineNet(env));
  exports.Set("QuantizedNet", DefineQuantizedNet(env));
  exports.Set("int8Info", Napi::Function::New(env, Int8Info));
  return exports;
}

NODE_API_MODULE(densenorm, InitAddon)

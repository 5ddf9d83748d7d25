// The bf16 GEMM tables (densenorm/bf16.h) against the bit-level and double references on odd
// shapes, every transpose, accumulate, bytes past C untouched; the prepacked entry; and the
// dispatch rule: the native VDPBF16PS table exists only when CPUID has AVX512_BF16. Called once
// by selftest.cc's main.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "densenorm/bf16.h"
#include "densenorm/kernels.h"
#include "reference_bf16.h"

namespace densenorm {

namespace {
bool same_bits(const float* a, const float* b, size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }
}  // namespace

void test_bf16(size_t* pass, size_t* fail) {
  std::mt19937 rng(4242);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  const auto rnd = [&](size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
  };
  const auto report = [&](bool ok, const char* what, const char* name, size_t M, size_t N, size_t K) {
    if (ok) ++*pass;
    else {
      ++*fail;
      std::printf("FAIL bf16 %s %s %zux%zux%zu\n", name, what, M, N, K);
    }
  };
  constexpr float kSentinel = -12345.678f;
  const size_t shapes[][3] = {{1, 1, 1}, {3, 17, 33}, {17, 3, 257}, {33, 257, 3}, {257, 33, 17},
                              {5, 40, 600}, {9, 1, 513}, {24, 64, 256}};
  const bool cpu_bf16 = cpu_has_avx512_bf16();
  std::printf("bf16: CPU %s AVX512_BF16; mixed_bfloat16 runs the %s kernel\n",
              cpu_bf16 ? "has" : "lacks", bf16_native() ? "native VDPBF16PS" : "emulated");
  report(cpu_bf16 || (!bf16_native() && !kernels_bf16_for(Isa::avx512, true)),
         "native table absent without the CPUID bit", "dispatch", 0, 0, 0);
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512})
    for (bool native : {false, true}) {
      const KernelTable* kt = kernels_bf16_for(isa, native);
      if (!kt) continue;
      char name[32];
      std::snprintf(name, sizeof name, "%s/%s", isa_name(isa), native ? "native" : "emulated");
      for (const auto& s : shapes)
        for (int t = 0; t < 4; ++t)
          for (bool acc : {false, true}) {
            const size_t M = s[0], N = s[1], K = s[2];
            const bool ta = t & 2, tb = t & 1;
            const std::vector<float> A = rnd(M * K), B = rnd(K * N), C0 = rnd(M * N);
            std::vector<float> C(M * N + 16, kSentinel), R(C0);
            std::memcpy(C.data(), C0.data(), M * N * sizeof(float));
            kt->gemm(ta, tb, M, N, K, A.data(), ta ? M : K, B.data(), tb ? K : N, C.data(), N, acc,
                     nullptr);
            ref::gemm_bf16_bits(ta, tb, M, N, K, A.data(), ta ? M : K, B.data(), tb ? K : N,
                                R.data(), acc);
            bool past = true;
            for (size_t i = 0; i < 16; ++i) past = past && C[M * N + i] == kSentinel;
            report(same_bits(C.data(), R.data(), M * N) && past, "bits vs reference", name, M, N, K);
            std::vector<double> D(M * N);
            ref::gemm_bf16_double(ta, tb, M, N, K, A.data(), ta ? M : K, B.data(), tb ? K : N,
                                  C0.data(), acc, D.data());
            double worst = 0;  // fp32 accumulation of K exact products: ~K·2^-24 of Σ|ab| <= K
            for (size_t i = 0; i < M * N; ++i) worst = std::fmax(worst, std::fabs(C[i] - D[i]));
            report(worst <= 1e-6 * (K + 1), "vs double", name, M, N, K);
          }
      // prepacked op(B) (inference) gives gemm's bits, from any NR-aligned column offset
      const size_t M = 19, N = 3 * kt->gemm_nr + 5, K = 300;
      const std::vector<float> A = rnd(M * K), B = rnd(K * N);
      std::vector<float> BP(kt->gemm_packed_b_size(K, N)), C(M * N), P(M * N);
      kt->gemm_pack_b(false, B.data(), N, K, N, BP.data());
      kt->gemm(false, false, M, N, K, A.data(), K, B.data(), N, C.data(), N, false, nullptr);
      const size_t j0 = kt->gemm_nr;
      kt->gemm_prepacked(false, M, N - j0, K, A.data(), K, BP.data(), N, j0, P.data() + j0, N, false);
      kt->gemm_prepacked(false, M, j0, K, A.data(), K, BP.data(), N, 0, P.data(), N, false);
      report(same_bits(C.data(), P.data(), M * N), "prepacked", name, M, N, K);
    }
}

}  // namespace densenorm

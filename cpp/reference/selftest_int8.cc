// int8 paths (densenorm/int8.h) against an integer reference: exact int32 sums, the epilogue's
// fp32 ops one rounding at a time (this file has no FMA flags), on odd shapes, every path this
// CPU has, one thread and the pool; plus the fp32 outputs against a double evaluation.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "densenorm/int8.h"
#include "densenorm/parallel.h"

namespace densenorm {
namespace {

uint32_t g_state = 12345;
uint32_t next_u32() {
  g_state = g_state * 1664525u + 1013904223u;
  return g_state >> 8;
}

float fmax_x86(float a, float b) { return a > b ? a : b; }
float fmin_x86(float a, float b) { return a < b ? a : b; }
int32_t rne(float x) { return static_cast<int32_t>(std::nearbyint(x)); }

struct Case {
  size_t M, K, N;
  int32_t zp;
  bool relu, f32out;
};

bool run_case(const int8::Table& t, const Case& c, bool threads) {
  const size_t lda = int8::padded_k(c.K);
  const size_t np = (c.N + 63) / 64 * 64;
  std::vector<uint8_t> A(c.M * lda, 0);
  for (size_t i = 0; i < c.M; ++i)
    for (size_t k = 0; k < c.K; ++k) A[i * lda + k] = static_cast<uint8_t>(next_u32() & 255);
  std::vector<int8_t> W(c.K * c.N);
  for (auto& w : W) w = static_cast<int8_t>(static_cast<int>(next_u32() % 255) - 127);
  std::vector<int32_t> comp(np, 0);
  std::vector<float> mult(np, 0.0f), bias(np, 0.0f);
  for (size_t n = 0; n < c.N; ++n) {
    int32_t s = 0;
    for (size_t k = 0; k < c.K; ++k) s += W[k * c.N + n];
    comp[n] = s * c.zp;
    mult[n] = 1e-4f * static_cast<float>(1 + next_u32() % 100);
    bias[n] = static_cast<float>(static_cast<int>(next_u32() % 200) - 100) * 0.01f;
  }
  std::vector<uint8_t> packed(t.packed_bytes(c.K, c.N) + 64);
  t.pack(W.data(), c.K, c.N, packed.data());
  int8::QGemm g;
  g.M = c.M, g.N = c.N, g.K = c.K, g.A = A.data(), g.lda = lda, g.Bp = packed.data();
  g.comp = comp.data(), g.mult = mult.data(), g.bias = bias.data(), g.relu = c.relu;
  g.inv = 1.0f / 0.05f, g.zp = 7.0f, g.ldo = c.N;
  std::vector<float> of(c.M * c.N, -1.0f);
  std::vector<uint8_t> ou(c.M * c.N, 0);
  if (c.f32out) g.out_f32 = of.data();
  else g.out_u8 = ou.data();
  const int saved = num_threads();
  set_num_threads(threads ? 2 : 1);
  int8::qgemm(t, g);
  set_num_threads(saved);
  for (size_t i = 0; i < c.M; ++i) {
    for (size_t n = 0; n < c.N; ++n) {
      int32_t acc = 0;
      for (size_t k = 0; k < c.K; ++k) acc += static_cast<int32_t>(A[i * lda + k]) * W[k * c.N + n];
      acc -= comp[n];
      volatile float p = static_cast<float>(acc) * mult[n];
      float y = p + bias[n];
      if (c.relu) y = y > 0.0f ? y : 0.0f;
      if (c.f32out) {
        float got = of[i * c.N + n];
        if (std::memcmp(&got, &y, 4) != 0) return false;
        const double d = static_cast<double>(acc) * mult[n] + bias[n];
        const double want = c.relu && d < 0 ? 0 : d;
        if (std::fabs(got - want) > 1e-5 * (std::fabs(want) + 1)) return false;
      } else {
        volatile float u = y * g.inv;
        float v = u + g.zp;
        v = fmin_x86(fmax_x86(v, 0.0f), 255.0f);
        if (ou[i * c.N + n] != static_cast<uint8_t>(rne(v))) return false;
      }
    }
  }
  return true;
}

}  // namespace

void test_int8(size_t* pass, size_t* fail) {
  const size_t dims[] = {1, 3, 17, 33, 257};
  for (int p = 0; p < int8::kPathCount; ++p) {
    const int8::Table* t = int8::table_for(static_cast<int8::Path>(p));
    if (!t) {
      std::printf("int8 %s: not available on this CPU, skipped\n", int8::path_name(static_cast<int8::Path>(p)));
      continue;
    }
    size_t cases = 0, bad = 0;
    for (size_t M : dims)
      for (size_t K : dims)
        for (size_t N : dims) {
          if (M * K * N > 3000000) continue;
          for (int v = 0; v < 2; ++v) {
            const Case c{M, K, N, v ? 131 : 0, v == 0, (M + K + N + v) % 2 == 0};
            const bool ok = run_case(*t, c, v == 1);
            ++cases;
            if (!ok) {
              ++bad;
              if (bad <= 3) std::printf("  FAIL int8 %s M=%zu K=%zu N=%zu zp=%d\n", int8::path_name(t->path), M, K, N, c.zp);
            }
          }
        }
    *pass += cases - bad;
    *fail += bad;
    std::printf("int8 %s: %zu cases, %zu failed\n", int8::path_name(t->path), cases, bad);
  }
}

}  // namespace densenorm

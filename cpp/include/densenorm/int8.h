// int8 inference kernels: C_q = epilogue(A_u8[M×K] · W_s8[K×N]) with exact int32 accumulation.
// One template (cpp/kernels/int8_impl.h) per path; the ISA files only instantiate it. Every path
// computes the same bits (integer products are exact, and the epilogue is the same fp32 ops in
// the same order), which test/int8.test.mjs checks against a JavaScript integer reference.
//
// Epilogue for row i, column n (fl = one fp32 rounding, rne = round to nearest even):
//   acc = Σ_k A[i,k]·W[k,n] − comp[n]          (int32; comp[n] = zpA·Σ_k W[k,n])
//   y   = fl(fl(float(acc)·mult[n]) + bias[n]) (mult[n] = sA·sW[n])
//   y   = relu ? (y > 0 ? y : 0) : y
//   float output: y; u8 output: rne(min(max(fl(fl(y·inv)+zp), 0), 255)) with max(a,b) = a > b ? a : b
//   and min(a,b) = a < b ? a : b (the x86 maxps/minps operand rules).
#pragma once
#include <cstddef>
#include <cstdint>

namespace densenorm {
namespace int8 {

enum class Path : int { scalar = 0, avx2 = 1, avx512 = 2, vnni = 3 };
constexpr int kPathCount = 4;
const char* path_name(Path p);  // "scalar" | "avx2" | "avx512" | "avx512_vnni"

// K is padded to a multiple of kKQuad in A's rows (zeros) and in the packed weights.
constexpr size_t kKQuad = 4;
inline size_t padded_k(size_t k) { return (k + kKQuad - 1) / kKQuad * kKQuad; }

struct QGemm {
  size_t M = 0, N = 0, K = 0;
  const uint8_t* A = nullptr;  // [M × lda], lda >= padded_k(K), padding zero
  size_t lda = 0;
  const void* Bp = nullptr;     // Table::pack's output
  const int32_t* comp = nullptr;  // [round_up(N, 64)] zero-point compensation
  const float* mult = nullptr;    // [round_up(N, 64)]
  const float* bias = nullptr;    // [round_up(N, 64)]
  bool relu = false;
  float inv = 1.0f, zp = 0.0f;  // u8 output quantization
  uint8_t* out_u8 = nullptr;    // exactly one of out_u8 / out_f32
  float* out_f32 = nullptr;
  size_t ldo = 0;
};

struct Table {
  Path path;
  size_t block;  // columns per packed block (the vector width in int32 lanes)
  size_t mr;     // rows per register tile
  bool wide;     // A is read as int16 (gemm's a16 scratch), the pre-VNNI s16 widening route
  size_t (*packed_bytes)(size_t K, size_t N);
  void (*pack)(const int8_t* W, size_t K, size_t N, void* dst);  // W row-major [K × N]
  // Rows [m0, m1) × packed blocks [b0, b1) of g. a16: A widened to int16, [M × lda], when wide.
  void (*gemm)(const QGemm& g, const int16_t* a16, size_t m0, size_t m1, size_t b0, size_t b1);
  // out[i] = rne(min(max(fl(fl(x[i]·inv)+zp), 0), 255)).
  void (*quantize)(const float* x, size_t n, float inv, float zp, uint8_t* out);
};

// CPUID.(EAX=7,ECX=0):ECX bit 11 (AVX512_VNNI), with AVX-512 usable.
bool cpu_has_vnni();
// The table of a path, or nullptr when this CPU (or build) lacks it.
const Table* table_for(Path p);
// The process's path: the best the CPU has at or below the float kernels' ISA (DENSENORM_ISA
// lowers both), without VNNI when DENSENORM_NO_VNNI=1.
const Table& active();

// Threaded over rows (or column blocks when M is small); the same bits for every split.
void qgemm(const Table& t, const QGemm& g);

}  // namespace int8
}  // namespace densenorm

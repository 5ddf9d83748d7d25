// Bit-level reference of the bf16 GEMM (cpp/kernels/bf16_impl.h): operands rounded to bf16 (RNE,
// fp32 denormals to a signed zero, NaN quieted), K blocks of 256, pairs (k, k+1) from each block
// start, per pair acc += a[k+1]·b[k+1] then acc += a[k]·b[k] in fp32 (the SDM's VDPBF16PS order),
// then C = acc or C + acc per block. Each bf16 product is exact and a double sum of two floats
// rounds to the correctly rounded float sum (53 ≥ 2·24 + 2), so Math.fround reproduces fp32.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** x rounded to bf16 as VCVTNEPS2BF16 does, returned as a float. */
export function roundBf16(x) {
  f32[0] = x;
  let u = u32[0];
  if ((u & 0x7f800000) === 0) u = u & 0x80000000;  // zero or denormal → signed zero
  else if ((u & 0x7fffffff) > 0x7f800000) u = (u | 0x00400000) & 0xffff0000;  // quiet NaN
  else u = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 0) & 0xffff0000;
  u32[0] = u >>> 0;
  return f32[0];
}

export const BF16_KB = 256;

/** C (=|+=) bf16(op(A))·bf16(op(B)), bit for bit; C0 is C's previous value when accumulate. */
export function gemmBf16Ref(ta, tb, M, N, K, A, B, C0, accumulate) {
  const fr = Math.fround;
  const a = (i, k) => (k < K ? roundBf16(ta ? A[k * M + i] : A[i * K + k]) : 0);
  const b = (k, j) => (k < K ? roundBf16(tb ? B[j * K + k] : B[k * N + j]) : 0);
  const C = new Float32Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let c = accumulate ? C0[i * N + j] : 0;
      if (K === 0) { C[i * N + j] = c; continue; }
      for (let k0 = 0; k0 < K; k0 += BF16_KB) {
        const kend = Math.min(K, k0 + BF16_KB);
        let acc = 0;
        for (let k = k0; k < kend; k += 2) {
          const odd = k + 1 < kend ? a(i, k + 1) * b(k + 1, j) : 0;
          acc = fr(acc + odd);
          acc = fr(acc + a(i, k) * b(k, j));
        }
        c = k0 === 0 && !accumulate ? acc : fr(c + acc);
      }
      C[i * N + j] = c;
    }
  return C;
}

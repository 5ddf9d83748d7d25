// GEMM: every ISA table this CPU has, every transpose combination, against float64 on odd shapes;
// the threaded driver bit-identical for 1–4 threads.
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { gemmRef, randomArray, relErr, rng } from './reference.mjs';
// Float32 dot products of K terms carry about sqrt(K)·2^-24 relative to Σ|a·b|; 1e-5 of it is safe.

const require = createRequire(import.meta.url);
const { native } = require('../dist/native.js');
const { available } = native.backend();
const DIMS = [1, 3, 17, 31, 33, 257];

describe('gemm kernels vs float64 reference', () => {
  for (const isa of ['scalar', 'avx2', 'avx512']) {
    const run = available.includes(isa) ? describe : describe.skip;
    run(`${isa} table`, () => {
      for (const ta of [false, true])
        for (const tb of [false, true])
          it(`transA=${ta} transB=${tb}, M,N,K over ${DIMS.join('/')} (+ accumulate)`, () => {
            const rand = rng(17 + (ta ? 2 : 0) + (tb ? 1 : 0));
            for (const M of DIMS)
              for (const N of DIMS)
                for (const K of [1, 7, 33, 257, 1000]) {
                  if (M * N * K > 3e6) continue;
                  const A = randomArray(M * K, rand);
                  const B = randomArray(K * N, rand);
                  const C = randomArray(M * N, rand);
                  const C0 = Float64Array.from(C);
                  const acc = (M + N + K) % 2 === 1;
                  native.gemm(isa, ta, tb, M, N, K, A, B, C, acc);
                  const ref = gemmRef(ta, tb, M, N, K, A, B);
                  if (acc) for (let i = 0; i < ref.length; i++) ref[i] += C0[i];
                  // Error bound per element relative to Σ|a||b| (+|c|): the conditioning of a dot product.
                  const mag = gemmRef(ta, tb, M, N, K, A.map(Math.abs), B.map(Math.abs));
                  for (let i = 0; i < ref.length; i++) {
                    const bound = 1e-6 * (mag[i] + (acc ? Math.abs(C0[i]) : 0)) + 1e-30;
                    if (!(Math.abs(C[i] - ref[i]) <= bound * 10)) {
                      expect.fail(`M=${M} N=${N} K=${K} acc=${acc}: (${Math.floor(i / N)},${i % N}) got ${C[i]} want ${ref[i]}`);
                    }
                  }
                }
          });
    });
  }

  // A few rows against a plain B (inference at a small batch) take the streaming path: whole rows
  // of B, four at a time, accumulators in L1 blocks of up to 4096/M columns; K over several K blocks.
  for (const isa of ['scalar', 'avx2', 'avx512']) {
    const run = available.includes(isa) ? it : it.skip;
    run(`${isa}: small-M streaming path (M = 1..9, N over several accumulator blocks) vs float64`, () => {
      const rand = rng(23);
      for (let M = 1; M <= 9; M++)
        for (const [N, K] of [[4100, 9], [1000, 257], [37, 1030], [700, 3]])
          for (const acc of [false, true])
            for (const ta of [false, true]) {
              const A = randomArray(M * K, rand);
              const B = randomArray(K * N, rand);
              const C = randomArray(M * N, rand);
              const C0 = Float64Array.from(C);
              native.gemm(isa, ta, false, M, N, K, A, B, C, acc);
              const ref = gemmRef(ta, false, M, N, K, A, B);
              const mag = gemmRef(ta, false, M, N, K, A.map(Math.abs), B.map(Math.abs));
              for (let i = 0; i < ref.length; i++) {
                const want = ref[i] + (acc ? C0[i] : 0);
                const bound = 1e-5 * (mag[i] + (acc ? Math.abs(C0[i]) : 0)) + 1e-30;
                if (!(Math.abs(C[i] - want) <= bound)) {
                  expect.fail(`M=${M} N=${N} K=${K} ta=${ta} acc=${acc}: (${Math.floor(i / N)},${i % N}) got ${C[i]} want ${want}`);
                }
              }
            }
    });
    run(`${isa}: a row gives the same bits alone (streaming path) as inside a tall product (packed path)`, () => {
      const rand = rng(29);
      const [M, N, K] = [40, 1000, 300];
      const A = randomArray(M * K, rand);
      const B = randomArray(K * N, rand);
      const C = new Float32Array(M * N);
      native.gemm(isa, false, false, M, N, K, A, B, C, false);
      for (const r of [0, 7, 39]) {
        for (const m of [1, 3]) {
          if (r + m > M) continue;
          const c = new Float32Array(m * N);
          native.gemm(isa, false, false, m, N, K, A.subarray(r * K, (r + m) * K), B, c, false);
          expect(Buffer.from(c.buffer).equals(Buffer.from(C.buffer, r * N * 4, m * N * 4)), `rows ${r}..${r + m - 1}`).to.equal(true);
        }
      }
    });
  }

  it('threaded driver: bit-identical results for 1, 2, 3 and 4 threads', () => {
    const rand = rng(5);
    // the last three are streaming (few rows): their columns are split by bytes, not flops
    const cases = [[257, 1000, 129], [64, 4096, 64], [1000, 33, 300], [600, 1000, 300], [1, 1000, 300], [5, 700, 257], [8, 2048, 100]];
    try {
      for (const [M, N, K] of cases)
        for (const [ta, tb] of [[false, false], [true, false], [false, true]]) {
          const A = randomArray(M * K, rand);
          const B = randomArray(K * N, rand);
          let first;
          for (const t of [1, 2, 3, 4]) {
            native.setNumThreads(t);
            const C = new Float32Array(M * N);
            native.gemm(null, ta, tb, M, N, K, A, B, C, false);
            if (!first) {
              first = C;
              const e = relErr(C, gemmRef(ta, tb, M, N, K, A, B));
              expect(e.err).to.be.at.most(1e-5);
            } else {
              expect(Buffer.from(C.buffer).equals(Buffer.from(first.buffer)), `threads=${t} M=${M} N=${N} K=${K}`).to.equal(true);
            }
          }
        }
    } finally {
      native.setNumThreads(2);
    }
  });
});

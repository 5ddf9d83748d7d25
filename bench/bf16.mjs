// bf16 mixed precision against float32 in one process: the bf16 GEMM vs the fp32 GEMM on 1 thread
// at 1024³ and the W3 shapes, and the W2 training step (784-1024-1024-10 relu+BN, Adam, batch 256)
// compiled 'mixed_bfloat16' vs 'float32' on 1 and 2 threads, timed in alternating rounds so machine
// noise hits both alike. Says whether the native VDPBF16PS path ran (else the emulation, which is
// slower than fp32 by construction) and the CPU model. Last line: one JSON record.
//   node bench/bf16.mjs [--quick] [--rounds N]
import os from 'node:os';
import { createRequire } from 'node:module';
import { WORKLOADS, batchData, buildModel } from './workloads.mjs';
const require = createRequire(import.meta.url);
const dn = require('../dist/index.js');
const { native } = require('../dist/native.js');

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const ri = argv.indexOf('--rounds');
const ROUNDS = ri >= 0 ? Number(argv[ri + 1]) : QUICK ? 1 : 5;
const info = native.bf16Info();
import fs from 'node:fs';
const cpuinfo = (() => { try { return fs.readFileSync('/proc/cpuinfo', 'utf8'); } catch { return ''; } })();
const field = (k) => cpuinfo.match(new RegExp(`^${k}\\s*: (.*)$`, 'm'))?.[1];
const cpu = `${os.cpus()[0]?.model ?? 'unknown'}${field('cpu family') ? ` (family ${field('cpu family')} model ${field('model')})` : ''}`;
const med = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const ms = (fn) => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const randn = (n, seed) => {
  let s = seed >>> 0;
  return new Float32Array(n).map(() => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
};

const S = QUICK ? 64 : 1024, W = QUICK ? 96 : 4096, B3 = QUICK ? 48 : 1024;
const shapes = [
  { name: `gemm ${S}³`, M: S, N: S, K: S, ta: false, tb: false },
  { name: 'W3 fwd X·W', M: B3, N: W, K: W, ta: false, tb: false },
  { name: 'W3 bwd dZ·Wᵀ', M: B3, N: W, K: W, ta: false, tb: true },
  { name: 'W3 bwd Xᵀ·dZ', M: W, N: W, K: B3, ta: true, tb: false },
];
const saved = native.backend().threads;
const gemm = [];
native.setNumThreads(1);
for (const s of shapes) {
  const A = randn(s.M * s.K, 1), Bm = randn(s.K * s.N, 2), C = new Float32Array(s.M * s.N);
  const f32 = () => native.gemm(null, s.ta, s.tb, s.M, s.N, s.K, A, Bm, C, false);
  const bf = () => native.gemmBf16(null, null, s.ta, s.tb, s.M, s.N, s.K, A, Bm, C, false);
  if (!QUICK) { f32(); bf(); }
  const t32 = [], tbf = [];
  const reps = QUICK ? 1 : s.M * s.N * s.K > 2e10 ? 2 : ROUNDS;
  for (let r = 0; r < reps; r++) { t32.push(ms(f32)); tbf.push(ms(bf)); }
  const flop = 2 * s.M * s.N * s.K;
  gemm.push({ shape: s.name, fp32_ms: med(t32), bf16_ms: med(tbf), fp32_gflops: flop / med(t32) / 1e6, bf16_gflops: flop / med(tbf) / 1e6, speedup: med(t32) / med(tbf) });
}

const w2 = QUICK ? { ...WORKLOADS.W2, sizes: [784, 32, 32, 10], batch: 16 } : WORKLOADS.W2;
const models = {};
for (const precision of ['float32', 'mixed_bfloat16']) {
  const m = buildModel(dn, w2);
  m.compile({ optimizer: w2.opt(dn), loss: 'categoricalCrossentropy', precision });
  models[precision] = m;
}
const [x, y] = batchData(dn, w2, w2.batch);
const steps = QUICK ? 1 : 5;
const train = [];
for (const t of [1, 2]) {
  native.setNumThreads(t);
  for (const m of Object.values(models)) for (let i = 0; i < (QUICK ? 1 : 3); i++) m.trainOnBatch(x, y);
  const r32 = [], rbf = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? ['mixed_bfloat16', 'float32'] : ['float32', 'mixed_bfloat16'];
    for (const p of order) {
      const v = ms(() => { for (let i = 0; i < steps; i++) models[p].trainOnBatch(x, y); }) / steps;
      (p === 'float32' ? r32 : rbf).push(v);
    }
  }
  train.push({ threads: t, fp32_ms: med(r32), bf16_ms: med(rbf), speedup: med(r32) / med(rbf) });
}
native.setNumThreads(saved);

const path = info.native ? 'native VDPBF16PS (avx512_bf16)' : `emulated (${info.cpu ? 'avx512_bf16 present, DENSENORM_BF16=emulate' : 'this CPU has no avx512_bf16'}; bf16-rounded operands on fp32 FMAs, slower than fp32 by construction)`;
console.log(`## bf16 mixed precision vs float32${QUICK ? ' (QUICK: tiny sizes, not a measurement)' : ''}: cpu="${cpu}" isa=${native.backend().isa} bf16 path: ${path}`);
console.log('| GEMM, 1 thread | fp32 ms | bf16 ms | fp32 GFLOP/s | bf16 GFLOP/s | bf16 speedup |');
console.log('|---|---|---|---|---|---|');
for (const g of gemm) console.log(`| ${g.shape} | ${g.fp32_ms.toFixed(2)} | ${g.bf16_ms.toFixed(2)} | ${g.fp32_gflops.toFixed(1)} | ${g.bf16_gflops.toFixed(1)} | ${g.speedup.toFixed(2)}× |`);
console.log(`| W2 train step (${w2.sizes.join('-')}, batch ${w2.batch}) | fp32 ms | bf16 ms | | | bf16 speedup |`);
for (const t of train) console.log(`| ${t.threads} thread${t.threads > 1 ? 's' : ''} | ${t.fp32_ms.toFixed(2)} | ${t.bf16_ms.toFixed(2)} | | | ${t.speedup.toFixed(2)}× |`);
console.log(JSON.stringify({ figure: 'bf16', quick: QUICK, cpu, native: info.native, cpu_avx512_bf16: info.cpu, gemm, train }));

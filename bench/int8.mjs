// int8 inference (model.quantize) against fp32: the int8 GEMM vs densenorm's fp32 GEMM on one
// thread at 1024³, and W2 (784-1024-1024-10, BN folded) inference at batch 256 and 1 for int8
// densenorm, fp32 densenorm, onnxruntime-node fp32 (the folded Gemm graph densenorm exports) and
// onnxruntime-node running the dynamically quantized W2 (DynamicQuantizeLinear + MatMulInteger,
// the graph onnxruntime's quantize_dynamic writes), 1 and 2 threads, medians of alternating
// rounds. Prints the CPU model, a markdown table and one JSON line per figure.
//   node bench/int8.mjs [--quick] [--reps=N]      (BENCH_QUICK=1: tiny sizes, no ORT)
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { writeOnnxDynamicQuant } from './onnx_dynq.mjs';
const require = createRequire(import.meta.url);
const dn = require('../dist/index.js');
const { native } = require('../dist/native.js');
const { WORKLOADS, buildModel, batchData } = await import('./workloads.mjs');

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const REPS = Number((argv.find((a) => a.startsWith('--reps=')) ?? '').slice(7) || (QUICK ? 1 : 9));
const G = QUICK ? 64 : 1024;
const SIZES = QUICK ? [784, 32, 32, 10] : WORKLOADS.W2.sizes;
const BATCHES = QUICK ? [1, 8] : [1, 256];
const THREADS = QUICK ? [1] : [1, 2];
const cpu = (() => {
  let name = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    const t = require('node:fs').readFileSync('/proc/cpuinfo', 'utf8');
    const get = (k) => new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(t)?.[1];
    name += ` (family ${get('cpu family')} model ${get('model')})`;
  } catch {
    // not Linux: the model string alone
  }
  return name;
})();
const info = native.int8Info();
const lines = [];
const emit = (r) => {
  const rec = { bench: 'int8', quick: QUICK, cpu, ...r };
  lines.push(rec);
  console.log(JSON.stringify(rec));
};
const med = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

// Per-call ms of fn, each repetition running it enough times to last >= 20 ms.
async function timeMs(fn) {
  await fn();
  let inner = 1;
  if (!QUICK) {
    const t0 = performance.now();
    await fn();
    const one = performance.now() - t0;
    inner = Math.max(1, Math.ceil(20 / Math.max(one, 1e-3)));
  }
  const out = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) await fn();
    out.push((performance.now() - t0) / inner);
  }
  return med(out);
}

console.log(`# int8 bench on ${cpu}: int8 path ${info.path} (avx512_vnni ${info.vnni ? 'yes' : 'no'}), fp32 ISA ${dn.backend().isa}${QUICK ? ', quick sizes' : ''}`);

// ---- GEMM, one thread: u8·s8 → int32 → requantized u8 (epilogue included) vs fp32 sgemm ----
const saved = dn.backend().threads;
dn.setNumThreads(1);
{
  const M = G, K = G, N = G;
  const mk = (path) => new native.QuantizedNet({ path, inputInv: 1, inputZeroPoint: 0, layers: [
    { in: K, out: N, weights: Int8Array.from({ length: K * N }, (_, i) => ((i * 7) % 255) - 127), mult: new Float32Array(N).fill(1e-5), bias: new Float32Array(N), zeroPointIn: 0, relu: true, outInv: 1, outZeroPoint: 0 },
    { in: N, out: 1, weights: new Int8Array(N), mult: new Float32Array(1), bias: new Float32Array(1), zeroPointIn: 0, relu: false, outInv: 1, outZeroPoint: 0 },
  ] });
  const A8 = Uint8Array.from({ length: M * K }, (_, i) => (i * 13) % 256);
  const O8 = new Uint8Array(M * N);
  const A = new Float32Array(M * K).map((_, i) => Math.sin(i)), B = new Float32Array(K * N).map((_, i) => Math.cos(i)), C = new Float32Array(M * N);
  const paths = QUICK ? info.available : [info.path];
  const fp = [], i8 = Object.fromEntries(paths.map((p) => [p, []]));
  const nets = Object.fromEntries(paths.map((p) => [p, mk(p)]));
  for (let round = 0; round < (QUICK ? 1 : 3); round++) {
    fp.push(await timeMs(() => native.gemm(null, false, false, M, N, K, A, B, C, false)));
    for (const p of paths) i8[p].push(await timeMs(() => nets[p].layer0(A8, M, O8)));
  }
  const fpMs = med(fp);
  console.log(`\n## GEMM ${M}×${K}×${N}, 1 thread (int8 includes the requantizing epilogue)`);
  console.log('| kernel | ms | G(FL)OP/s | × fp32 |');
  console.log('|---|---|---|---|');
  console.log(`| fp32 densenorm (${dn.backend().isa}) | ${fpMs.toFixed(3)} | ${(2 * M * N * K / fpMs / 1e6).toFixed(1)} | 1.00 |`);
  emit({ figure: 'gemm_fp32', M, N, K, threads: 1, median_ms: fpMs });
  for (const p of paths) {
    const ms = med(i8[p]);
    console.log(`| int8 ${p} | ${ms.toFixed(3)} | ${(2 * M * N * K / ms / 1e6).toFixed(1)} | ${(fpMs / ms).toFixed(2)} |`);
    emit({ figure: 'gemm_int8', path: p, M, N, K, threads: 1, median_ms: ms, speedup_vs_fp32: fpMs / ms });
  }
}

// ---- W2 inference ----
const w = { ...WORKLOADS.W2, sizes: SIZES };
const model = buildModel(dn, w);
const [xc] = batchData(dn, w, 512);
model.predict(xc);
const folded = model.foldBatchNorm();
const q = model.quantize({ calibrationData: xc });
let ort, ortNote;
try {
  if (QUICK) throw new Error('skipped in quick mode');
  ort = require('onnxruntime-node');
} catch (e) {
  ortNote = e.message.split('\n')[0];
}
const sessions = {};
if (ort) {
  const fp32Bytes = dn.io.toOnnx(folded);
  const dq = writeOnnxDynamicQuant(folded);
  for (const t of THREADS) {
    const opts = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: t, interOpNumThreads: 1, executionMode: 'sequential' };
    sessions[`ort_fp32_t${t}`] = await ort.InferenceSession.create(fp32Bytes, opts);
    sessions[`ort_dynq_t${t}`] = await ort.InferenceSession.create(dq, opts);
  }
}
console.log(`\n## W2 inference (${SIZES.join('-')}, BN folded), median ms per batch (medians of alternating rounds)`);
console.log('| batch | threads | int8 densenorm | fp32 densenorm | ORT fp32 | ORT dyn-quant int8 | int8 × fp32 dn | int8 × ORT fp32 | int8 × ORT dynq |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const B of BATCHES) {
  const [xb] = batchData(dn, w, B);
  const ox = ort ? new ort.Tensor('float32', xb.data, [B, SIZES[0]]) : undefined;
  const ref = model.predict(xb).data;
  const qp = q.predict(xb).data;
  let agree = 0;
  for (let i = 0; i < B; i++) {
    const am = (a) => { let b = 0; for (let j = 1; j < 10; j++) if (a[i * 10 + j] > a[i * 10 + b]) b = j; return b; };
    agree += am(ref) === am(qp) ? 1 : 0;
  }
  for (const t of THREADS) {
    dn.setNumThreads(t);
    const r = { i8: [], fp: [], of: [], oq: [] };
    for (let round = 0; round < (QUICK ? 1 : 5); round++) {
      r.i8.push(await timeMs(() => q.predict(xb)));
      r.fp.push(await timeMs(() => model.predict(xb)));
      if (ort) {
        r.of.push(await timeMs(() => sessions[`ort_fp32_t${t}`].run({ input: ox })));
        r.oq.push(await timeMs(() => sessions[`ort_dynq_t${t}`].run({ input: ox })));
      }
    }
    const m = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.length ? med(v) : undefined]));
    const f = (v) => (v === undefined ? '—' : v.toFixed(3));
    const x = (a, b) => (a === undefined || b === undefined ? '—' : (b / a).toFixed(2));
    console.log(`| ${B} | ${t} | ${f(m.i8)} | ${f(m.fp)} | ${f(m.of)} | ${f(m.oq)} | ${x(m.i8, m.fp)} | ${x(m.i8, m.of)} | ${x(m.i8, m.oq)} |`);
    emit({ figure: 'w2_inference', batch: B, threads: t, int8_ms: m.i8, fp32_ms: m.fp, ort_fp32_ms: m.of, ort_dynq_ms: m.oq, argmax_agreement_vs_fp32: agree / B });
  }
}
dn.setNumThreads(saved);
if (ortNote) console.log(`onnxruntime-node: ${ortNote}`);

#!/usr/bin/env node
// `npm run bench`: densenorm against this machine's own limits and PyTorch, in one run.
// Builds nothing: it uses build/Release/densenorm.node and dist/ as they are (npm run build first).
//
//   npm run bench [-- --quick] [-- --threads=1,2] [-- --reps=7] [-- --no-torch] [-- --no-ort] [-- --no-limits]
//   BENCH_QUICK=1 npm run bench     tiny sizes, one repetition (what test/bench.test.mjs runs)
//
// Prints a table plus one JSON line per figure ({"bench":"densenorm",...}). Every time is the
// median of >= 5 repetitions after a warm-up (one repetition in quick mode), with min and max.
// Machine limits (fp32 FMA peak, memory bandwidth) come from two small C programs in
// bench/native/, compiled here with `cc -O3 -march=native -fopenmp` into a temp dir that lives
// until the process exits. The FMA probe also runs, briefly, right before and right after every
// GEMM and W3 timing ("local peak"): the machine's speed drifts during a run (shared VM), so each
// of those figures is reported against the start-of-run peak and against its local peak.
// PyTorch figures come from ../shared/peers/torch_bench.py run with /usr/bin/python3 (skipped
// when torch cannot be imported, and in quick mode). onnxruntime-node W2 inference figures come
// from .bench-peers/node/ort_bench.js, the writable copy of ../shared/peers that
// `npm run bench:setup-peers` makes (skipped when it has not been run, and in quick mode).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

// ---- options ------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const opt = (name) => {
  const a = argv.find((s) => s === `--${name}` || s.startsWith(`--${name}=`));
  if (!a) return undefined;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : true;
};
const QUICK = opt('quick') === true || process.env.BENCH_QUICK === '1';
const REPS = Number(opt('reps') ?? (QUICK ? 1 : 7));
const WARMUP = QUICK ? 0 : 1;
const nproc = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
const THREADS = String(opt('threads') ?? [1, Math.min(2, nproc)].filter((v, i, a) => a.indexOf(v) === i).join(','))
  .split(',').map(Number).filter((t) => t >= 1);
const WITH_TORCH = !QUICK && opt('no-torch') !== true;
const WITH_ORT = !QUICK && opt('no-ort') !== true;
const INFER_BATCHES = QUICK ? [1, 8] : [1, 256];
const WITH_LIMITS = opt('no-limits') !== true;

const dn = require(path.join(root, 'dist', 'index.js'));
const { native } = require(path.join(root, 'dist', 'native.js'));

const records = [];
const emit = (rec) => {
  const r = { bench: 'densenorm', quick: QUICK, ...rec };
  records.push(r);
  console.log(JSON.stringify(r));
};
const log = (s = '') => console.log(s);

// ---- timing -------------------------------------------------------------------------------
function stats(ts) {
  const s = [...ts].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { median_ms: +median.toFixed(4), min_ms: +s[0].toFixed(4), max_ms: +s[n - 1].toFixed(4), reps: n };
}
// Times fn() `reps` times after `warmup` calls; when one call is short, each repetition runs it
// `inner` times (so timer resolution and per-call noise do not dominate) and reports per call.
function time(fn, { reps = REPS, warmup = WARMUP, minRepMs = QUICK ? 0 : 20 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  let inner = 1;
  if (minRepMs > 0) {
    const t0 = performance.now();
    fn();
    const one = Math.max(performance.now() - t0, 1e-3);
    inner = Math.max(1, Math.min(10000, Math.ceil(minRepMs / one)));
  }
  const ts = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) fn();
    ts.push((performance.now() - t0) / inner);
  }
  return { ...stats(ts), inner };
}

function randn(n, seed = 1) {
  // xorshift + Box-Muller: reproducible synthetic data, no dependency on the façade's RNG.
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const a = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u())), t = 2 * Math.PI * u();
    a[i] = r * Math.cos(t);
    if (i + 1 < n) a[i + 1] = r * Math.sin(t);
  }
  return a;
}

// ---- machine limits -----------------------------------------------------------------------
// The temp dir with the compiled probes is kept for the whole run (peakNow() runs the FMA probe
// between figures) and removed when the process exits.
let limitsTmp = null;
let peakProbe = null; // path of the compiled peak_fma once it has built and run; null: no local peaks
const probeEnv = { ...process.env, OMP_PROC_BIND: 'close', OMP_PLACES: 'cores' };
const jsonLines = (out) => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
function removeLimitsTmp() {
  if (limitsTmp) fs.rmSync(limitsTmp, { recursive: true, force: true });
  limitsTmp = null;
  peakProbe = null;
}
process.on('exit', removeLimitsTmp);

function machineLimits() {
  const lim = { peak: {}, bw: {} };
  if (!WITH_LIMITS) return lim;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'densenorm-bench-'));
  limitsTmp = tmp;
  try {
    const maxT = Math.max(...THREADS);
    const cc = process.env.CC || 'cc';
    const build = (src, out, extra = []) =>
      execFileSync(cc, ['-O3', '-march=native', '-fopenmp', ...extra, path.join(here, 'native', src), '-o', path.join(tmp, out)], { stdio: 'pipe' });
    build('peak_fma.c', 'peak_fma');
    const peak = execFileSync(path.join(tmp, 'peak_fma'), [String(maxT), QUICK ? '1' : '5', QUICK ? '200000' : '20000000'], { env: probeEnv, encoding: 'utf8' });
    peakProbe = path.join(tmp, 'peak_fma');
    for (const r of jsonLines(peak)) {
      lim.peak[r.isa] ??= {};
      lim.peak[r.isa][r.threads] = r.gflops;
      emit({ figure: 'machine', what: 'peak_fma', isa: r.isa, threads: r.threads, gflops: r.gflops });
    }
    build('stream.c', 'stream', ['-fno-tree-loop-distribute-patterns']);
    const st = execFileSync(path.join(tmp, 'stream'), [String(maxT), QUICK ? '8' : '256', QUICK ? '1' : '5'], { env: probeEnv, encoding: 'utf8' });
    for (const r of jsonLines(st)) {
      lim.bw[`${r.size}_${r.kernel}`] ??= {};
      lim.bw[`${r.size}_${r.kernel}`][r.threads] = r.gbs;
      emit({ figure: 'machine', what: 'stream', size: r.size, kernel: r.kernel, threads: r.threads, gbs: r.gbs });
    }
  } catch (e) {
    log(`# machine limits skipped: ${String(e.message).split('\n')[0]}`);
  }
  return lim;
}

// The FMA loop that matches the active kernel path (AVX-512 only when that path is active).
const peakIsa = () => (native.backend().isa === 'avx512' ? 'avx512' : 'avx2');

// The FMA peak the active kernel path can reach, measured once at the start of the run.
function peakFor(lim, threads) {
  const p = lim.peak[peakIsa()];
  return p ? p[threads] : undefined;
}

// The FMA peak for exactly t threads right now: a short run of the same probe (warm-up + best of
// 4 trials of 10M iterations, ~0.1-0.2 s in all on AVX2; 2 x 1M in quick mode), for the ISA the
// active kernel path uses (the probe also runs its AVX-512 loop when the binary has one). undefined when limits are off or the probe did not build or run.
let peakNowFailed = false;
function peakNow(t) {
  if (!peakProbe || peakNowFailed) return undefined;
  try {
    const out = execFileSync(peakProbe, [String(t), QUICK ? '2' : '4', QUICK ? '1000000' : '10000000', String(t)], { env: probeEnv, encoding: 'utf8' });
    const isa = peakIsa();
    const r = jsonLines(out).find((j) => j.isa === isa && j.threads === t);
    return r ? r.gflops : undefined;
  } catch (e) {
    peakNowFailed = true;
    log(`# local peaks skipped: ${String(e.message).split('\n')[0]}`);
    return undefined;
  }
}

// Local peak for a figure timed between two peakNow() probes: the higher of the two.
function localPeak(before, after, gflops) {
  const vals = [before, after].filter((v) => Number.isFinite(v) && v > 0);
  const peak = vals.length ? Math.max(...vals) : undefined;
  return {
    peak_local_gflops: peak,
    pct_peak_local: peak ? +(100 * gflops / peak).toFixed(1) : undefined,
    peak_local_before: before,
    peak_local_after: after,
  };
}

// ---- GEMM ---------------------------------------------------------------------------------
function gemmShapes() {
  const q = QUICK;
  const S = q ? 64 : 1024, W = q ? 96 : 4096, B = q ? 48 : 1024;
  return [
    { name: `gemm ${S}x${S}x${S}`, M: S, N: S, K: S, ta: false, tb: false },
    { name: 'W3 fwd X·W', M: B, N: W, K: W, ta: false, tb: false },
    { name: 'W3 bwd dZ·Wᵀ', M: B, N: W, K: W, ta: false, tb: true },
    { name: 'W3 bwd Xᵀ·dZ', M: W, N: W, K: B, ta: true, tb: false },
  ];
}

function benchGemm(lim, t) {
  const out = [];
  for (const s of gemmShapes()) {
    const A = randn(s.M * s.K, 1), B = randn(s.K * s.N, 2), C = new Float32Array(s.M * s.N);
    const before = peakNow(t);
    const r = time(() => native.gemm(null, s.ta, s.tb, s.M, s.N, s.K, A, B, C, false), { minRepMs: 0 });
    const after = peakNow(t);
    const flops = 2 * s.M * s.N * s.K;
    const gflops = flops / r.median_ms / 1e6;
    const peak = peakFor(lim, t);
    const rec = {
      figure: 'gemm', workload: s.name, M: s.M, N: s.N, K: s.K, transA: s.ta, transB: s.tb, threads: t,
      api: 'native.gemm', ...r, gflops: +gflops.toFixed(1),
      pct_peak: peak ? +(100 * gflops / peak).toFixed(1) : undefined,
      ...localPeak(before, after, gflops),
    };
    emit(rec);
    out.push(rec);
  }
  return out;
}

// ---- models through the public API ----------------------------------------------------------
function mlp(sizes, act, optimizer) {
  const m = dn.sequential();
  for (let i = 1; i < sizes.length - 1; i++) {
    m.add(dn.layers.dense(i === 1 ? { units: sizes[i], useBias: false, inputDim: sizes[0] } : { units: sizes[i], useBias: false }));
    m.add(dn.layers.batchNormalization());
    m.add(dn.layers.activation({ activation: act }));
  }
  m.add(dn.layers.dense({ units: sizes[sizes.length - 1], activation: 'softmax' }));
  m.compile({ optimizer, loss: 'sparseCategoricalCrossentropy' });
  return m;
}

function classData(rows, inDim, classes, k, seed) {
  const xs = [], ys = [];
  for (let b = 0; b < k; b++) {
    xs.push(dn.tensor(randn(rows * inDim, seed + b), [rows, inDim]));
    const y = new Float32Array(rows);
    for (let i = 0; i < rows; i++) y[i] = (i * 7 + b) % classes;
    ys.push(dn.tensor(y, [rows, 1]));
  }
  return { xs, ys };
}

// The façade keeps the fused NativeNet private; the bench reaches it (JS has no private) to time
// the native step without the façade's per-call validation.
const netOf = (model, inDim) => model.graph(inDim);

function benchTrain(name, sizes, act, optimizer, batch, t) {
  const model = mlp(sizes, act, optimizer);
  const { xs, ys } = classData(batch, sizes[0], sizes[sizes.length - 1], 4, 11);
  let i = 0;
  const facade = time(() => { model.trainOnBatch(xs[i & 3], ys[i & 3]); i++; });
  emit({ figure: 'train', workload: name, mode: 'train', threads: t, batch, api: 'model.trainOnBatch', ...facade, samples_per_s: +(batch / facade.median_ms * 1e3).toFixed(1) });
  const net = netOf(model, sizes[0]);
  let it = 1000;
  const nat = time(() => { net.trainStep(xs[it & 3].data, batch, ys[it & 3].data, ++it); });
  emit({ figure: 'train', workload: name, mode: 'train', threads: t, batch, api: 'NativeNet.trainStep', ...nat, samples_per_s: +(batch / nat.median_ms * 1e3).toFixed(1) });
  model.dispose();
  return { facade, native: nat };
}

function benchW3(lim, t, gemmFwd) {
  const I = QUICK ? 96 : 4096, O = I, B = QUICK ? 48 : 1024;
  const m = dn.sequential();
  m.add(dn.layers.dense({ units: O, useBias: false, inputDim: I }));
  m.add(dn.layers.batchNormalization());
  m.add(dn.layers.activation({ activation: 'relu' }));
  m.compile({ optimizer: dn.optimizers.sgd({ learningRate: 0.01 }), loss: 'meanSquaredError' });
  const net = netOf(m, I);
  const x = randn(B * I, 5), dy = randn(B * O, 6), out = new Float32Array(B * O), dx = new Float32Array(B * I);
  const flops = 2 * B * I * O;
  // Local peaks: p0 right before the forward timing, p1 between forward and fwd+bwd, p2 after.
  const p0 = peakNow(t);
  const fwd = time(() => net.forwardTrain(x, B, false, out), { minRepMs: 0 });
  const p1 = peakNow(t);
  const fb = time(() => net.forwardBackward(x, B, dy, dx), { minRepMs: 0 });
  const p2 = peakNow(t);
  const peak = peakFor(lim, t);
  const withPeaks = (r, f, before, after) => {
    const gflops = f / r.median_ms / 1e6;
    return {
      ...r, gflops: +gflops.toFixed(1),
      pct_peak: peak ? +(100 * gflops / peak).toFixed(1) : undefined,
      ...localPeak(before, after, gflops),
    };
  };
  const res = { fwd: withPeaks(fwd, flops, p0, p1), fb: withPeaks(fb, 3 * flops, p1, p2) };
  const vsGemm = gemmFwd ? +(fwd.median_ms / gemmFwd.median_ms).toFixed(3) : undefined;
  emit({ figure: 'w3', workload: 'W3-dense-bn-big', mode: 'fwd', threads: t, batch: B, api: 'NativeNet.forwardTrain', ...res.fwd, fused_over_bare_gemm: vsGemm });
  emit({ figure: 'w3', workload: 'W3-dense-bn-big', mode: 'fwd+bwd', threads: t, batch: B, api: 'NativeNet.forwardBackward', ...res.fb });
  m.dispose();
  return { ...res, vsGemm };
}

function benchInfer(t, lim) {
  const sizes = QUICK ? [784, 32, 32, 10] : [784, 1024, 1024, 10];
  const model = mlp(sizes, 'relu', 'adam');
  const res = {};
  // Kernels, output bias, and 4 BN vectors per hidden layer: what one batch-1 call must stream.
  let weightsBytes = 4 * sizes[sizes.length - 1];
  for (let i = 1; i < sizes.length; i++) weightsBytes += 4 * sizes[i - 1] * sizes[i] + (i < sizes.length - 1 ? 16 * sizes[i] : 0);
  for (const B of INFER_BATCHES) {
    const x = dn.tensor(randn(B * 784, 21 + B), [B, 784]);
    const facade = time(() => model.predict(x));
    const net = netOf(model, 784);
    const out = new Float32Array(B * 10);
    const nat = time(() => net.predict(x.data, B, out));
    const bw = lim.bw.l3_read?.[t];
    const bound = B === 1 && bw ? +(weightsBytes / (bw * 1e9) * 1e3).toFixed(4) : undefined;
    emit({ figure: 'infer', workload: 'W2-mlp-wide', mode: 'infer', threads: t, batch: B, api: 'model.predict', ...facade });
    emit({ figure: 'infer', workload: 'W2-mlp-wide', mode: 'infer', threads: t, batch: B, api: 'NativeNet.predict', ...nat, weights_bytes: weightsBytes, weights_over_l3_read_ms: bound });
    res[B] = { facade, native: nat, bound };
  }
  model.dispose();
  return res;
}

// ---- PyTorch peer -------------------------------------------------------------------------
function torchPeer() {
  const script = process.env.TORCH_BENCH || path.resolve(root, '..', 'shared', 'peers', 'torch_bench.py');
  const py = '/usr/bin/python3';
  if (!WITH_TORCH) return { note: QUICK ? 'skipped in quick mode' : 'skipped (--no-torch)', rows: [] };
  if (!fs.existsSync(script)) return { note: `skipped: ${script} not found`, rows: [] };
  const probe = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return { note: 'skipped: /usr/bin/python3 cannot import torch (apt-get install python3-torch)', rows: [] };
  const rows = [];
  const runs = [];
  for (const t of THREADS) {
    runs.push({ t, env: { OMP_NUM_THREADS: String(t), OPENBLAS_NUM_THREADS: String(t) } });
    if (t > 1) runs.push({ t, env: { OMP_NUM_THREADS: String(t), OPENBLAS_NUM_THREADS: String(t), OMP_WAIT_POLICY: 'passive' } });
  }
  for (const r of runs) {
    log(`# torch_bench.py --threads ${r.t} ${r.env.OMP_WAIT_POLICY ? '(OMP_WAIT_POLICY=passive)' : ''}`);
    const p = spawnSync(py, [script, '--threads', String(r.t), '--budget', '2'], { env: { ...process.env, ...r.env }, encoding: 'utf8', maxBuffer: 1 << 24 });
    if (p.status !== 0) {
      const err = (p.stderr || '').trim().split('\n').slice(-1)[0];
      log(`# torch_bench.py failed: ${err}${/libopenblas/.test(err) ? ' (apt-get install -y libopenblas0-pthread: the peer drives OpenBLAS directly)' : ''}`);
      continue;
    }
    peerLines(p.stdout, rows);
  }
  return { rows };
}

// A peer script's JSON lines: kept in rows and echoed tagged as a peer's.
function peerLines(stdout, rows) {
  for (const l of stdout.split('\n')) {
    if (!l.startsWith('{')) continue;
    const j = JSON.parse(l);
    rows.push(j);
    console.log(JSON.stringify({ bench: 'peer', ...j }));
  }
}

// ---- onnxruntime-node peer ----------------------------------------------------------------
// W2 inference only, with the BN-folded model (Gemm+Relu ×2, Gemm: what densenorm's predict
// computes). Runs the copy in .bench-peers/ (shared/ is read-only; ort_bench.js needs its
// node_modules and the models export_onnx.py writes next to it), one process per thread count
// (intraOpNumThreads = t, interOpNumThreads 1; ORT's CPU EP uses its own pool, not OpenMP).
function ortPeer() {
  const dir = path.join(root, '.bench-peers', 'node');
  const script = path.join(dir, 'ort_bench.js');
  if (!WITH_ORT) return { note: QUICK ? 'skipped in quick mode' : 'skipped (--no-ort)', rows: [] };
  const need = [script, path.join(dir, 'node_modules', 'onnxruntime-node'), path.join(dir, 'models', 'w2_eval_folded.onnx'), path.join(dir, 'models', 'w2_ref.json')];
  if (need.some((f) => !fs.existsSync(f))) {
    return { note: 'skipped: not set up — run `npm run bench:setup-peers` once (copies ../shared/peers to .bench-peers/, installs onnxruntime-node 1.30, exports the W2 ONNX models)', rows: [] };
  }
  const rows = [];
  for (const t of THREADS) {
    log(`# ort_bench.js --threads=${t} --model=folded`);
    const p = spawnSync(process.execPath, [script, `--threads=${t}`, '--model=folded', `--batches=${INFER_BATCHES.join(',')}`, '--budget=2'],
      { cwd: dir, env: process.env, encoding: 'utf8', maxBuffer: 1 << 24 });
    for (const l of (p.stderr || '').split('\n')) if (l.startsWith('# ')) log(l);
    if (p.status !== 0) {
      log(`# ort_bench.js failed: ${(p.stderr || '').trim().split('\n').slice(-1)[0]}`);
      continue;
    }
    peerLines(p.stdout, rows);
  }
  return { rows };
}

// Best (lowest median) peer time for a workload/mode/batch over thread counts (and torch's wait policies).
function peerBest(rows, workload, mode, batch) {
  let best;
  for (const r of rows) if (r.workload === workload && r.mode === mode && r.batch === batch && (!best || r.median_ms < best.median_ms)) best = r;
  return best;
}
function peerAt(rows, workload, mode, batch, threads) {
  let best;
  for (const r of rows) if (r.workload === workload && r.mode === mode && r.batch === batch && r.threads === threads && (!best || r.median_ms < best.median_ms)) best = r;
  return best;
}

// ---- main ---------------------------------------------------------------------------------
const fmt = (v, d = 3) => (v === undefined || v === null || Number.isNaN(v) ? '—' : Number(v).toFixed(d));
const mmm = (r) => `${fmt(r.median_ms)} [${fmt(r.min_ms)}, ${fmt(r.max_ms)}]`;

function main() {
  try {
    runBench();
  } finally {
    removeLimitsTmp();
  }
}

function runBench() {
  const t0 = performance.now();
  const be = native.backend();
  log(`# densenorm bench${QUICK ? ' (QUICK: tiny sizes, 1 rep — not a measurement)' : ''}: isa=${be.isa} detected=${be.detected} threads=${THREADS.join(',')} ` +
      `reps=${REPS} node=${process.version} cpu="${os.cpus()[0]?.model}" nproc=${nproc} load=${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  emit({ figure: 'config', isa: be.isa, detected: be.detected, threads: THREADS, reps: REPS, cpu: os.cpus()[0]?.model, nproc, node: process.version, version: dn.version });

  const lim = machineLimits();
  const torch = torchPeer();
  const ort = ortPeer();
  const saved = be.threads;
  const per = {};
  for (const t of THREADS) {
    native.setNumThreads(t);
    const g = benchGemm(lim, t);
    const w1 = benchTrain('W1-bn-paper-mnist', QUICK ? [784, 16, 16, 16, 10] : [784, 100, 100, 100, 10], 'sigmoid', dn.optimizers.sgd({ learningRate: 0.01 }), QUICK ? 8 : 60, t);
    const w2 = benchTrain('W2-mlp-wide', QUICK ? [784, 32, 32, 10] : [784, 1024, 1024, 10], 'relu', dn.optimizers.adam({ learningRate: 1e-3 }), QUICK ? 8 : 256, t);
    const w3 = benchW3(lim, t, g[1]);
    const inf = benchInfer(t, lim);
    per[t] = { g, w1, w2, w3, inf };
  }
  native.setNumThreads(saved);

  // ---- table ----
  log('');
  log('## Machine limits (measured in this run)');
  log('| threads | fp32 FMA peak avx2 GFLOP/s | avx512 | L2 read GB/s | L3 read GB/s | DRAM read GB/s | DRAM triad GB/s |');
  log('|---|---|---|---|---|---|---|');
  for (const t of THREADS) {
    const b = (k) => fmt(lim.bw[k]?.[t], 1);
    log(`| ${t} | ${fmt(lim.peak.avx2?.[t], 1)} | ${fmt(lim.peak.avx512?.[t], 1)} | ${b('l2_read')} | ${b('l3_read')} | ${b('dram_read')} | ${b('dram_triad')} |`);
  }
  log('');
  log('## GEMM (native.gemm, threaded driver; ms median [min, max])');
  log('| shape (M×N×K) | threads | ms | GFLOP/s | % of peak | local peak GFLOP/s | % of local peak | ×1-thread |');
  log('|---|---|---|---|---|---|---|---|');
  for (let i = 0; i < gemmShapes().length; i++) {
    for (const t of THREADS) {
      const r = per[t].g[i], r1 = per[THREADS[0]].g[i];
      log(`| ${r.workload} ${r.M}×${r.N}×${r.K}${r.transA ? ' ta' : ''}${r.transB ? ' tb' : ''} | ${t} | ${mmm(r)} | ${fmt(r.gflops, 1)} | ${fmt(r.pct_peak, 1)} | ${fmt(r.peak_local_gflops, 1)} | ${fmt(r.pct_peak_local, 1)} | ${fmt(r.gflops / r1.gflops, 2)} |`);
    }
  }
  log('');
  log('## Workloads (ms median [min, max]; torch / ORT = best of its thread counts in this run; ratio = peer ms / densenorm ms, > 1 = densenorm faster)');
  log('| workload | threads | densenorm façade | densenorm native | GFLOP/s | torch same threads | torch best | ratio vs torch best | ORT same threads | ORT best | ratio vs ORT best |');
  log('|---|---|---|---|---|---|---|---|---|---|---|');
  const rows = torch.rows;
  const line = (wl, mode, batch, t, fac, nat, gf) => {
    const same = peerAt(rows, wl, mode, batch, t), best = peerBest(rows, wl, mode, batch);
    const mine = nat ?? fac;
    const ratio = best ? best.median_ms / mine.median_ms : undefined;
    // ORT runs W2 inference only, with BN folded into the Gemms (mode infer-folded).
    const oMode = mode === 'infer' ? 'infer-folded' : undefined;
    const oSame = oMode && peerAt(ort.rows, wl, oMode, batch, t), oBest = oMode && peerBest(ort.rows, wl, oMode, batch);
    const oRatio = oBest ? oBest.median_ms / mine.median_ms : undefined;
    log(`| ${wl} ${mode} B=${batch} | ${t} | ${fac ? mmm(fac) : '—'} | ${nat ? mmm(nat) : '—'} | ${gf ?? '—'} | ${same ? fmt(same.median_ms) : '—'} | ${best ? `${fmt(best.median_ms)} (t=${best.threads}${best.peer.includes('passive') ? ' passive' : ''})` : '—'} | ${ratio ? `${fmt(ratio, 2)}×` : '—'} | ` +
        `${oSame ? fmt(oSame.median_ms) : '—'} | ${oBest ? `${fmt(oBest.median_ms)} (t=${oBest.threads})` : '—'} | ${oRatio ? `${fmt(oRatio, 2)}×` : '—'} |`);
    if (best) emit({ figure: 'ratio', workload: wl, mode, batch, threads: t, densenorm_ms: mine.median_ms, torch_best_ms: best.median_ms, torch_best_threads: best.threads, torch_peer: best.peer, speedup_vs_torch_best: +ratio.toFixed(3) });
    if (oBest) emit({ figure: 'ratio', workload: wl, mode, batch, threads: t, densenorm_ms: mine.median_ms, ort_best_ms: oBest.median_ms, ort_best_threads: oBest.threads, ort_peer: `${oBest.peer} ${oBest.version} ${oBest.mode}`, speedup_vs_ort_best: +oRatio.toFixed(3) });
  };
  const B1 = QUICK ? 8 : 60, B2 = QUICK ? 8 : 256, B3 = QUICK ? 48 : 1024, BI = QUICK ? 8 : 256;
  for (const t of THREADS) line('W1-bn-paper-mnist', 'train', B1, t, per[t].w1.facade, per[t].w1.native);
  for (const t of THREADS) line('W2-mlp-wide', 'train', B2, t, per[t].w2.facade, per[t].w2.native);
  for (const t of THREADS) line('W3-dense-bn-big', 'fwd', B3, t, undefined, per[t].w3.fwd, per[t].w3.fwd.gflops);
  for (const t of THREADS) line('W3-dense-bn-big', 'fwd+bwd', B3, t, undefined, per[t].w3.fb, per[t].w3.fb.gflops);
  for (const t of THREADS) line('W2-mlp-wide', 'infer', 1, t, per[t].inf[1].facade, per[t].inf[1].native);
  for (const t of THREADS) line('W2-mlp-wide', 'infer', BI, t, per[t].inf[BI].facade, per[t].inf[BI].native);
  log('');
  for (const t of THREADS) {
    const w3 = per[t].w3;
    const pcts = (r) => `${fmt(r.pct_peak, 1)}% of peak, ${fmt(r.pct_peak_local, 1)}% of local peak ${fmt(r.peak_local_gflops, 1)}`;
    log(`t=${t}: W3 fused forward / bare GEMM = ${fmt(w3.vsGemm, 3)}×; W3 fwd ${fmt(w3.fwd.gflops, 1)} GFLOP/s (${pcts(w3.fwd)}), ` +
        `fwd+bwd ${fmt(w3.fb.gflops, 1)} GFLOP/s (${pcts(w3.fb)}); ` +
        `W2 batch-1 inference ${fmt(per[t].inf[1].native.median_ms)} ms vs weights÷L3-read ${fmt(per[t].inf[1].bound, 3)} ms`);
  }
  if (torch.note) log(`torch: ${torch.note}`);
  if (ort.note) log(`onnxruntime-node: ${ort.note}`);
  log('façade = public API (model.trainOnBatch / model.predict, with its per-call validation); native = the same fused NativeNet called directly; W3 and GEMM rows are native only.');
  log('% of peak = against the fp32 FMA peak measured once at the start of the run (Machine limits table). ' +
      'local peak = the same FMA peak (same threads, the ISA of the active kernel path) measured with a short probe immediately before and immediately after that figure, ' +
      'the higher of the two; % of local peak is against it (this machine\'s speed drifts during a run, so the start-of-run peak can be stale). ' +
      `W3 GFLOP/s count 2·B·I·O for the forward and 3× that for fwd+bwd.${peakProbe && !peakNowFailed ? '' : ' (local peaks not measured: limits off or the probe did not build)'}`);
  log(`# done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

main();

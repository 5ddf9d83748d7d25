// The bench must not rot: run `npm run bench -- --quick` (tiny sizes, one repetition, one round,
// no torch) and check it prints the table and a JSON line for every figure; then the same with two
// interleaved rounds. Timings are never asserted.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The default number of rounds is under test: an inherited BENCH_ROUNDS must not change it.
const { BENCH_ROUNDS: _ignored, ...withoutRounds } = process.env;

// Runs the quick bench with env; returns its output and its JSON lines.
function quickBench(env) {
  const out = execFileSync(process.execPath, [path.join(root, 'bench', 'bench.mjs'), '--quick', '--threads=1,2'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...env, BENCH_QUICK: '1' },
  });
  return { out, json: out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)) };
}

describe('bench (quick mode)', function () {
  this.timeout(120000);
  let out;
  let json;
  before(() => {
    ({ out, json } = quickBench(withoutRounds));
  });

  it('prints the tables', () => {
    expect(out).to.include('## GEMM');
    expect(out).to.include('## Workloads');
    expect(out).to.include('W3 fused forward / bare GEMM');
  });

  it('emits one JSON line per figure with median, min and max', () => {
    const mine = json.filter((r) => r.bench === 'densenorm' && r.median_ms !== undefined);
    for (const wl of ['W1-bn-paper-mnist', 'W2-mlp-wide', 'W3-dense-bn-big']) {
      expect(mine.some((r) => r.workload === wl), wl).to.equal(true);
    }
    expect(mine.filter((r) => r.figure === 'gemm')).to.have.length(8);
    for (const r of mine) {
      expect(r.quick).to.equal(true);
      expect(r.min_ms).to.be.at.most(r.median_ms);
      expect(r.max_ms).to.be.at.least(r.median_ms);
      expect(Number.isFinite(r.median_ms)).to.equal(true);
    }
    expect(json.some((r) => r.figure === 'infer' && r.batch === 1 && r.api === 'NativeNet.predict')).to.equal(true);
    expect(json.some((r) => r.figure === 'train' && r.api === 'model.trainOnBatch')).to.equal(true);
    // model.fit per batch, for W1 and W2 at every thread count
    for (const wl of ['W1-bn-paper-mnist', 'W2-mlp-wide'])
      expect(json.some((r) => r.figure === 'fit' && r.workload === wl && r.api === 'model.fit' && r.median_ms > 0 &&
        r.paired_native_step_ms > 0 && r.fit_over_step > 0), `fit ${wl}`).to.equal(true);
  });

  it('reports the bf16 figure (GEMM shapes, W2 step on 1 and 2 threads, which path ran, the CPU)', () => {
    const r = json.find((x) => x.figure === 'bf16');
    expect(r, 'bf16 record').to.not.equal(undefined);
    expect(r.gemm.map((g) => g.shape)).to.have.length(4);
    expect(r.train.map((t) => t.threads)).to.deep.equal([1, 2]);
    for (const g of [...r.gemm, ...r.train]) expect(g.speedup).to.be.above(0);
    expect(typeof r.native).to.equal('boolean');
    expect(r.cpu).to.be.a('string');
  });

  it('names the CPU kind in the header and on every JSON line', () => {
    const cpu = json.find((r) => r.figure === 'cpu');
    expect(cpu, 'a cpu record').to.be.an('object');
    expect(out).to.match(/^# cpu: .+ — /m);
    for (const r of json.filter((x) => x.bench === 'densenorm')) expect(r.cpu_kind, JSON.stringify(r)).to.equal(cpu.kind);
    if (fs.existsSync('/proc/cpuinfo')) expect(cpu.vendor).to.be.a('string').and.not.equal('');
    if (fs.existsSync('/sys/devices/system/cpu/cpu0/cache/index0')) expect(cpu.l1d_bytes).to.be.above(0);
    // The two FMA peaks are there whenever the machine limits ran on an AVX-512 machine.
    const peaks = json.filter((r) => r.figure === 'machine' && r.what === 'peak_fma' && r.threads === 1);
    for (const p of peaks) expect(cpu[`fma_${p.isa}_1t_gflops`]).to.equal(p.gflops);
  });

  it('reports each GEMM and W3 figure against a local peak measured around it', function () {
    // The test runs with machine limits on: the FMA probe builds with cc and runs before and after
    // every GEMM/W3 timing. Where no C compiler is available the bench skips the limits (and says
    // so); so does this check. The values are timings: only presence and consistency are checked.
    if (!json.some((r) => r.figure === 'machine' && r.what === 'peak_fma')) this.skip();
    const figs = json.filter((r) => r.bench === 'densenorm' && (r.figure === 'gemm' || r.figure === 'w3'));
    expect(figs).to.have.length(12);
    for (const r of figs) {
      expect(r.peak_local_gflops, `${r.workload} ${r.mode ?? ''} t=${r.threads}`).to.be.above(0);
      expect(Number.isFinite(r.pct_peak_local)).to.equal(true);
      expect(r.peak_local_gflops).to.equal(Math.max(r.peak_local_before, r.peak_local_after));
    }
    expect(out).to.include('% of local peak');
  });

  it('runs one round in quick mode and says so', () => {
    const config = json.find((r) => r.figure === 'config');
    expect(config.rounds).to.equal(1);
    expect(out).to.match(/rounds=1 /);
    const perRound = json.filter((r) => r.bench === 'densenorm' && ['train', 'w3', 'infer'].includes(r.figure));
    expect(perRound.length).to.be.above(0);
    for (const r of perRound) expect(r.round).to.equal(1);
    // GEMM and machine limits are measured once, outside the rounds.
    for (const r of json.filter((j) => j.figure === 'gemm' || j.figure === 'machine')) expect(r.round).to.equal(undefined);
  });

  it('gives batched inference its GFLOP/s (the figure the ORT note under the table compares with the peak)', () => {
    // the quick W2 is 784-32-32-10: 2·B·(784·32 + 32·32 + 32·10) flops per batch of B = 8
    const flops = 2 * 8 * (784 * 32 + 32 * 32 + 32 * 10);
    for (const t of [1, 2]) {
      const nat = json.find((r) => r.figure === 'infer' && r.batch === 8 && r.threads === t && r.api === 'NativeNet.predict');
      const row = out.split('\n').find((l) => l.startsWith(`| W2-mlp-wide infer B=8 | ${t} |`));
      expect(row, `table row t=${t}`).to.be.a('string');
      const gf = Number(row.split('|')[5]);
      expect(gf).to.be.closeTo(flops / nat.median_ms / 1e6, 0.051 + 1e-3 * gf);
    }
    // one-thread rows with no flops given (training, batch 1) keep the dash
    expect(out.split('\n').find((l) => l.startsWith('| W2-mlp-wide infer B=1 | 1 |')).split('|')[5].trim()).to.equal('—');
  });

  it('skips the torch and onnxruntime-node peers in quick mode', () => {
    expect(json.some((r) => r.bench === 'peer')).to.equal(false);
    expect(out).to.include('torch: skipped in quick mode');
    expect(out).to.include('onnxruntime-node: skipped in quick mode');
  });
});

describe('bench (quick mode, 2 interleaved rounds)', function () {
  this.timeout(120000);
  let out;
  let json;
  before(() => {
    ({ out, json } = quickBench({ ...process.env, BENCH_ROUNDS: '2' }));
  });

  it('runs every workload once per round, and GEMM once', () => {
    expect(json.find((r) => r.figure === 'config').rounds).to.equal(2);
    const w3 = json.filter((r) => r.bench === 'densenorm' && r.figure === 'w3');
    expect(w3.filter((r) => r.round === 1)).to.have.length(4);
    expect(w3.filter((r) => r.round === 2)).to.have.length(4);
    expect(json.filter((r) => r.bench === 'densenorm' && r.figure === 'gemm')).to.have.length(8);
    expect(out).to.include('# round 2/2');
  });

  it('reports W3 over the rounds', () => {
    const agg = json.filter((r) => r.figure === 'w3_over_rounds');
    expect(agg).to.have.length(2);
    for (const r of agg) {
      expect(r.rounds).to.equal(2);
      expect(r.fwd_ms_per_round).to.have.length(2);
      expect(r.fused_over_bare_gemm_per_round).to.have.length(2);
    }
    expect(out).to.include('W3 fused forward / bare GEMM');
    expect(out).to.include('median over 2 rounds');
  });
});

describe('bench CPU description (bench/cpu_info.mjs)', () => {
  let ci;
  before(async () => {
    ci = await import(path.join(root, 'bench', 'cpu_info.mjs'));
  });

  it('reads vendor, family and model of the first processor from /proc/cpuinfo text', () => {
    const amd = 'processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC 9R14\n\n' +
      'processor\t: 1\nvendor_id\t: Other\ncpu family\t: 1\nmodel\t\t: 2\n';
    expect(ci.parseCpuinfo(amd)).to.deep.include({ vendor: 'AuthenticAMD', family: 25, model: 17, name: 'AMD EPYC 9R14' });
    const arm = 'processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n';
    expect(ci.parseCpuinfo(arm)).to.deep.include({ vendor: '0x41', model: '0xd0c' });
  });

  it('reads data and unified cache sizes per level, skipping instruction caches', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dn-cache-'));
    try {
      const mk = (i, level, type, size) => {
        fs.mkdirSync(path.join(dir, `index${i}`));
        for (const [f, v] of Object.entries({ level, type, size })) fs.writeFileSync(path.join(dir, `index${i}`, f), `${v}\n`);
      };
      mk(0, 1, 'Data', '32K');
      mk(1, 1, 'Instruction', '64K');
      mk(2, 2, 'Unified', '1024K');
      mk(3, 3, 'Unified', '32M');
      expect(ci.cacheSizes(dir)).to.deep.equal({ l1d: 32768, l2: 1048576, l3: 32 * 1048576 });
      expect(ci.cacheSizes(path.join(dir, 'missing'))).to.deep.equal({});
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('adds both 1-thread FMA peaks and their ratio when given, and says them in the header', () => {
    const info = ci.cpuInfo({ avx2: { 1: 114, 2: 220 }, avx512: { 1: 114.5, 2: 221 } });
    expect(info.fma_avx2_1t_gflops).to.equal(114);
    expect(info.fma_avx512_1t_gflops).to.equal(114.5);
    expect(info.fma_avx512_over_avx2).to.equal(1);
    expect(ci.cpuHeader(info)).to.include('avx2 114, avx512 114.5').and.include('AVX-512 : AVX2 = 1');
    expect(ci.cpuInfo({}).fma_avx2_1t_gflops).to.equal(undefined);
  });
});

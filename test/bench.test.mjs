// The bench must not rot: run `npm run bench -- --quick` (tiny sizes, one repetition, no torch)
// and check it prints the table and a JSON line for every figure. Timings are never asserted.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('bench (quick mode)', function () {
  this.timeout(120000);
  let out;
  let json;
  before(() => {
    out = execFileSync(process.execPath, [path.join(root, 'bench', 'bench.mjs'), '--quick', '--threads=1,2'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, BENCH_QUICK: '1' },
    });
    json = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
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
  });

  it('skips the torch and onnxruntime-node peers in quick mode', () => {
    expect(json.some((r) => r.bench === 'peer')).to.equal(false);
    expect(out).to.include('torch: skipped in quick mode');
    expect(out).to.include('onnxruntime-node: skipped in quick mode');
  });
});

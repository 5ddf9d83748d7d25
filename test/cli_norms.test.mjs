// densenorm experiment --compare norms: a tiny run (table, results.json, norms.svg, same initial
// kernels for every method, ghost BN skipped below batch 8), its usage errors, and the README's
// documented command.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './helpers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const METHODS = ['none', 'batchNorm', 'batchRenorm', 'ghostBatchNorm', 'layerNorm', 'groupNorm'];

describe('densenorm experiment --compare norms', function () {
  this.timeout(120000);
  let tmp;
  let tiny;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'densenorm-norms-'));
    tiny = await runCli(tmp, ['experiment', '--compare', 'norms', '--steps', '20', '--batch-sizes', '2,8', '--eval-every', '10', '--out', 'out']);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('prints a row for every method at every batch size (ghost BN "—" at batch 2)', () => {
    expect(tiny.code, tiny.stderr).to.equal(0);
    expect(tiny.stdout).to.match(/method +batch +lr +final test acc +best test acc +steps to 90% +ms\/step/);
    for (const m of METHODS) {
      for (const [b, lr] of [['2', '0.00625'], ['8', '0.025']]) {
        const line = tiny.stdout.split('\n').find((l) => new RegExp(`^${m} +${b} +${lr} `).test(l));
        expect(line, `${m} at batch ${b}`).to.be.a('string');
        const cells = line.trim().split(/ {2,}/);
        expect(cells).to.have.length(7);
        if (m === 'ghostBatchNorm' && b === '2') expect(cells.slice(3)).to.deep.equal(['—', '—', '—', '—']);
        else {
          expect(cells[3]).to.match(/^\d+\.\d\d%$/);
          expect(cells[5]).to.match(/^(> 20|10|20)$/);
          expect(Number(cells[6])).to.be.greaterThan(0);
        }
      }
    }
    expect(tiny.stdout).to.match(/final test acc +b=2 +b=8/);
  });

  it('writes results.json: one run per method × batch, accuracies in [0, 1], the lr scaled with the batch', () => {
    const res = JSON.parse(fs.readFileSync(path.join(tmp, 'out/results.json'), 'utf8'));
    expect(res.config).to.include({ steps: 20, evalEvery: 10, baseLearningRate: 0.1, architecture: '784-100-100-100-10 ReLU' });
    expect(res.config.batchSizes).to.deep.equal([2, 8]);
    expect(res.runs).to.have.length(12);
    expect(res.runs.map((r) => `${r.batchSize}:${r.method}`)).to.deep.equal([2, 8].flatMap((b) => METHODS.map((m) => `${b}:${m}`)));
    for (const r of res.runs) {
      expect(r.learningRate).to.be.closeTo((0.1 * r.batchSize) / 32, 1e-12);
      if (r.method === 'ghostBatchNorm' && r.batchSize === 2) {
        expect(r.skipped).to.be.a('string');
        expect(r.finalTestAccuracy).to.equal(null);
        continue;
      }
      expect(r.skipped).to.equal(null);
      expect(r.stepsRun).to.equal(20);
      expect(r.curve.step).to.deep.equal([0, 10, 20]);
      for (const a of [r.finalTestAccuracy, r.bestTestAccuracy, ...r.curve.testAccuracy]) expect(a).to.be.within(0, 1);
      expect(r.bestTestAccuracy).to.equal(Math.max(...r.curve.testAccuracy));
      expect(r.finalTestAccuracy).to.equal(r.curve.testAccuracy[2]);
      expect(r.msPerStep).to.be.greaterThan(0);
    }
    expect(res.runs.find((r) => r.method === 'ghostBatchNorm' && r.batchSize === 8).layer).to.deep.equal({ className: 'BatchNormalization', virtualBatchSize: 2 });
    expect(res.runs.find((r) => r.method === 'groupNorm').layer).to.deep.equal({ className: 'GroupNormalization', groups: 10 });
    expect(res.runs.find((r) => r.method === 'batchRenorm').layer.renormClipping).to.deep.equal({ rmax: 3, rmin: 1 / 3, dmax: 5 });
  });

  it('trains every method from the same initial Dense kernels', () => {
    const res = JSON.parse(fs.readFileSync(path.join(tmp, 'out/results.json'), 'utf8'));
    const hashes = res.runs.filter((r) => !r.skipped).map((r) => r.initKernelHash);
    expect(hashes).to.have.length(11);
    expect(hashes[0]).to.match(/^[0-9a-f]{8}$/);
    expect(new Set(hashes).size).to.equal(1);
    // The same weights and batches: the unnormalized net at batch 2 and 8 starts from one test accuracy.
    const none = res.runs.filter((r) => r.method === 'none');
    expect(none[0].curve.testAccuracy[0]).to.equal(none[1].curve.testAccuracy[0]);
  });

  it('writes norms.svg: a log-x chart with one line per method', () => {
    const svg = fs.readFileSync(path.join(tmp, 'out/norms.svg'), 'utf8');
    expect(svg.startsWith('<svg')).to.equal(true);
    expect(svg.trim().endsWith('</svg>')).to.equal(true);
    expect(svg.match(/<g[ >]/g).length).to.equal(svg.match(/<\/g>/g).length);
    const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]*)"><title>([^<]*)<\/title>/g)];
    expect(lines.map((m) => m[2])).to.deep.equal(['no normalization', 'batch norm', 'batch renorm', 'ghost batch norm (b/4)', 'layer norm', 'group norm (10 groups)']);
    for (const [, pts, label] of lines) expect(pts.split(' '), label).to.have.length(label.startsWith('ghost') ? 1 : 2);
    expect(svg).to.include('batch size (log scale)');
    expect(svg).to.match(/>2<\/text>/);
    expect(svg).to.match(/>8<\/text>/);
  });

  it('--json prints results.json alone on stdout', async () => {
    const r = await runCli(tmp, ['experiment', '--compare=norms', '--steps', '2', '--batch-sizes', '4', '--json', '--out', 'j']);
    expect(r.code, r.stderr).to.equal(0);
    const res = JSON.parse(r.stdout);
    expect(res.runs).to.have.length(6);
    expect(res).to.deep.equal(JSON.parse(fs.readFileSync(path.join(tmp, 'j/results.json'), 'utf8')));
  });

  for (const [args, message] of [
    [['--compare', 'foo'], /--compare expects norms, got "foo"/],
    [['--compare', 'norms', '--batch-sizes', '0,x'], /--batch-sizes expects comma-separated integers >= 2 .*got "0,x"/],
    [['--compare', 'norms', '--batch-sizes', '1'], /--batch-sizes expects comma-separated integers >= 2/],
    [['--compare', 'norms', '--batch-sizes', '4,,8'], /--batch-sizes expects/],
    [['--compare', 'norms', '--batch-sizes', '9000'], /9000 is larger than the 8,000 training rows/],
    [['--compare', 'norms', '--steps', '0'], /--steps expects an integer/],
    [['--compare', 'norms', '--base-lr', '0'], /--base-lr expects a number > 0/],
    [['--compare', 'norms', '--hidden', '15'], /--hidden must be a multiple of 10/],
    [['--compare', 'norms', '--lr', '0.1'], /Unknown option '--lr'/],
  ]) {
    it(`${args.join(' ')} is a usage error`, async () => {
      const r = await runCli(tmp, ['experiment', ...args, '--out', 'bad']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/^densenorm: error: /);
      expect(r.stderr).to.match(message);
      expect(r.stdout).to.equal('');
      expect(fs.existsSync(path.join(tmp, 'bad'))).to.equal(false);
    });
  }

  it('--help lists the flags; experiment --help mentions --compare norms', async () => {
    const r = await runCli(tmp, ['experiment', '--compare', 'norms', '--help']);
    expect(r.code).to.equal(0);
    for (const f of ['--batch-sizes', '--steps', '--base-lr', '--eval-every', '--out', '--json']) expect(r.stdout).to.include(f);
    const e = await runCli(tmp, ['experiment', '--help']);
    expect(e.stdout).to.include('--compare norms');
  });

  it("runs the README's documented command (with fewer steps)", async () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const cmd = readme.match(/^densenorm (experiment --compare norms[^\n#]*)/m);
    expect(cmd, 'README shows a densenorm experiment --compare norms command').to.not.equal(null);
    const args = cmd[1].trim().split(/\s+/);
    expect(args).to.include('--batch-sizes');
    // The documented flags, with --steps cut so the test stays short.
    const r = await runCli(tmp, [...args, '--steps', '4', '--eval-every', '2', '--out', 'readme']);
    expect(r.code, r.stderr).to.equal(0);
    expect(fs.existsSync(path.join(tmp, 'readme/norms.svg'))).to.equal(true);
    const res = JSON.parse(fs.readFileSync(path.join(tmp, 'readme/results.json'), 'utf8'));
    expect(res.config.steps).to.equal(4);
  });
});

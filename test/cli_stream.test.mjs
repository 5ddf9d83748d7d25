// densenorm train on files over --max-memory (streamed through fitDataset), the history.json /
// history.svg every train writes, and --dropout. DENSENORM_STREAM_TEST_MB (default 8) sets the
// size of the generated CSV whose child's peak resident memory (VmHWM) must stay under 300 MB;
// run with DENSENORM_STREAM_TEST_MB=1024 for the 1 GB case.
import { expect } from 'chai';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './helpers.mjs';

const require = createRequire(import.meta.url);
const dn = require('../dist/index.js');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PEAK = path.join(root, 'test', 'fixtures', 'peak-rss.cjs');
const STREAM_MB = Number(process.env.DENSENORM_STREAM_TEST_MB ?? 8);

let tmp;
const file = (name) => path.join(tmp, name);

const run = (args, { peak = false } = {}) => runCli(tmp, args, peak ? ['-r', PEAK] : []);

// Two classes from a linear rule on 4 features; deterministic.
function classRow(i) {
  const a = Math.sin(i * 0.7);
  const b = Math.cos(i * 1.3);
  const c = ((i * 37) % 101) / 101;
  const d = Math.sin(i * 0.11) * 3;
  return [a.toFixed(5), b.toFixed(5), c.toFixed(5), d.toFixed(5), a + 0.5 * b - c > 0 ? 'yes' : 'no'];
}

/** Well-formed XML: every tag closed in order, attributes quoted, one root. Returns the element names seen. */
function checkXml(text) {
  const body = text.replace(/^<\?xml[^>]*\?>\s*/, '');
  const stack = [];
  const names = [];
  let roots = 0;
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|>/g;
  let m;
  let last = 0;
  while ((m = re.exec(body))) {
    const between = body.slice(last, m.index);
    if (/[<>]/.test(between)) throw new Error(`stray markup near ${m.index}`);
    last = re.lastIndex;
    if (m[2] === undefined) throw new Error(`malformed tag near ${m.index}: ${body.slice(m.index, m.index + 40)}`);
    if (/&(?!amp;|lt;|gt;|quot;|apos;|#)/.test(between)) throw new Error('unescaped &');
    if (m[1]) {
      if (stack.pop() !== m[2]) throw new Error(`</${m[2]}> closes the wrong element`);
    } else {
      if (stack.length === 0) roots++;
      names.push(m[2]);
      if (!m[4]) stack.push(m[2]);
    }
  }
  if (stack.length) throw new Error(`unclosed ${stack.join(', ')}`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return names;
}

describe('densenorm train: streaming, history files, --dropout', function () {
  this.timeout(Math.max(180000, STREAM_MB * 2000));

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'densenorm-stream-'));
    const lines = ['a,b,c,d,label'];
    for (let i = 0; i < 2000; i++) lines.push(classRow(i).join(','));
    fs.writeFileSync(file('small.csv'), lines.join('\n') + '\n');
    const jl = [];
    for (let i = 0; i < 600; i++) {
      const x1 = Math.sin(i);
      const x2 = Math.cos(i * 0.3) * 4;
      jl.push(JSON.stringify({ x1, x2, price: 3 * x1 - x2 + 50 }));
    }
    fs.writeFileSync(file('reg.jsonl'), jl.join('\n') + '\n');
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a CSV over --max-memory streams: trains, validates on the last rows, saves model and history', async () => {
    const r = await run(['train', '--data', 'small.csv', '--max-memory', '0', '--layers', '16', '--epochs', '3', '--seed', '4', '--shuffle-buffer', '300', '--out', 'm1']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/small\.csv \(streamed\): 1,800 train \/ 200 validation rows · 4 features/);
    expect(r.stdout.split('\n').filter((l) => /^epoch \d\/3 .*val_acc/.test(l))).to.have.length(3);
    expect(r.stdout).to.match(/validation accuracy [\d.]+% .*\(200 rows\)/);
    const acc = Number(/validation accuracy ([\d.]+)%/.exec(r.stdout)[1]);
    expect(acc).to.be.greaterThan(65);
    expect(r.stdout).to.match(/Wrote the training history to m1\/history\.json and m1\/history\.svg/);
    const pre = JSON.parse(fs.readFileSync(file('m1/preprocessing.json'), 'utf8'));
    expect(pre.training.streamed).to.equal(true);
    expect(pre.classes).to.deep.equal(['no', 'yes']);
    const m = await dn.loadModel(file('m1'));
    expect(m.inputDim).to.equal(4);
  });

  it('streamed statistics equal the in-memory ones (no split: both over every row)', async () => {
    const a = await run(['train', '--data', 'small.csv', '--max-memory', '0', '--validation-split', '0', '--layers', '8', '--epochs', '1', '--seed', '1', '--out', 'ms']);
    const b = await run(['train', '--data', 'small.csv', '--validation-split', '0', '--layers', '8', '--epochs', '1', '--seed', '1', '--out', 'mm']);
    expect(a.code, a.stderr).to.equal(0);
    expect(b.code, b.stderr).to.equal(0);
    const pa = JSON.parse(fs.readFileSync(file('ms/preprocessing.json'), 'utf8'));
    const pb = JSON.parse(fs.readFileSync(file('mm/preprocessing.json'), 'utf8'));
    expect(pb.training.streamed).to.equal(false);
    for (let j = 0; j < 4; j++) {
      expect(pa.mean[j]).to.be.closeTo(pb.mean[j], 1e-6);
      expect(pa.std[j]).to.be.closeTo(pb.std[j], 1e-6);
    }
    expect(pa.classes).to.deep.equal(pb.classes);
  });

  it('a JSONL regression file streams, and its history has mse and val_mse', async () => {
    const r = await run(['train', '--data', 'reg.jsonl', '--max-memory', '0', '--layers', '16', '--epochs', '4', '--seed', '2', '--out', 'mr', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const result = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((o) => o.type === 'result');
    expect(result.validation.rows).to.equal(60);
    expect(result.history_json).to.equal(path.join('mr', 'history.json'));
    const h = JSON.parse(fs.readFileSync(file('mr/history.json'), 'utf8'));
    expect(Object.keys(h)).to.deep.equal(['epoch', 'loss', 'mse', 'val_loss', 'val_mse', 'learning_rate']);
    for (const k of Object.keys(h)) expect(h[k], k).to.have.length(4);
    const pre = JSON.parse(fs.readFileSync(file('mr/preprocessing.json'), 'utf8'));
    expect(h.mse[0]).to.be.closeTo(h.loss[0] * pre.target.std ** 2, 1e-9 * h.mse[0]);
  });

  it('history.json is Keras history.history with epochs; history.svg is well-formed XML with axes, labels, legend and every series', async () => {
    const r = await run(['train', '--data', 'small.csv', '--layers', '8', '--epochs', '3', '--seed', '3', '--out', 'mh']);
    expect(r.code, r.stderr).to.equal(0);
    const h = JSON.parse(fs.readFileSync(file('mh/history.json'), 'utf8'));
    expect(h.epoch).to.deep.equal([0, 1, 2]);
    expect(Object.keys(h)).to.deep.equal(['epoch', 'loss', 'acc', 'val_loss', 'val_acc', 'learning_rate']);
    for (const k of ['loss', 'acc', 'val_loss', 'val_acc']) {
      expect(h[k]).to.have.length(3);
      expect(h[k].every(Number.isFinite), k).to.equal(true);
    }
    const epochLines = r.stdout.split('\n').filter((l) => /^epoch \d\/3/.test(l));
    const lastAcc = Number(/ val_acc ([\d.]+)%/.exec(epochLines[2])[1]);
    expect(h.val_acc[2] * 100).to.be.closeTo(lastAcc, 0.006);
    const svg = fs.readFileSync(file('mh/history.svg'), 'utf8');
    const names = checkXml(svg);
    expect(names[0]).to.equal('svg');
    expect(svg).to.match(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const polylines = [...svg.matchAll(/<polyline [^>]*points="([^"]+)"><title>([^<]+)<\/title>/g)];
    expect(polylines.map((p) => p[2])).to.deep.equal(['training', 'validation', 'training', 'validation']);
    for (const p of polylines) expect(p[1].trim().split(' ')).to.have.length(3);
    for (const t of ['>Loss<', '>Accuracy<', '>epoch<', '>loss<', '>acc<']) expect(svg, t).to.include(t);
    expect(svg).to.match(/<g class="legend">[\s\S]*>training<[\s\S]*>validation</);
  });

  it('--dropout RATE adds a dropout layer after each hidden block; a rate outside [0, 1) is a usage error', async () => {
    const r = await run(['train', '--data', 'small.csv', '--layers', '16,8', '--dropout', '0.25', '--epochs', '1', '--seed', '3', '--out', 'md']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/dropout 0\.25/);
    const m = await dn.loadModel(file('md'));
    const kinds = m.layers.map((l) => l.constructor.name);
    expect(kinds).to.deep.equal(['Dense', 'BatchNormalization', 'Activation', 'Dropout', 'Dense', 'BatchNormalization', 'Activation', 'Dropout', 'Dense']);
    expect(m.layers.filter((l) => l.constructor.name === 'Dropout').map((l) => l.rate)).to.deep.equal([0.25, 0.25]);
    const pre = JSON.parse(fs.readFileSync(file('md/preprocessing.json'), 'utf8'));
    expect(pre.training.architecture.dropout).to.equal(0.25);
    const none = await run(['train', '--data', 'small.csv', '--layers', '8', '--epochs', '1', '--seed', '3', '--out', 'm0']);
    expect((await dn.loadModel(file('m0'))).layers.some((l) => l.constructor.name === 'Dropout')).to.equal(false);
    expect(none.code).to.equal(0);
    for (const bad of ['1', '1.5', '-0.1', 'abc']) {
      const e = await run(['train', '--data', 'small.csv', `--dropout=${bad}`, '--out', 'mx']);
      expect(e.code, bad).to.equal(2);
      expect(e.stderr).to.include(`--dropout expects a rate in [0, 1), got "${bad}"`);
    }
    const e = await run(['train', '--data', 'small.csv', '--max-memory=-1', '--out', 'mx']);
    expect(e.code).to.equal(2);
    expect(e.stderr).to.match(/--max-memory expects a size in MB >= 0/);
  });

  it(`a generated ${STREAM_MB} MB CSV trains streamed with the child's peak resident memory under 300 MB`, async function () {
    if (!fs.existsSync('/proc/self/status')) this.skip();
    const big = file('big.csv');
    const fd = fs.openSync(big, 'w');
    fs.writeSync(fd, 'a,b,c,d,label\n');
    let bytes = 0;
    let i = 0;
    const target = STREAM_MB * 2 ** 20;
    while (bytes < target) {
      const chunk = [];
      for (let k = 0; k < 20000; k++, i++) chunk.push(classRow(i).join(','));
      const s = chunk.join('\n') + '\n';
      fs.writeSync(fd, s);
      bytes += s.length;
    }
    fs.closeSync(fd);
    const t0 = Date.now();
    const r = await run(['train', '--data', 'big.csv', '--max-memory', String(Math.max(1, STREAM_MB / 2)), '--layers', '32,16', '--batch-size', '256', '--epochs', '1', '--seed', '5', '--out', 'mbig'], { peak: true });
    const seconds = (Date.now() - t0) / 1000;
    fs.rmSync(big);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/\(streamed\)/);
    const kb = Number(/peak-rss-kb (\d+)/.exec(r.stderr)[1]);
    console.log(`      ${STREAM_MB} MB CSV (${i.toLocaleString('en-US')} rows): peak RSS ${(kb / 1024).toFixed(0)} MB, ${seconds.toFixed(1)} s`);
    // AddressSanitizer's shadow memory and quarantine add hundreds of MB of RSS: the bound is the
    // uninstrumented build's (npm test); the sanitizer run still checks the streamed run itself.
    if (process.env.DENSENORM_SANITIZE_RUN) return;
    expect(kb / 1024).to.be.below(300);
  });
});

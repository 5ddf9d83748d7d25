// Model files: hostile or truncated model.json / weights.safetensors give a DensenormError naming
// the problem (never a huge allocation or a crash); Python safetensors interop both ways; save is
// crash safe (a child saving in a loop is SIGKILLed at random moments, the model always loads).
import { expect } from 'chai';
import { rejects } from './helpers.mjs';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const dn = require('../dist/index.js');
const here = path.dirname(fileURLToPath(import.meta.url));
const isa = dn.backend().isa;

const X = [[0.5, -1, 2], [1, 0.25, -0.5], [-2, 1, 0], [0.1, 0.2, 0.3]];

function makeModel(seed, prefix = 'm') {
  dn.setSeed(seed);
  const m = dn.sequential({
    layers: [
      dn.layers.dense({ units: 5, inputShape: [3], name: `${prefix}_d1` }),
      dn.layers.batchNormalization({ name: `${prefix}_bn` }),
      dn.layers.activation({ activation: 'relu', name: `${prefix}_act` }),
      dn.layers.dense({ units: 2, activation: 'softmax', name: `${prefix}_d2` }),
    ],
  });
  // non-trivial moving statistics
  for (const l of m.layers) {
    if (l.className === 'BatchNormalization') {
      const v = [(j) => 1 + 0.1 * j, (j) => 0.1 * j - 0.2, (j) => 0.05 * j - 0.1, (j) => 0.5 + 0.1 * j + 0.01 * seed];
      l.setWeightValues(l.weights.map((w, i) => new Float32Array(w.value.length).map((_, j) => v[i](j))));
    }
  }
  return m;
}

const preds = (m) => Array.from(m.predict(X).data);
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');


async function expectFileError(dir, re) {
  const e = await rejects(dn.loadModel(dir));
  expect(e.name, e.stack).to.equal('DensenormError');
  expect(e.code).to.equal('ERR_MODEL_FILE');
  expect(e.message).to.match(re);
  return e;
}

/** Builds a safetensors file the way Python's safetensors.serialize does. */
function pythonStyleSafetensors(tensors, metadata) {
  // prepare(): sort by dtype alignment (descending) then name; all ours are F32 (alignment 4).
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const t of sorted) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + t.data.length * 4] };
    off += t.data.length * 4;
  }
  let json = Buffer.from(JSON.stringify(header)); // serde_json: compact
  const pad = (8 - (json.length % 8)) % 8;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const data = Buffer.alloc(off);
  let pos = 0;
  for (const t of sorted) {
    for (let i = 0; i < t.data.length; i++) data.writeFloatLE(t.data[i], pos + 4 * i);
    pos += t.data.length * 4;
  }
  return Buffer.concat([len, json, data]);
}

describe(`model files (isa=${isa})`, function () {
  this.timeout(120000);
  let tmp;
  let base; // a saved model, copied for each corruption
  let baseJson;
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'densenorm-files-'));
    base = path.join(tmp, 'base');
    await makeModel(1, 'base').save(base);
    baseJson = JSON.parse(fs.readFileSync(path.join(base, 'model.json'), 'utf8'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  let n = 0;
  /** A copy of the base model with model.json edited by fn (and weights replaced when given, sha256 fixed). */
  function variant({ json, weights, keepSha = false } = {}) {
    const d = path.join(tmp, `v${n++}`);
    fs.mkdirSync(d);
    const w = weights ?? fs.readFileSync(path.join(base, 'weights.safetensors'));
    fs.writeFileSync(path.join(d, 'weights.safetensors'), w);
    const j = structuredClone(baseJson);
    if (!keepSha) j.weights.sha256 = sha256(w);
    const out = json ? json(j) : j;
    fs.writeFileSync(path.join(d, 'model.json'), typeof out === 'string' ? out : JSON.stringify(out));
    return d;
  }

  describe('hostile model.json', () => {
    it('the base model loads', async () => {
      const m = await dn.loadModel(variant());
      expect(m.layers.length).to.equal(4);
    });
    it('truncated JSON → invalid JSON', async () => {
      const text = fs.readFileSync(path.join(base, 'model.json'), 'utf8');
      for (const cut of [0, 1, 10, Math.floor(text.length / 2), text.length - 2]) {
        await expectFileError(variant({ json: () => text.slice(0, cut) }), /model\.json.*(invalid JSON|not a densenorm)/);
      }
    });
    it('not a densenorm model / wrong version / wrong class', async () => {
      await expectFileError(variant({ json: () => '[1,2,3]' }), /not a densenorm model/);
      await expectFileError(variant({ json: (j) => ({ ...j, format: 'keras' }) }), /not a densenorm model/);
      await expectFileError(variant({ json: (j) => ({ ...j, formatVersion: 99 }) }), /formatVersion 99/);
      await expectFileError(variant({ json: (j) => ({ ...j, className: 'Functional' }) }), /model class Functional/);
    });
    it('absurd or wrong-typed inputDim', async () => {
      for (const v of [0, -1, 2.5, '3', null, 1e12, 2 ** 60]) {
        await expectFileError(variant({ json: (j) => ({ ...j, inputDim: v }) }), /inputDim/);
      }
    });
    it('absurd units are rejected without allocating', async () => {
      const rss0 = process.memoryUsage().rss;
      await expectFileError(variant({ json: (j) => (j.layers[0].config.units = 1e9, j) }), /layers\[0\].*units/);
      await expectFileError(variant({ json: (j) => (j.layers[0].config.units = -5, j) }), /layers\[0\].*units/);
      await expectFileError(variant({ json: (j) => (j.layers[0].config.units = 'many', j) }), /layers\[0\].*units/);
      // every dimension allowed, their product not: 2^24 inputs × 2^10 units
      await expectFileError(
        variant({ json: (j) => ({ ...j, inputDim: 2 ** 24, layers: [{ className: 'Dense', config: { name: 'x', units: 1024 } }] }) }),
        /more than the 1073741824 limit/,
      );
      // several layers that add up
      const big = { className: 'Dense', config: { units: 16000 } };
      await expectFileError(
        variant({ json: (j) => ({ ...j, inputDim: 16000, layers: [1, 2, 3, 4, 5].map((i) => ({ ...big, config: { ...big.config, name: `b${i}` } })) }) }),
        /weights \(more than/,
      );
      expect(process.memoryUsage().rss - rss0).to.be.below(200 * 1024 * 1024);
    });
    it('layer entries: unknown class, unknown activation, bad shapes, duplicates, wrong types', async () => {
      await expectFileError(variant({ json: (j) => (j.layers[1].className = 'Conv2D', j) }), /layers\[1\].*Conv2D/);
      await expectFileError(variant({ json: (j) => (j.layers[3].config.activation = 'gelu', j) }), /layers\[3\].*activation/);
      await expectFileError(variant({ json: (j) => (j.layers[0].config.batchInputShape = [null, 7], j) }), /7/);
      await expectFileError(variant({ json: (j) => (j.layers[2].config.name = j.layers[0].config.name, j) }), /unique layer name/);
      await expectFileError(variant({ json: (j) => (j.layers[1] = 'BatchNormalization', j) }), /layers\[1\] must be/);
      await expectFileError(variant({ json: (j) => (j.layers[1].config = null, j) }), /layers\[1\] must be/);
      await expectFileError(variant({ json: (j) => ({ ...j, layers: [] }) }), /non-empty/);
      await expectFileError(variant({ json: (j) => ({ ...j, layers: {} }) }), /non-empty array/);
      await expectFileError(variant({ json: (j) => (j.layers[1].config.momentum = 7, j) }), /momentum/);
      await expectFileError(variant({ json: (j) => (j.layers[0].config.surprise = 1, j) }), /surprise/);
    });
    it('a malformed sha256 or weights entry', async () => {
      await expectFileError(variant({ json: (j) => (j.weights.sha256 = 'abc', j) }), /sha256/);
      await expectFileError(variant({ json: (j) => (j.weights.sha256 = 12, j) }), /sha256/);
      await expectFileError(variant({ json: (j) => ({ ...j, weights: 'weights.safetensors' }) }), /weights must be an object/);
    });
    it('a model.json larger than 64 MiB is refused without being read', async () => {
      const d = variant();
      fs.truncateSync(path.join(d, 'model.json'), 200 * 1024 * 1024); // sparse
      await expectFileError(d, /bytes, more than the/);
    });
    it('a FIFO or a directory in place of a file → error, never a hang', async function () {
      if (process.platform === 'win32') this.skip();
      const d = variant();
      fs.unlinkSync(path.join(d, 'model.json'));
      const mk = spawnSync('mkfifo', [path.join(d, 'model.json')]);
      if (mk.status !== 0) this.skip();
      await expectFileError(d, /not a regular file/);
      const d2 = variant();
      fs.unlinkSync(path.join(d2, 'weights.safetensors'));
      spawnSync('mkfifo', [path.join(d2, 'weights.safetensors')]);
      await expectFileError(d2, /not a regular file/);
      const d3 = variant();
      fs.unlinkSync(path.join(d3, 'weights.safetensors'));
      fs.mkdirSync(path.join(d3, 'weights.safetensors'));
      await expectFileError(d3, /not a regular file/);
      // saving over a directory whose files are FIFOs must not hang either
      const d4 = path.join(tmp, 'fifo-save');
      fs.mkdirSync(d4);
      spawnSync('mkfifo', [path.join(d4, 'model.json')]);
      await makeModel(3, 'fifo').save(d4);
      expect(fs.statSync(path.join(d4, 'model.json')).isFile()).to.equal(true);
    });

    it('hostile numBatchesTracked values are ignored', async () => {
      const d = variant({ json: (j) => (j.batchNormalization.numBatchesTracked = { base_bn: 'x', __proto__: 5 }, j) });
      const m = await dn.loadModel(d);
      expect(m.layers[1].numBatchesTracked[0]).to.be.a('number');
    });
  });

  describe('hostile weights.safetensors', () => {
    const weightsOf = () => fs.readFileSync(path.join(base, 'weights.safetensors'));
    const header = (buf) => {
      const n = Number(buf.readBigUInt64LE(0));
      return { n, h: JSON.parse(buf.subarray(8, 8 + n).toString()) };
    };
    const rebuild = (h, data) => {
      const json = Buffer.from(JSON.stringify(h));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(json.length));
      return Buffer.concat([len, json, data]);
    };
    it('missing file', async () => {
      const d = variant();
      fs.unlinkSync(path.join(d, 'weights.safetensors'));
      await expectFileError(d, /cannot read weights \(ENOENT\)/);
    });
    it('SHA-256 mismatch (a flipped byte, a truncation) → names the mismatch', async () => {
      const w = weightsOf();
      w[w.length - 3] ^= 1;
      await expectFileError(variant({ weights: w, keepSha: true }), /SHA-256 differs/);
      await expectFileError(variant({ weights: weightsOf().subarray(0, 100), keepSha: true }), /SHA-256 differs/);
    });
    it('truncations with a matching hash → names the structural problem', async () => {
      const w = weightsOf();
      for (const cut of [0, 4, 8, 20, header(w).n + 8, w.length - 4]) {
        await expectFileError(variant({ weights: w.subarray(0, cut) }), /invalid safetensors file/);
      }
    });
    it('a tensor with the wrong shape, a missing or an extra tensor', async () => {
      const w = weightsOf();
      const { n, h } = header(w);
      const data = w.subarray(8 + n);
      const h1 = structuredClone(h);
      h1['base_d1/kernel'].shape = [5, 3];
      await expectFileError(variant({ weights: rebuild(h1, data) }), /base_d1\/kernel" has shape \[5,3\], expected \[3,5\]/);
      const h2 = structuredClone(h);
      h2['base_d1/kernels'] = h2['base_d1/kernel'];
      delete h2['base_d1/kernel'];
      await expectFileError(variant({ weights: rebuild(h2, data) }), /missing tensor "base_d1\/kernel"/);
      const h3 = structuredClone(h);
      const end = data.length;
      h3.extra = { dtype: 'F32', shape: [1], data_offsets: [end, end + 4] };
      await expectFileError(variant({ weights: rebuild(h3, Buffer.concat([data, Buffer.alloc(4)])) }), /unexpected tensor "extra"/);
    });
    it('dtypes, offsets beyond the file, overlaps, a header length of 2^63', async () => {
      const w = weightsOf();
      const { n, h } = header(w);
      const data = w.subarray(8 + n);
      const h1 = structuredClone(h);
      h1['base_d1/bias'].dtype = 'F16';
      await expectFileError(variant({ weights: rebuild(h1, data) }), /dtype a string "F16"/);
      const h2 = structuredClone(h);
      h2['base_d1/bias'].data_offsets = [2 ** 40, 2 ** 40 + 20];
      await expectFileError(variant({ weights: rebuild(h2, data) }), /beyond the/);
      const h3 = structuredClone(h);
      h3['base_d1/bias'].data_offsets = h3['base_d1/kernel'].data_offsets.map((o) => o);
      h3['base_d1/bias'].shape = [15];
      await expectFileError(variant({ weights: rebuild(h3, data) }), /invalid safetensors|shape/);
      const big = Buffer.from(w);
      big.writeBigUInt64LE(2n ** 63n, 0);
      await expectFileError(variant({ weights: big }), /header length/);
      const nul = Buffer.from(w);
      nul.fill(0, 8, 8 + n);
      await expectFileError(variant({ weights: nul }), /header/);
    });
    it('a weights file far larger than the architecture needs is refused without being read', async () => {
      const d = variant({ json: (j) => (delete j.weights.sha256, j) });
      fs.truncateSync(path.join(d, 'weights.safetensors'), 300 * 1024 * 1024); // sparse
      const rss0 = process.memoryUsage().rss;
      await expectFileError(d, /bytes, more than the \d+ bytes/);
      expect(process.memoryUsage().rss - rss0).to.be.below(100 * 1024 * 1024);
    });
  });

  describe('Python safetensors interop', () => {
    it('a file laid out as Python safetensors writes it (sorted names, __metadata__, compact padded header) loads', async () => {
      const src = makeModel(7, 'py');
      const d0 = path.join(tmp, 'py-src');
      await src.save(d0);
      const tensors = src.layers.flatMap((l) => l.weights.map((w) => ({ name: `${l.name}/${w.name}`, shape: w.shape, data: w.value })));
      const buf = pythonStyleSafetensors(tensors, { format: 'pt' });
      // the layout differs from ours (alphabetical order), so this is a real test of the reader
      expect(buf.equals(fs.readFileSync(path.join(d0, 'weights.safetensors')))).to.equal(false);
      const json = JSON.parse(fs.readFileSync(path.join(d0, 'model.json'), 'utf8'));
      for (const withSha of [true, false]) {
        const d = path.join(tmp, `py-${withSha}`);
        fs.mkdirSync(d);
        fs.writeFileSync(path.join(d, 'weights.safetensors'), buf);
        const j = structuredClone(json);
        if (withSha) j.weights.sha256 = sha256(buf);
        else delete j.weights.sha256;
        fs.writeFileSync(path.join(d, 'model.json'), JSON.stringify(j));
        const m = await dn.loadModel(d);
        expect(preds(m), `sha256 ${withSha ? 'given' : 'absent'}`).to.deep.equal(preds(src));
        expect(m.getWeights().map((t) => Array.from(t.data))).to.deep.equal(src.getWeights().map((t) => Array.from(t.data)));
      }
    });

    const py = spawnSync('python3', ['-c', 'import json, struct; print("ok")'], { encoding: 'utf8' });
    (py.status === 0 ? it : it.skip)('files densenorm writes are read by a Python (stdlib) safetensors reader', async () => {
      const m = makeModel(9, 'pyread');
      const d = path.join(tmp, 'pyread');
      await m.save(d);
      const script = `
import json, struct, sys
path = sys.argv[1]
with open(path, "rb") as f:
    raw = f.read()
(n,) = struct.unpack("<Q", raw[:8])
assert n % 8 == 0, "header not 8-byte aligned"
header = json.loads(raw[8:8 + n].decode("utf-8"))
meta = header.pop("__metadata__", {})
base = 8 + n
out = {"metadata": meta, "tensors": {}}
for name, info in header.items():
    assert info["dtype"] == "F32", info
    s, e = info["data_offsets"]
    count = 1
    for d in info["shape"]:
        count *= d
    assert e - s == 4 * count, (name, s, e, count)
    vals = struct.unpack("<%df" % count, raw[base + s:base + e])
    out["tensors"][name] = {"shape": info["shape"], "values": list(vals)}
assert base + max(i["data_offsets"][1] for i in header.values()) == len(raw), "trailing bytes"
print(json.dumps(out))
`;
      const env = { ...process.env };
      delete env.LD_PRELOAD; // the sanitizer run preloads libasan; python is not instrumented
      const r = spawnSync('python3', ['-c', script, path.join(d, 'weights.safetensors')], { encoding: 'utf8', env });
      expect(r.status, r.stderr).to.equal(0);
      const got = JSON.parse(r.stdout);
      expect(got.metadata).to.deep.equal({ format: 'pt', producer: 'densenorm' });
      const expected = {};
      for (const l of m.layers) for (const w of l.weights) expected[`${l.name}/${w.name}`] = { shape: w.shape, values: Array.from(w.value) };
      expect(got.tensors).to.deep.equal(expected);
    });
  });

  describe('crash-safe save', () => {
    let refA;
    let refB;
    let predA;
    let predB;
    before(async () => {
      const a = makeModel(21, 'kt');
      const b = makeModel(22, 'kt');
      predA = preds(a);
      predB = preds(b);
      expect(predA).to.not.deep.equal(predB);
      refA = path.join(tmp, 'refA');
      refB = path.join(tmp, 'refB');
      await a.save(refA);
      await b.save(refB);
    });

    it('save leaves exactly model.json and weights.safetensors, also over an existing model', async () => {
      const d = path.join(tmp, 'resave');
      const a = await dn.loadModel(refA);
      const b = await dn.loadModel(refB);
      await a.save(d);
      await b.save(d);
      await a.save(d);
      expect(fs.readdirSync(d).sort()).to.deep.equal(['model.json', 'weights.safetensors']);
      expect(preds(await dn.loadModel(d))).to.deep.equal(predA);
    });

    it('the state a kill between the two renames leaves (new weights, old model.json) loads the old model; the next save cleans up', async () => {
      const d = path.join(tmp, 'torn');
      fs.cpSync(refA, d, { recursive: true });
      const jsonA = JSON.parse(fs.readFileSync(path.join(d, 'model.json'), 'utf8'));
      // what steps 1 and 2 of save() leave behind
      fs.linkSync(path.join(d, 'weights.safetensors'), path.join(d, `.weights-${jsonA.weights.sha256}.safetensors`));
      fs.copyFileSync(path.join(refB, 'weights.safetensors'), path.join(d, 'new.tmp'));
      fs.renameSync(path.join(d, 'new.tmp'), path.join(d, 'weights.safetensors'));
      // and a temp file of a process that no longer exists
      fs.writeFileSync(path.join(d, '.model.json.999999999.abcdef012345.tmp'), 'partial');
      expect(preds(await dn.loadModel(d))).to.deep.equal(predA);
      // without the kept weights the pair is detected as torn, not silently mixed
      const d2 = path.join(tmp, 'torn2');
      fs.cpSync(d, d2, { recursive: true });
      fs.unlinkSync(path.join(d2, `.weights-${jsonA.weights.sha256}.safetensors`));
      await expectFileError(d2, /SHA-256 differs/);
      // a save on top of the torn state (killed again right after its backup step would find it)
      const b = await dn.loadModel(refB);
      await b.save(d);
      expect(fs.readdirSync(d).sort()).to.deep.equal(['model.json', 'weights.safetensors']);
      expect(preds(await dn.loadModel(d))).to.deep.equal(predB);
    });

    it('kill test: a child saving in a loop is SIGKILLed at random moments 24 times; every time loadModel gives the complete old or new model', async function () {
      this.timeout(240000);
      const target = path.join(tmp, 'killed');
      const kills = 24;
      const seen = { A: 0, B: 0, backupPresent: 0 };
      let seed = 12345;
      const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
      for (let k = 0; k < kills; k++) {
        const child = spawn(process.execPath, [path.join(here, 'fixtures', 'save-loop.mjs'), refA, refB, target], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        await new Promise((resolve, reject) => {
          child.stdout.on('data', (d) => d.toString().includes('ready') && resolve());
          child.on('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
        });
        await new Promise((r) => setTimeout(r, rand() * 40));
        const exited = new Promise((r) => child.on('exit', r));
        child.kill('SIGKILL');
        await exited;
        if (fs.readdirSync(target).some((f) => f.startsWith('.weights-'))) seen.backupPresent++;
        const p = preds(await dn.loadModel(target));
        const which = JSON.stringify(p) === JSON.stringify(predA) ? 'A' : JSON.stringify(p) === JSON.stringify(predB) ? 'B' : '?';
        expect(which, `kill ${k}: predictions match neither saved version`).to.not.equal('?');
        seen[which]++;
      }
      expect(seen.A + seen.B).to.equal(kills);
      if (process.env.DENSENORM_KILL_TEST_VERBOSE) console.log('kill test:', seen);
    });
  });
});

// int8 inference (model.quantize) and batch-norm folding (model.foldBatchNorm): every int8 path
// bit-identical to the JavaScript integer reference on odd shapes, the fp32 result near a double
// evaluation, folding within 1e-5 of predict, MNIST accuracy, files, and bad input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dn, native, caught } from './helpers.mjs';
import { int8ForwardRef } from './int8_reference.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'dn-int8-'));
let seed = 7;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const bits = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function randomSpec(sizes) {
  return {
    inputInv: 1 / 0.013,
    inputZeroPoint: 117,
    layers: sizes.slice(1).map((out, i) => ({
      in: sizes[i],
      out,
      weights: Int8Array.from({ length: sizes[i] * out }, () => Math.floor(rnd() * 255) - 127),
      mult: Float32Array.from({ length: out }, () => 1e-4 * (0.5 + rnd())),
      bias: Float32Array.from({ length: out }, () => rnd() - 0.5),
      zeroPointIn: i === 0 ? 117 : i % 2 ? 0 : 9,
      relu: i % 2 === 0,
      outInv: 1 / 0.02,
      outZeroPoint: i % 2 ? 9 : 0,
    })),
  };
}

describe('int8 kernels', function () {
  this.timeout(60000);
  const paths = native.int8Info().available;

  it('runs a path that matches the CPU and DENSENORM_ISA / DENSENORM_NO_VNNI', () => {
    const info = native.int8Info();
    assert.ok(paths.includes(info.path));
    const isa = dn.backend().isa;
    const expected = isa === 'avx512' ? (info.vnni && !process.env.DENSENORM_NO_VNNI ? 'avx512_vnni' : 'avx512') : isa;
    assert.equal(info.path, expected);
  });

  it('DENSENORM_NO_VNNI=1 forces the widening fallback on a VNNI CPU', function () {
    if (!native.int8Info().vnni || dn.backend().isa !== 'avx512') this.skip();
    const r = spawnSync(process.execPath, ['-e', "console.log(require('./dist/native.js').native.int8Info().path)"], {
      cwd: path.join(here, '..'),
      env: { ...process.env, DENSENORM_NO_VNNI: '1' },
      encoding: 'utf8',
    });
    assert.equal(r.stdout.trim(), 'avx512');
  });

  for (const sizes of [[1, 1], [3, 17, 5], [33, 257, 3], [17, 33, 65, 1], [257, 1, 33]]) {
    it(`every path equals the integer reference bit for bit: ${sizes.join('-')}`, () => {
      for (const rows of [1, 3, 17, 33]) {
        const spec = randomSpec(sizes);
        const x = Float32Array.from({ length: rows * sizes[0] }, () => rnd() * 4 - 2);
        const ref = int8ForwardRef(spec, x, rows);
        for (const p of paths) {
          const out = new Float32Array(rows * sizes.at(-1));
          new native.QuantizedNet({ ...spec, path: p }).predict(x, rows, out);
          assert.ok(bits(out).equals(bits(ref)), `${p} rows ${rows}`);
        }
      }
    });
  }

  it('is the same bits on a worker thread (predictAsync) and with many rows (threaded split)', async () => {
    const spec = randomSpec([33, 257, 17]);
    const rows = 257;
    const x = Float32Array.from({ length: rows * 33 }, () => rnd() * 4 - 2);
    const ref = int8ForwardRef(spec, x, rows);
    for (const p of paths) {
      const out = new Float32Array(rows * 17);
      await new native.QuantizedNet({ ...spec, path: p }).predictAsync(x, rows, out);
      assert.ok(bits(out).equals(bits(ref)), p);
    }
  });

  it('rejects native specs that would be unsafe', () => {
    const spec = randomSpec([3, 4]);
    assert.throws(() => new native.QuantizedNet({ ...spec, layers: [{ ...spec.layers[0], weights: new Int8Array(5) }] }), /Expected 12 elements/);
    assert.throws(() => new native.QuantizedNet({ ...spec, path: 'neon' }), /path/);
    const net = new native.QuantizedNet(spec);
    assert.throws(() => net.predict(new Float32Array(4), 1, new Float32Array(4)), /Expected 3 elements for x/);
  });
});

function trainedModel(layers, inputDim, rows = 64) {
  const m = dn.sequential({ layers });
  m.compile({ optimizer: dn.optimizers.adam({ learningRate: 1e-2 }), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const x = dn.tensor(Float32Array.from({ length: rows * inputDim }, () => rnd() * 2 - 1), [rows, inputDim]);
  const y = new Float32Array(rows * 3);
  for (let i = 0; i < rows; i++) y[i * 3 + (i % 3)] = 1;
  return { m, x, y: dn.tensor(y, [rows, 3]) };
}

const maxRel = (a, b) => {
  let r = 0;
  for (let i = 0; i < a.length; i++) r = Math.max(r, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-3));
  return r;
};

describe('foldBatchNorm', function () {
  this.timeout(60000);
  const L = dn.layers;
  const archs = {
    'dense → BN → relu': () => [L.dense({ units: 17, inputShape: [5], useBias: false }), L.batchNormalization(), L.activation({ activation: 'relu' }), L.dense({ units: 3, activation: 'softmax' })],
    'dense(relu) → BN → dense (BN after the activation)': () => [L.dense({ units: 33, inputShape: [5], activation: 'relu' }), L.batchNormalization(), L.dense({ units: 3, activation: 'softmax' })],
    'input BN, dropout, tanh': () => [L.batchNormalization({ inputShape: [5] }), L.dense({ units: 9 }), L.batchNormalization(), L.activation({ activation: 'tanh' }), L.dropout({ rate: 0.2 }), L.dense({ units: 3, activation: 'softmax' })],
    'two BNs in a row, no gamma': () => [L.dense({ units: 8, inputShape: [5] }), L.activation({ activation: 'relu' }), L.batchNormalization({ scale: false }), L.batchNormalization(), L.dense({ units: 3, activation: 'softmax' })],
  };
  for (const [name, layers] of Object.entries(archs)) {
    it(`equals predict within 1e-5 relative: ${name}`, async () => {
      const { m, x, y } = trainedModel(layers(), 5);
      await m.fit(x, y, { epochs: 3, batchSize: 16, verbose: 0 });
      const f = m.foldBatchNorm();
      assert.ok(f.layers.every((l) => l.className !== 'BatchNormalization'));
      assert.ok(maxRel(f.predict(x).data, m.predict(x).data) <= 1e-5);
      assert.equal(typeof f.evaluate(x, y).accuracy, 'number');
    });
  }

  it('refuses a batch norm after a nonlinearity with no Dense after it, and unsupported layers', () => {
    const a = dn.sequential({ layers: [L.dense({ units: 4, inputShape: [3], activation: 'relu' }), L.batchNormalization()] });
    assert.throws(() => a.foldBatchNorm(), /no Dense comes after it/);
    const b = dn.sequential({ layers: [L.dense({ units: 4, inputShape: [3] }), L.layerNormalization(), L.dense({ units: 2 })] });
    assert.throws(() => b.foldBatchNorm(), /LayerNormalization\) is not supported/);
  });
});

describe('quantize', function () {
  this.timeout(120000);
  const L = dn.layers;

  it('bundled MNIST quickstart model: int8 within 0.5 pp of fp32, a quarter of the bytes, reloads bit-identically', async () => {
    dn.setSeed(1);
    const { xTrain, yTrain, xTest, yTest } = dn.loadMnist();
    const model = dn.sequential();
    model.add(L.dense({ units: 256, inputShape: [784], useBias: false }));
    model.add(L.batchNormalization());
    model.add(L.activation({ activation: 'relu' }));
    model.add(L.dense({ units: 10, activation: 'softmax' }));
    model.compile({ optimizer: dn.optimizers.adam({ learningRate: 1e-3 }), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    await model.fit(xTrain, yTrain, { epochs: 5, batchSize: 64, shuffle: true, validationSplit: 0.1, seed: 1, verbose: 0 });
    const q = model.quantize({ calibrationData: dn.tensor(xTrain.data.subarray(0, 1000 * 784), [1000, 784]) });
    const fp = model.evaluate(xTest, yTest).accuracy;
    const i8 = q.evaluate(xTest, yTest).accuracy;
    assert.ok(Math.abs(fp - i8) <= 0.005, `fp32 ${fp} int8 ${i8}`);
    assert.ok(fp > 0.9);
    const d1 = tmp();
    const d2 = tmp();
    await q.save(d1);
    await model.save(d2);
    const size = (d) => fs.statSync(path.join(d, 'weights.safetensors')).size;
    assert.ok(size(d1) / size(d2) < 0.27, `${size(d1)} / ${size(d2)}`);
    const back = await dn.loadModel(d1);
    assert.ok(back instanceof dn.QuantizedModel);
    const p = q.predict(xTest).data;
    assert.ok(bits(back.predict(xTest).data).equals(bits(p)));
    assert.ok(bits((await q.predictAsync(xTest)).data).equals(bits(p)));
    assert.equal(back.evaluate(xTest, yTest).accuracy, i8);
  });

  it('tracks a double evaluation of the folded model, with a zero point for signed inputs', async () => {
    const { m, x, y } = trainedModel([L.dense({ units: 33, inputShape: [17], useBias: false }), L.batchNormalization(), L.activation({ activation: 'relu' }), L.dense({ units: 17 }), L.activation({ activation: 'relu' }), L.dense({ units: 3, activation: 'softmax' })], 17, 257);
    await m.fit(x, y, { epochs: 3, batchSize: 32, verbose: 0 });
    const q = m.quantize({ calibrationData: x, batchSize: 17 });
    assert.ok(q.layers[0].inputZeroPoint > 0 && q.layers[1].inputZeroPoint === 0);
    const p = q.predict(x).data;
    const ref = m.predict(x).data;
    let worst = 0;
    for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i] - ref[i]));
    assert.ok(worst < 0.05, `max prob difference ${worst}`);
  });

  it('rejects bad calibration data and models it cannot run', () => {
    const { m } = trainedModel([L.dense({ units: 4, inputShape: [3] }), L.activation({ activation: 'relu' }), L.dense({ units: 3, activation: 'softmax' })], 3);
    assert.throws(() => m.quantize({}), /calibrationData/);
    assert.throws(() => m.quantize({ calibrationData: new Float32Array(0) }), /calibrationData/);
    assert.throws(() => m.quantize({ calibrationData: [[1, 2]] }), /calibrationData/);
    assert.throws(() => m.quantize({ calibrationData: [[1, NaN, 2]] }), /finite values for calibrationData/);
    assert.throws(() => m.quantize({ calibrationData: [[1, 0, 2]], batchSize: 0 }), /batchSize/);
    const s = trainedModel([L.dense({ units: 4, inputShape: [3], activation: 'sigmoid' }), L.dense({ units: 3 })], 3).m;
    assert.throws(() => s.quantize({ calibrationData: [[1, 0, 2]] }), /activation 'sigmoid'/);
    const n = trainedModel([L.dense({ units: 4, inputShape: [3] }), L.layerNormalization(), L.dense({ units: 3 })], 3).m;
    assert.throws(() => n.quantize({ calibrationData: [[1, 0, 2]] }), /not supported/);
    const q = m.quantize({ calibrationData: [[1, 0, 2]] });
    assert.throws(() => q.predict([[1, 2]]), /x/);
    assert.throws(() => q.predict([[1, Infinity, 2]]), /finite/);
  });

  it('a corrupt or hostile int8 model directory is a DensenormError', async () => {
    const { m } = trainedModel([L.dense({ units: 4, inputShape: [3] }), L.activation({ activation: 'relu' }), L.dense({ units: 3, activation: 'softmax' })], 3);
    const q = m.quantize({ calibrationData: [[1, 0, 2], [0, 1, -1]] });
    const dir = tmp();
    await q.save(dir);
    const jsonFile = path.join(dir, 'model.json');
    const wFile = path.join(dir, 'weights.safetensors');
    const json = fs.readFileSync(jsonFile, 'utf8');
    const weights = fs.readFileSync(wFile);
    const expectBad = async (re) => {
      const e = await caught(() => dn.loadModel(dir));
      assert.ok(e instanceof dn.DensenormError, String(e));
      assert.equal(e.code, 'ERR_MODEL_FILE');
      assert.match(e.message, re);
    };
    const flipped = Buffer.from(weights);
    flipped[flipped.length - 1] ^= 1;
    fs.writeFileSync(wFile, flipped);
    await expectBad(/SHA-256/);
    fs.writeFileSync(wFile, weights);
    const edit = (fn) => {
      const o = JSON.parse(json);
      fn(o);
      fs.writeFileSync(jsonFile, JSON.stringify(o));
    };
    edit((o) => { o.layers[0].inputZeroPoint = 300; });
    await expectBad(/inputZeroPoint/);
    edit((o) => { o.layers[1].units = 4; });
    await expectBad(/expected I8 \[4,4\]|kernel/);
    edit((o) => { o.inputDim = 1e12; });
    await expectBad(/inputDim/);
    edit((o) => { o.layers[0].inputScale = -1; });
    await expectBad(/inputScale/);
    fs.writeFileSync(jsonFile, '{"format":"densenorm-int8-model"');
    await expectBad(/JSON/);
  });
});

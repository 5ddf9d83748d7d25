// The Sequential contract: tensors, training, determinism, history and callbacks, weights,
// summary, save/load, backend, optimizers, freezing and fusion, losses.
import { expect } from 'chai';
import { rejects } from './helpers.mjs';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomArray, rng } from './reference.mjs';

const require = createRequire(import.meta.url);
const dn = require('../dist/index.js');
const isa = dn.backend().isa;

// Four Gaussian blobs in 2-D, labels 0..3 (one-hot and ids).
function blobs(n, seed) {
  const rand = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const centers = [[2, 2], [-2, 2], [-2, -2], [2, -2]];
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n * 4);
  const ids = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    x[i * 2] = centers[c][0] + 0.5 * gauss();
    x[i * 2 + 1] = centers[c][1] + 0.5 * gauss();
    y[i * 4 + c] = 1;
    ids[i] = c;
  }
  return { x: dn.tensor(x, [n, 2]), y: dn.tensor(y, [n, 4]), ids: dn.tensor(ids, [n, 1]), xd: x, yd: y, idd: ids };
}

function bnClassifier(opts = {}) {
  return dn.sequential({
    layers: [
      dn.layers.dense({ units: 8, inputShape: [2], useBias: false }),
      dn.layers.batchNormalization(),
      dn.layers.activation({ activation: 'relu' }),
      dn.layers.dense({ units: 4, activation: 'softmax', ...opts }),
    ],
  });
}

const snapshot = (m) => m.getWeights().map((t) => Array.from(t.data));


describe(`Sequential model (isa=${isa})`, () => {
  describe('dn.tensor', () => {
    it('wraps a Float32Array with a shape without copying', () => {
      const a = new Float32Array([1, 2, 3, 4, 5, 6]);
      const t = dn.tensor(a, [2, 3]);
      expect(t.data).to.equal(a);
      expect(t.shape).to.deep.equal([2, 3]);
      a[0] = 42;
      expect(t.toArray()[0][0]).to.equal(42);
    });
    it('copies number[][] into [rows, cols] and number[] + shape', () => {
      const src = [[1, 2], [3, 4], [5, 6]];
      const t = dn.tensor(src);
      expect(t.shape).to.deep.equal([3, 2]);
      expect(t.data).to.be.instanceOf(Float32Array);
      src[0][0] = 9;
      expect(t.data[0]).to.equal(1);
      const u = dn.tensor([1, 2, 3, 4, 5, 6], [3, 2]);
      expect(u.toArray()).to.deep.equal([[1, 2], [3, 4], [5, 6]]);
      expect(() => dn.tensor([1, 2, 3], [2, 2])).to.throw(RangeError);
    });
  });

  describe('learning', () => {
    it('loss falls and a BN model reaches ≥ 95% training accuracy on 4 Gaussian blobs', async () => {
      dn.setSeed(1);
      const { x, y } = blobs(400, 2);
      const m = bnClassifier();
      m.compile({ optimizer: dn.optimizers.adam({ learningRate: 0.02 }), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
      const h = await m.fit(x, y, { epochs: 15, batchSize: 32, seed: 3 });
      expect(h.history.loss.at(-1)).to.be.below(h.history.loss[0] * 0.5);
      const ev = m.evaluate(x, y);
      expect(ev.accuracy).to.be.at.least(0.95);
      expect(h.history.acc.at(-1)).to.be.at.least(0.95);
      // predict agrees with evaluate's accuracy
      const p = m.predict(x).toArray();
      const correct = p.filter((r, i) => r.indexOf(Math.max(...r)) === i % 4).length;
      expect(correct / 400).to.be.closeTo(ev.accuracy, 1e-9);
    });

    it('setSeed + fit(seed) from scratch twice gives bit-identical weights', async () => {
      const { x, y } = blobs(64, 4);
      const run = async () => {
        dn.setSeed(42);
        const m = bnClassifier();
        m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
        await m.fit(x, y, { epochs: 3, batchSize: 10, seed: 5 });
        return snapshot(m);
      };
      const a = await run();
      const b = await run();
      expect(b).to.deep.equal(a);
      // a different seed gives different weights (the check is not vacuous)
      dn.setSeed(43);
      const m = bnClassifier();
      expect(snapshot(m)).to.not.deep.equal(a);
    });
  });

  describe('fit options, history and callbacks', () => {
    it('history has loss/acc/val_loss/val_acc arrays of length epochs', async () => {
      const { x, y } = blobs(40, 5);
      const m = bnClassifier();
      m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
      const h = await m.fit(x, y, { epochs: 3, batchSize: 8, validationSplit: 0.25 });
      expect(h.epoch).to.deep.equal([0, 1, 2]);
      for (const k of ['loss', 'acc', 'val_loss', 'val_acc']) {
        expect(h.history[k], k).to.have.length(3);
        h.history[k].forEach((v) => expect(Number.isFinite(v), k).to.equal(true));
      }
      // every epoch also logs the optimizer's rate, as Keras 3
      expect(h.history.learning_rate).to.deep.equal([0.001, 0.001, 0.001]);
      // without metrics: no acc
      const m2 = bnClassifier();
      m2.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
      const h2 = await m2.fit(x, y, { epochs: 2, batchSize: 8 });
      expect(Object.keys(h2.history)).to.deep.equal(['loss', 'learning_rate']);
      expect(h2.history.loss).to.have.length(2);
    });

    it('validationSplit holds out the LAST rows (before shuffling): val metrics equal evaluate() on them', async () => {
      const { xd, yd } = blobs(100, 6);
      // the last 10 rows get labels the model cannot learn from the others (rotated classes)
      const y = Float32Array.from(yd);
      for (let i = 90; i < 100; i++) {
        const c = i % 4;
        y.fill(0, i * 4, i * 4 + 4);
        y[i * 4 + ((c + 1) % 4)] = 1;
      }
      const m = bnClassifier();
      m.compile({ optimizer: dn.optimizers.adam({ learningRate: 0.02 }), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
      const seen = [];
      const h = await m.fit(dn.tensor(xd, [100, 2]), dn.tensor(y, [100, 4]), {
        epochs: 12, batchSize: 16, validationSplit: 0.1, seed: 1,
        callbacks: { onEpochEnd: (e, logs) => seen.push({ ...logs }) },
      });
      const ev = m.evaluate(dn.tensor(xd.slice(90 * 2), [10, 2]), dn.tensor(y.slice(90 * 4), [10, 4]));
      expect(h.history.val_loss.at(-1)).to.equal(ev.loss);
      expect(h.history.val_acc.at(-1)).to.equal(ev.accuracy);
      expect(seen.at(-1).val_loss).to.equal(ev.loss);
      expect(h.history.acc.at(-1)).to.be.above(0.9);
      expect(h.history.val_acc.at(-1)).to.be.below(0.5);
      // the first 10 rows are a different set
      const evFirst = m.evaluate(dn.tensor(xd.slice(0, 20), [10, 2]), dn.tensor(y.slice(0, 40), [10, 4]));
      expect(evFirst.loss).to.not.equal(ev.loss);
    });

    it('callbacks onBatchEnd/onEpochEnd receive (index, logs) with loss and acc', async () => {
      const { x, y } = blobs(30, 7);
      const m = bnClassifier();
      m.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['acc'] });
      const batches = [];
      const epochs = [];
      const h = await m.fit(x, y, {
        epochs: 2, batchSize: 8,
        callbacks: [
          { onBatchEnd: (i, logs) => batches.push([i, logs]) },
          { onEpochEnd: async (i, logs) => { await new Promise((r) => setTimeout(r, 1)); epochs.push([i, logs]); } },
        ],
      });
      // 30 rows / 8: batches of 8, 8, 8, 6 per epoch
      expect(batches.map((b) => b[0])).to.deep.equal([0, 1, 2, 3, 0, 1, 2, 3]);
      expect(batches.map((b) => b[1].size)).to.deep.equal([8, 8, 8, 6, 8, 8, 8, 6]);
      for (const [, l] of batches) {
        expect(l.loss).to.be.a('number').and.satisfy(Number.isFinite);
        expect(l.acc).to.be.within(0, 1);
      }
      expect(epochs.map((e) => e[0])).to.deep.equal([0, 1]);
      expect(epochs.map((e) => e[1].loss)).to.deep.equal(h.history.loss);
      expect(epochs.map((e) => e[1].acc)).to.deep.equal(h.history.acc);
      // epoch loss is the row-weighted mean of the batch losses
      const e0 = batches.slice(0, 4).reduce((s, [, l]) => s + l.loss * l.size, 0) / 30;
      expect(h.history.loss[0]).to.be.closeTo(e0, 1e-9);
    });

    // With no onBatchBegin/onBatchEnd callback, fit runs each epoch's batches natively in one
    // hop (trainBatchesAsync); with one, a hop per batch. Both must train exactly alike.
    it('fit without batch callbacks (one native hop per epoch) trains bit-identically to fit with them', async () => {
      const { x, y } = blobs(98, 4);  // 89 training rows, batchSize 8: the last row folds into batch 11
      const run = async (cb) => {
        dn.setSeed(7);
        const m = bnClassifier();
        m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
        let batches = 0;
        const callbacks = cb ? { onBatchEnd: () => { batches++; } } : { onEpochEnd: () => {} };
        const h = await m.fit(x, y, { epochs: 3, batchSize: 8, seed: 11, validationSplit: 0.1, callbacks });
        return { w: snapshot(m), h: h.history, batches, it: m.optimizer.iterations };
      };
      const fast = await run(false);
      const slow = await run(true);
      expect(slow.batches).to.equal(3 * 11);  // 10 batches of 8 and one of 9
      expect(fast.it).to.equal(slow.it);
      expect(fast.it).to.equal(33);
      expect(fast.h).to.deep.equal(slow.h);
      expect(fast.w).to.deep.equal(slow.w);
    });

    it('stopTraining and an AbortSignal set while a native epoch runs stop it after the current batch', async () => {
      // 100000 batches an epoch: the timer must fire while the native epoch runs, which under ASan
      // on a loaded 2-vCPU host once took longer than a 10000-batch epoch (the stop then never came)
      const rows = 200000;
      const x = dn.tensor(randomArray(rows * 4, rng(5)), [rows, 4]);
      const y = dn.tensor(new Float32Array(rows).map((_, i) => i % 3), [rows, 1]);
      const make = () => {
        const m = dn.sequential({ layers: [dn.layers.dense({ units: 8, inputShape: [4] }), dn.layers.batchNormalization(), dn.layers.dense({ units: 3, activation: 'softmax' })] });
        m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
        return m;
      };
      const total = rows / 2;  // batchSize 2
      const m1 = make();
      setTimeout(() => { m1.stopTraining = true; }, 0);
      const h1 = await m1.fit(x, y, { epochs: 3, batchSize: 2 });
      expect(h1.epoch).to.have.length(1);
      expect(m1.optimizer.iterations).to.be.below(total);  // 0 when the timer fires before the first batch
      expect(m1.isTraining).to.equal(false);

      const m2 = make();
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 0);
      const h2 = await m2.fit(x, y, { epochs: 3, batchSize: 2, signal: ac.signal });
      expect(h2.epoch).to.have.length(1);
      expect(m2.optimizer.iterations).to.be.below(total);
      // an already aborted signal: no batch runs
      const m3 = make();
      const done = new AbortController();
      done.abort();
      await m3.fit(x, y, { epochs: 1, batchSize: 2, signal: done.signal });
      expect(m3.optimizer.iterations).to.equal(0);
    });

    it('a second fit while one runs rejects with a clear Error', async () => {
      const { x, y } = blobs(64, 8);
      const m = bnClassifier();
      m.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
      const first = m.fit(x, y, { epochs: 2, batchSize: 8 });
      expect(m.isTraining).to.equal(true);
      const err = await rejects(m.fit(x, y));
      expect(err).to.be.instanceOf(Error);
      expect(err.message).to.match(/already running/);
      expect(() => m.predict(x)).to.throw(/fit\(\) is running/);
      expect(() => m.trainOnBatch(x, y)).to.throw(/fit\(\) is running/);
      const h = await first;
      expect(h.history.loss).to.have.length(2);
      expect(m.isTraining).to.equal(false);
      expect(m.predict(x).shape).to.deep.equal([64, 4]);
    });

    it('trainOnBatch returns a number; evaluate returns {loss, accuracy}', () => {
      const { x, y } = blobs(16, 9);
      const m = bnClassifier();
      m.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
      const l = m.trainOnBatch(x, y);
      expect(l).to.be.a('number').and.satisfy(Number.isFinite).and.above(0);
      const ev = m.evaluate(x, y);
      expect(Object.keys(ev).sort()).to.deep.equal(['accuracy', 'loss']);
      expect(ev.loss).to.be.above(0);
      expect(ev.accuracy).to.be.within(0, 1);
      m.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
      expect(Object.keys(m.evaluate(x, y))).to.deep.equal(['loss']);
    });
  });

  describe('weights', () => {
    it('getWeights/setWeights round trip in Keras order and shapes', () => {
      const m = dn.sequential({
        layers: [dn.layers.dense({ units: 3, inputShape: [2] }), dn.layers.batchNormalization(), dn.layers.dense({ units: 1, useBias: false })],
      });
      const ws = m.getWeights();
      expect(ws.map((t) => t.shape)).to.deep.equal([[2, 3], [3], [3], [3], [3], [3], [3, 1]]);
      expect(m.countParams()).to.equal(6 + 3 + 12 + 3);
      // kernel is [in, out] row-major: output j of row x is Σ_k x_k W[k, j] + b_j
      const W = [1, 2, 3, 4, 5, 6];
      const newW = [dn.tensor(W, [2, 3]), dn.tensor([0.5, -0.5, 1]), dn.tensor([1, 1, 1]), dn.tensor([0, 0, 0]), dn.tensor([0, 0, 0]), dn.tensor([1, 1, 1]), dn.tensor([1, 0, 0], [3, 1])];
      m.setWeights(newW);
      expect(snapshot(m)).to.deep.equal(newW.map((t) => Array.from(t.data)));
      const out = m.predict([[1, 10]]).data[0];
      const z0 = 1 * 1 + 10 * 4 + 0.5;
      expect(out).to.be.closeTo(z0 / Math.sqrt(1 + 1e-3), 1e-4);
      // getWeights returns copies
      const copy = m.getWeights();
      copy[0].data[0] = 100;
      expect(m.getWeights()[0].data[0]).to.equal(1);
    });

    it('setWeights with a wrong count or shape throws RangeError and leaves the model unchanged', () => {
      const m = dn.sequential({ layers: [dn.layers.dense({ units: 3, inputShape: [2] }), dn.layers.dense({ units: 2 })] });
      const before = snapshot(m);
      const x = [[0.3, -1], [2, 1]];
      const p0 = Array.from(m.predict(x).data);
      const good = m.getWeights().map((t) => dn.tensor(t.data.map((v) => v + 1), t.shape));
      expect(() => m.setWeights(good.slice(0, 3))).to.throw(RangeError, /Expected 4 tensors/);
      const badShape = good.slice();
      badShape[2] = dn.tensor(good[2].data, [2, 3]); // [3, 2] expected
      expect(() => m.setWeights(badShape)).to.throw(RangeError, /shape/);
      const badSize = good.slice();
      badSize[3] = dn.tensor([1, 2, 3]);
      expect(() => m.setWeights(badSize)).to.throw(RangeError);
      expect(snapshot(m)).to.deep.equal(before);
      expect(Array.from(m.predict(x).data)).to.deep.equal(p0);
      m.setWeights(good);
      expect(Array.from(m.predict(x).data)).to.not.deep.equal(p0);
    });

    it('summary() prints layer names, classes and parameter counts', () => {
      const d = dn.layers.dense({ units: 5, inputShape: [3], name: 'hidden' });
      const m = dn.sequential({ layers: [d, dn.layers.batchNormalization({ name: 'bn_x' }), dn.layers.activation({ activation: 'relu', name: 'act_x' }), dn.layers.dense({ units: 2, name: 'out_x' })] });
      const lines = [];
      m.summary((l) => lines.push(l));
      const text = lines.join('\n');
      const row = (name) => lines.find((l) => l.startsWith(name));
      expect(row('hidden')).to.match(/Dense/).and.match(/\b20\s*$/);
      expect(row('bn_x')).to.match(/BatchNormalization/).and.match(/\b20\s*$/);
      expect(row('act_x')).to.match(/Activation/).and.match(/\b0\s*$/);
      expect(row('out_x')).to.match(/\b12\s*$/);
      expect(text).to.match(/Total params: 52/);
      expect(text).to.match(/Trainable params: 42/);
      expect(text).to.match(/Non-trainable params: 10/);
    });
  });

  describe('save / loadModel', () => {
    let dir;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'densenorm-model-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('save → loadModel → predict is bit-identical; model.json and safetensors follow the format', async () => {
      const { x, y } = blobs(40, 10);
      const m = dn.sequential({
        layers: [
          dn.layers.dense({ units: 6, inputShape: [2], activation: 'tanh', name: 'd1' }),
          dn.layers.batchNormalization({ momentum: 0.9, epsilon: 0.01, name: 'bn1' }),
          dn.layers.dense({ units: 4, useBias: false, name: 'd2' }),
          dn.layers.batchNormalization({ center: false, momentum: null, name: 'bn2' }),
          dn.layers.activation({ activation: 'softmax', name: 'sm' }),
        ],
      });
      m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
      await m.fit(x, y, { epochs: 2, batchSize: 8 });
      const d = path.join(dir, 'm1');
      await m.save(d);
      const loaded = await dn.loadModel(d);
      expect(Array.from(loaded.predict(x).data)).to.deep.equal(Array.from(m.predict(x).data));
      expect(snapshot(loaded)).to.deep.equal(snapshot(m));
      expect(loaded.layers.map((l) => l.name)).to.deep.equal(['d1', 'bn1', 'd2', 'bn2', 'sm']);

      const json = JSON.parse(fs.readFileSync(path.join(d, 'model.json'), 'utf8'));
      const bn1 = json.layers.find((l) => l.config.name === 'bn1');
      const bn2 = json.layers.find((l) => l.config.name === 'bn2');
      expect(bn1.className).to.equal('BatchNormalization');
      expect(bn1.config.momentum).to.equal(0.9);
      expect(bn1.config.epsilon).to.equal(0.01);
      expect(bn1.config.momentumConvention).to.equal('keras');
      expect(bn2.config.momentum).to.equal(null);
      expect(bn2.config.epsilon).to.equal(1e-3);
      expect(bn2.config.momentumConvention).to.equal('keras');
      expect(json.batchNormalization.convention).to.match(/momentum \* moving \+ \(1 - momentum\) \* batch/);
      expect(json.batchNormalization.numBatchesTracked.bn2).to.equal(loaded.layers[3].numBatchesTracked[0]);
      expect(json.batchNormalization.numBatchesTracked.bn2).to.be.above(0);

      const buf = fs.readFileSync(path.join(d, 'weights.safetensors'));
      const n = buf.readBigUInt64LE(0);
      expect(n % 8n).to.equal(0n);
      expect(Number(n) + 8).to.be.at.most(buf.length);
      const header = JSON.parse(buf.subarray(8, 8 + Number(n)).toString('utf8'));
      const names = Object.keys(header).filter((k) => k !== '__metadata__');
      expect(names.sort()).to.deep.equal(
        ['d1/kernel', 'd1/bias', 'bn1/gamma', 'bn1/beta', 'bn1/moving_mean', 'bn1/moving_variance', 'd2/kernel', 'bn2/gamma', 'bn2/moving_mean', 'bn2/moving_variance'].sort(),
      );
      expect(header['d1/kernel'].dtype).to.equal('F32');
      expect(header['d1/kernel'].shape).to.deep.equal([2, 6]);
      const [s, e] = header['d1/kernel'].data_offsets;
      const kernel = new Float32Array(buf.buffer.slice(buf.byteOffset + 8 + Number(n) + s, buf.byteOffset + 8 + Number(n) + e));
      expect(Array.from(kernel)).to.deep.equal(Array.from(m.layers[0].weights[0].value));
    });

    it('a corrupted weights file is rejected by loadModel with an Error', async () => {
      const m = dn.sequential({ layers: [dn.layers.dense({ units: 3, inputShape: [2] }), dn.layers.batchNormalization()] });
      const d = path.join(dir, 'm2');
      await m.save(d);
      const file = path.join(d, 'weights.safetensors');
      const buf = fs.readFileSync(file);
      buf[buf.length - 5] ^= 0x40; // a byte of the data section
      fs.writeFileSync(file, buf);
      const err = await rejects(dn.loadModel(d));
      expect(err).to.be.instanceOf(Error);
      expect(err.message).to.match(/weights/);
      // a directory without a model is an Error too
      const err2 = await rejects(dn.loadModel(path.join(dir, 'nothing-here')));
      expect(err2).to.be.instanceOf(Error);
    });
  });

  it('dn.backend() reports {isa, threads} matching DENSENORM_ISA', () => {
    const b = dn.backend();
    expect(Object.keys(b).sort()).to.deep.equal(['isa', 'threads']);
    expect(['scalar', 'avx2', 'avx512']).to.include(b.isa);
    if (process.env.DENSENORM_ISA) expect(b.isa).to.equal(process.env.DENSENORM_ISA);
    expect(Number.isInteger(b.threads) && b.threads >= 1).to.equal(true);
  });

  describe('optimizers', () => {
    const cases = [
      ['sgd momentum 0.9', () => dn.optimizers.sgd({ learningRate: 0.05, momentum: 0.9 })],
      ['sgd nesterov', () => dn.optimizers.sgd({ learningRate: 0.05, momentum: 0.9, nesterov: true })],
      ['adam', () => dn.optimizers.adam({ learningRate: 0.01 })],
      ['rmsprop', () => dn.optimizers.rmsprop({ learningRate: 0.01 })],
      ["'sgd'", () => 'sgd'],
      ["'adam'", () => 'adam'],
    ];
    for (const [name, make] of cases) {
      it(`${name} decreases the loss`, async () => {
        dn.setSeed(11);
        const { x, y } = blobs(64, 12);
        const m = bnClassifier();
        m.compile({ optimizer: make(), loss: 'categoricalCrossentropy' });
        const before = m.evaluate(x, y).loss;
        await m.fit(x, y, { epochs: 5, batchSize: 16, seed: 2 });
        // evaluate uses moving statistics: recalibrate them so the comparison is about weights
        m.recalibrateBatchNorm(x);
        const after = m.evaluate(x, y).loss;
        expect(after).to.be.below(before * 0.95);
      });
    }
  });

  describe('freezing, fusion and losses', () => {
    it('a frozen Dense layer (trainable = false) keeps its weights through fit', async () => {
      const { x, y } = blobs(48, 13);
      const m = bnClassifier();
      const first = m.layers[0];
      first.trainable = false;
      m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
      const w0 = Array.from(first.weights[0].value);
      const last0 = Array.from(m.layers[3].weights[0].value);
      await m.fit(x, y, { epochs: 2, batchSize: 8 });
      expect(Array.from(first.weights[0].value)).to.deep.equal(w0);
      expect(Array.from(m.layers[3].weights[0].value)).to.not.deep.equal(last0);
      expect(first.trainableWeights).to.have.length(0);
    });

    for (const [name, layers, blocks] of [
      ['Dense(relu) → BN', () => [dn.layers.dense({ units: 8, inputShape: [2], activation: 'relu' }), dn.layers.batchNormalization(), dn.layers.dense({ units: 4, activation: 'softmax' })], 2],
      ['Dense → BN → Activation(relu)', () => [dn.layers.dense({ units: 8, inputShape: [2] }), dn.layers.batchNormalization(), dn.layers.activation({ activation: 'relu' }), dn.layers.dense({ units: 4, activation: 'softmax' })], 2],
      ['Dense → Activation(tanh) → BN', () => [dn.layers.dense({ units: 8, inputShape: [2] }), dn.layers.activation({ activation: 'tanh' }), dn.layers.batchNormalization(), dn.layers.dense({ units: 4 }), dn.layers.activation({ activation: 'softmax' })], 2],
    ]) {
      it(`${name} fuses into ${blocks} blocks and trains`, async () => {
        dn.setSeed(5);
        const { x, y } = blobs(80, 14);
        const m = dn.sequential({ layers: layers() });
        expect(m.fusedBlocks()).to.have.length(blocks);
        expect(m.fusedBlocks()[0]).to.have.length(m.layers.length - (m.layers.at(-1).className === 'Activation' ? 2 : 1));
        m.compile({ optimizer: dn.optimizers.adam({ learningRate: 0.02 }), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
        const h = await m.fit(x, y, { epochs: 10, batchSize: 16, seed: 1 });
        expect(h.history.loss.at(-1)).to.be.below(h.history.loss[0]);
        expect(m.evaluate(x, y).accuracy).to.be.at.least(0.9);
      });
    }

    it('sparseCategoricalCrossentropy trains with class ids', async () => {
      dn.setSeed(6);
      const { x, ids, idd } = blobs(80, 15);
      const m = bnClassifier();
      m.compile({ optimizer: dn.optimizers.adam({ learningRate: 0.02 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const h = await m.fit(x, ids, { epochs: 10, batchSize: 16 });
      expect(h.history.loss.at(-1)).to.be.below(h.history.loss[0]);
      expect(m.evaluate(x, ids).accuracy).to.be.at.least(0.9);
      // number[] of ids works too
      expect(m.evaluate(x, Array.from(idd)).loss).to.equal(m.evaluate(x, ids).loss);
    });

    it('binaryCrossentropy trains a sigmoid output', async () => {
      dn.setSeed(7);
      const { xd } = blobs(80, 16);
      const yb = new Float32Array(80).map((_, i) => (xd[i * 2] > 0 ? 1 : 0));
      const m = dn.sequential({ layers: [dn.layers.dense({ units: 4, inputShape: [2] }), dn.layers.batchNormalization(), dn.layers.activation({ activation: 'tanh' }), dn.layers.dense({ units: 1, activation: 'sigmoid' })] });
      m.compile({ optimizer: dn.optimizers.adam({ learningRate: 0.02 }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
      const h = await m.fit(dn.tensor(xd, [80, 2]), dn.tensor(yb, [80, 1]), { epochs: 10, batchSize: 16 });
      expect(h.history.loss.at(-1)).to.be.below(h.history.loss[0]);
      expect(m.evaluate(dn.tensor(xd, [80, 2]), dn.tensor(yb, [80, 1])).accuracy).to.be.at.least(0.9);
      const p = m.predict(dn.tensor(xd, [80, 2])).data;
      expect(Array.from(p).every((v) => v > 0 && v < 1)).to.equal(true);
    });

    for (const loss of ['categoricalCrossentropy', 'sparseCategoricalCrossentropy', 'binaryCrossentropy', 'meanSquaredError']) {
      it(`${loss} decreases the training loss`, async () => {
        dn.setSeed(8);
        const { x, y, ids } = blobs(64, 17);
        const m = bnClassifier();
        m.compile({ optimizer: dn.optimizers.adam({ learningRate: 0.01 }), loss });
        const target = loss === 'sparseCategoricalCrossentropy' ? ids : y;
        const h = await m.fit(x, target, { epochs: 6, batchSize: 16, seed: 4 });
        expect(h.history.loss).to.have.length(6);
        expect(h.history.loss.at(-1)).to.be.below(h.history.loss[0] * 0.9);
      });
    }
  });
});

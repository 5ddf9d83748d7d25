// compile's metrics (binaryAccuracy, categoricalAccuracy, precision, recall, auc, mae, mse) against
// Keras's definitions computed here in float64 from the model's own predictions, and fit's
// sampleWeight / classWeight against Keras's weighting (loss = Σ wᵢ·lossᵢ / batch).
import { expect } from 'chai';
import { dn, native, isa, caught } from './helpers.mjs';
import { randomArray, rng } from './reference.mjs';

const ROWS = 97;
function data(features, seed = 1) {
  const r = rng(seed);
  return randomArray(ROWS * features, r, 1.5);
}

// Keras metric definitions on flat predictions p and 0/1 targets t.
const keras = {
  binary_accuracy: (p, t) => p.reduce((n, v, i) => n + ((v > 0.5) === (t[i] > 0.5) ? 1 : 0), 0) / p.length,
  precision: (p, t) => {
    let tp = 0;
    let fp = 0;
    p.forEach((v, i) => { if (v > 0.5) t[i] > 0.5 ? tp++ : fp++; });
    return tp + fp === 0 ? 0 : tp / (tp + fp);
  },
  recall: (p, t) => {
    let tp = 0;
    let fn = 0;
    p.forEach((v, i) => { if (t[i] > 0.5) v > 0.5 ? tp++ : fn++; });
    return tp + fn === 0 ? 0 : tp / (tp + fn);
  },
  // AUC(num_thresholds=200, curve='ROC', summation_method='interpolation'): thresholds −1e-7,
  // i/199 (i = 1..198), 1 + 1e-7; positive at a threshold when p > threshold; trapezoids over
  // (fpr, tpr) from threshold 0 to 199.
  auc: (p, t) => {
    const th = [-1e-7];
    for (let i = 1; i <= 198; i++) th.push(i / 199);
    th.push(1 + 1e-7);
    const P = t.filter((v) => v > 0.5).length;
    const N = t.length - P;
    const tpr = th.map((h) => p.filter((v, i) => v > h && t[i] > 0.5).length / P);
    const fpr = th.map((h) => p.filter((v, i) => v > h && !(t[i] > 0.5)).length / N);
    let a = 0;
    for (let k = 0; k < 199; k++) a += (fpr[k] - fpr[k + 1]) * (tpr[k] + tpr[k + 1]) / 2;
    return a;
  },
  mae: (p, t) => p.reduce((s, v, i) => s + Math.abs(v - t[i]), 0) / p.length,
  mse: (p, t) => p.reduce((s, v, i) => s + (v - t[i]) ** 2, 0) / p.length,
};

describe(`metrics (isa=${isa})`, () => {
  it('the core and the façade know the same metrics', () => {
    expect(native.vocabulary().metrics).to.deep.equal(['binary_accuracy', 'categorical_accuracy', 'precision', 'recall', 'auc', 'mae', 'mse']);
  });

  describe('binary (sigmoid, binaryCrossentropy)', () => {
    dn.setSeed(7);
    const m = dn.sequential({ layers: [dn.layers.dense({ units: 6, inputShape: [4], activation: 'tanh' }), dn.layers.dense({ units: 1, activation: 'sigmoid' })] });
    m.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy', metrics: ['accuracy', 'binaryAccuracy', 'precision', 'recall', 'auc', 'mae', 'mse'] });
    const x = data(4);
    const t = Array.from({ length: ROWS }, (_, i) => (Math.sin(i * 1.3) > 0.2 ? 1 : 0));
    const p = Array.from(m.predict(dn.tensor(x, [ROWS, 4])).data);

    it('evaluate reports each metric as Keras defines it', () => {
      const r = m.evaluate(dn.tensor(x, [ROWS, 4]), dn.tensor(t, [ROWS, 1]));
      for (const k of ['binary_accuracy', 'precision', 'recall', 'auc', 'mae', 'mse']) {
        expect(r[k], k).to.be.closeTo(keras[k](p, t), 1e-9);
      }
      expect(r.accuracy).to.be.closeTo(keras.binary_accuracy(p, t), 1e-12);
      expect(r.auc).to.be.above(0).and.below(1);
    });

    it('evaluate in chunks (batchSize 10) sums the same states', () => {
      const a = m.evaluate(dn.tensor(x, [ROWS, 4]), dn.tensor(t, [ROWS, 1]));
      const b = m.evaluate(dn.tensor(x, [ROWS, 4]), dn.tensor(t, [ROWS, 1]), { batchSize: 10 });
      for (const k of ['binary_accuracy', 'precision', 'recall', 'auc']) expect(b[k], k).to.equal(a[k]);
      expect(b.mae).to.be.closeTo(a.mae, 1e-12);
    });

    it('evaluateAsync gives the same values', async () => {
      const a = m.evaluate(dn.tensor(x, [ROWS, 4]), dn.tensor(t, [ROWS, 1]));
      const b = await m.evaluateAsync(dn.tensor(x, [ROWS, 4]), dn.tensor(t, [ROWS, 1]));
      expect(b).to.deep.equal(a);
    });

    it('precision and recall are 0, not NaN, with no predicted or no actual positives', () => {
      const none = new Array(ROWS).fill(0);
      const r = m.evaluate(dn.tensor(x, [ROWS, 4]), dn.tensor(none, [ROWS, 1]));
      expect(r.recall).to.equal(0);
      expect(r.auc).to.equal(0); // no positives: tpr is 0 everywhere
    });

    it('fit logs the metrics per epoch, with val_ keys, as the state over all batches', async () => {
      // learning rate 0 and no batch norm: the training outputs are predict's, so the epoch's
      // metric over its batches equals evaluate on the training rows
      const f = dn.sequential({ layers: [dn.layers.dense({ units: 6, inputShape: [4], activation: 'tanh' }), dn.layers.dense({ units: 1, activation: 'sigmoid' })] });
      f.compile({ optimizer: dn.optimizers.sgd({ learningRate: 0 }), loss: 'binaryCrossentropy', metrics: ['auc', 'precision', 'mse'] });
      const xs = dn.tensor(x, [ROWS, 4]);
      const ys = dn.tensor(t, [ROWS, 1]);
      const e = f.evaluate(xs, ys);
      const batches = [];
      const h = await f.fit(xs, ys, { epochs: 2, batchSize: 16, validationData: [xs, ys], callbacks: { onBatchEnd: (b, l) => batches.push(l) } });
      expect(Object.keys(h.history).sort()).to.deep.equal(['auc', 'learning_rate', 'loss', 'mse', 'precision', 'val_auc', 'val_loss', 'val_mse', 'val_precision']);
      expect(h.history.auc[1]).to.be.closeTo(e.auc, 1e-12);
      expect(h.history.precision[0]).to.be.closeTo(e.precision, 1e-12);
      expect(h.history.mse[0]).to.be.closeTo(e.mse, 1e-9);
      expect(h.history.val_auc[0]).to.equal(e.auc);
      // batch logs carry the running value over the epoch's batches so far; the last equals the epoch's
      expect(batches[6].auc).to.be.closeTo(h.history.auc[0], 1e-12);
      expect(batches[0].auc).to.be.a('number');
    });
  });

  it('categoricalAccuracy (softmax, one-hot and sparse targets) is the argmax match rate', () => {
    dn.setSeed(3);
    const layers = () => [dn.layers.dense({ units: 3, inputShape: [4], activation: 'softmax' })];
    const ids = Array.from({ length: ROWS }, (_, i) => i % 3);
    const onehot = ids.flatMap((c) => [0, 1, 2].map((j) => (j === c ? 1 : 0)));
    const x = dn.tensor(data(4, 5), [ROWS, 4]);
    for (const [loss, y] of [['categoricalCrossentropy', dn.tensor(onehot, [ROWS, 3])], ['sparseCategoricalCrossentropy', dn.tensor(ids, [ROWS, 1])]]) {
      dn.setSeed(3);
      const m = dn.sequential({ layers: layers() });
      m.compile({ optimizer: 'sgd', loss, metrics: ['categoricalAccuracy', 'acc'] });
      const p = m.predict(x).data;
      let hit = 0;
      for (let i = 0; i < ROWS; i++) {
        let a = 0;
        for (let j = 1; j < 3; j++) if (p[i * 3 + j] > p[i * 3 + a]) a = j;
        if (a === ids[i]) hit++;
      }
      const r = m.evaluate(x, y);
      expect(r.categorical_accuracy, loss).to.be.closeTo(hit / ROWS, 1e-12);
      expect(r.accuracy).to.equal(r.categorical_accuracy);
    }
  });

  it('unknown or mistyped metrics are errors naming what exists', () => {
    const m = dn.sequential({ layers: [dn.layers.dense({ units: 1, inputShape: [2] })] });
    expect(() => m.compile({ optimizer: 'sgd', loss: 'meanSquaredError', metrics: ['f1'] })).to.throw(RangeError, /'auc'.*received a string "f1"/);
    expect(() => m.compile({ optimizer: 'sgd', loss: 'meanSquaredError', metrics: [7] })).to.throw(TypeError, /metrics/);
    expect(() => m.compile({ optimizer: 'sgd', loss: 'meanSquaredError', metrics: 'mae' })).to.not.throw();
  });
});

describe(`sample and class weights (isa=${isa})`, () => {
  const F = 4;
  const x = data(F, 9);
  const ids = Array.from({ length: ROWS }, (_, i) => (i * 7) % 3);
  const onehot = ids.flatMap((c) => [0, 1, 2].map((j) => (j === c ? 1 : 0)));
  const make = (lr = 0.05) => {
    dn.setSeed(21);
    const m = dn.sequential({
      layers: [
        dn.layers.dense({ units: 8, inputShape: [F] }),
        dn.layers.batchNormalization(),
        dn.layers.activation({ activation: 'relu' }),
        dn.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    m.compile({ optimizer: dn.optimizers.sgd({ learningRate: lr }), loss: 'categoricalCrossentropy' });
    return m;
  };
  const fit = (m, extra = {}) => m.fit(dn.tensor(x, [ROWS, F]), dn.tensor(onehot, [ROWS, 3]), { epochs: 2, batchSize: 20, seed: 4, ...extra });
  const weights = (m) => m.getWeights().map((t) => Array.from(t.data));

  it('the loss is Σ wᵢ·lossᵢ / batch (one batch, learning rate 0, no batch norm)', async () => {
    dn.setSeed(2);
    const m = dn.sequential({ layers: [dn.layers.dense({ units: 3, inputShape: [F], activation: 'softmax' })] });
    m.compile({ optimizer: dn.optimizers.sgd({ learningRate: 0 }), loss: 'categoricalCrossentropy' });
    const p = m.predict(dn.tensor(x, [ROWS, F])).data;
    const w = Array.from({ length: ROWS }, (_, i) => (i % 4) * 0.5);
    let want = 0;
    for (let i = 0; i < ROWS; i++) want -= w[i] * Math.log(p[i * 3 + ids[i]]);
    want /= ROWS;
    const h = await m.fit(dn.tensor(x, [ROWS, F]), dn.tensor(onehot, [ROWS, 3]), { batchSize: ROWS, shuffle: false, sampleWeight: dn.tensor(w, [ROWS]) });
    expect(h.history.loss[0]).to.be.closeTo(want, 1e-6 * want);
  });

  it('weight 2 on every row trains bit-identically to twice the learning rate (SGD)', async () => {
    const a = make(0.05);
    await fit(a, { sampleWeight: new Array(ROWS).fill(2) });
    const b = make(0.1);
    await fit(b);
    expect(weights(a)).to.deep.equal(weights(b));
  });

  it('classWeight equals the sampleWeight it implies; absent classes weigh 1; both fit paths agree', async () => {
    const cw = { 0: 0.5, 2: 3 };
    const a = make();
    await fit(a, { classWeight: cw });
    const b = make();
    await fit(b, { sampleWeight: ids.map((c) => cw[c] ?? 1) });
    const c = make();
    await fit(c, { classWeight: cw, callbacks: { onBatchEnd() {} } });
    expect(weights(a)).to.deep.equal(weights(b));
    expect(weights(c)).to.deep.equal(weights(a));
    const plain = make();
    await fit(plain);
    expect(weights(a)).to.not.deep.equal(weights(plain));
  });

  it('sampleWeight follows its rows through shuffling and validationSplit', async () => {
    // zero weight on the held-out rows changes nothing: those rows never train
    const w = Array.from({ length: ROWS }, (_, i) => (i % 5) + 1);
    const a = make();
    await fit(a, { sampleWeight: w, validationSplit: 0.2 });
    const w2 = w.slice();
    for (let i = ROWS - Math.floor(ROWS * 0.2); i < ROWS; i++) w2[i] = 123;
    const b = make();
    await fit(b, { sampleWeight: w2, validationSplit: 0.2 });
    expect(weights(a)).to.deep.equal(weights(b));
  });

  it('bad weights are clear errors', async () => {
    const cases = [
      [{ sampleWeight: [1, 2], classWeight: { 0: 1 } }, TypeError, /both/],
      [{ sampleWeight: new Array(ROWS - 1).fill(1) }, RangeError, /sampleWeight/],
      [{ sampleWeight: new Array(ROWS).fill(-1) }, RangeError, />= 0/],
      [{ sampleWeight: new Array(ROWS).fill(NaN) }, RangeError, /finite/],
      [{ classWeight: { 5: 1 } }, RangeError, /classWeight keys/],
      [{ classWeight: { 1: 'x' } }, TypeError, /classWeight\[1\]/],
      [{ classWeight: { 1: -2 } }, RangeError, /classWeight\[1\]/],
      [{ classWeight: 3 }, TypeError, /classWeight/],
    ];
    for (const [extra, type, re] of cases) {
      const e = await caught(() => fit(make(), extra));
      expect(e, JSON.stringify(extra)).to.be.instanceOf(type);
      expect(e.message).to.match(re);
    }
  });
});

// Batch normalization through the public API (dn.layers.batchNormalization): training vs
// inference statistics, the Keras moving-average rule, options, freezing and recalibration.
import { expect } from 'chai';
import { blockNetSpec } from './helpers.mjs';
import { createRequire } from 'node:module';
import { randomArray, rng } from './reference.mjs';

const require = createRequire(import.meta.url);
const dn = require('../dist/index.js');
const { native } = require('../dist/native.js');
const isa = dn.backend().isa;

const rows = (t) => t.shape[0];
function colStats(data, n, F) {
  const mean = new Float64Array(F);
  const varU = new Float64Array(F);
  for (let i = 0; i < n; i++) for (let j = 0; j < F; j++) mean[j] += data[i * F + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < F; j++) varU[j] += (data[i * F + j] - mean[j]) ** 2 / (n - 1);
  return { mean, varU };
}
const relClose = (got, want, rel, label) =>
  expect(got, label).to.be.closeTo(want, rel * (1 + Math.abs(want)));

function bnModel(F, bnArgs = {}, opt = { learningRate: 0.1 }) {
  const bn = dn.layers.batchNormalization({ inputShape: [F], ...bnArgs });
  const m = dn.sequential({ layers: [bn] });
  m.compile({ optimizer: dn.optimizers.sgd(opt), loss: 'meanSquaredError' });
  return { m, bn };
}
const w = (layer, name) => layer.weights.find((v) => v.name === name).value;

describe(`batch normalization (isa=${isa})`, () => {
  it('has the Keras defaults: momentum 0.99, epsilon 1e-3, center and scale on', () => {
    const bn = dn.layers.batchNormalization();
    expect(bn.momentum).to.equal(0.99);
    expect(bn.epsilon).to.equal(1e-3);
    expect(bn.center).to.equal(true);
    expect(bn.scale).to.equal(true);
    const cfg = bn.getConfig();
    expect(cfg.momentum).to.equal(0.99);
    expect(cfg.epsilon).to.equal(1e-3);
    expect(cfg.momentumConvention).to.equal('keras');
    bn.build(3);
    expect(bn.weights.map((v) => v.name)).to.deep.equal(['gamma', 'beta', 'moving_mean', 'moving_variance']);
    expect(Array.from(w(bn, 'gamma'))).to.deep.equal([1, 1, 1]);
    expect(Array.from(w(bn, 'beta'))).to.deep.equal([0, 0, 0]);
    expect(Array.from(w(bn, 'moving_mean'))).to.deep.equal([0, 0, 0]);
    expect(Array.from(w(bn, 'moving_variance'))).to.deep.equal([1, 1, 1]);
    expect(bn.weights.map((v) => v.trainable)).to.deep.equal([true, true, false, false]);
  });

  it('training-mode output has per-feature mean 0 and std 1 (gamma 1, beta 0)', () => {
    const rand = rng(5);
    const F = 5;
    const B = 40;
    const x = new Float32Array(B * F);
    for (let i = 0; i < B; i++) for (let j = 0; j < F; j++) x[i * F + j] = (rand() * 2 - 1) * (j + 1) * 3 + 10 * j - 7;
    const net = new native.NativeNet(blockNetSpec({
      blocks: [{ in: F, out: F, denseTrainable: false, preAct: 0, postAct: 0, bn: {
        gamma: new Float32Array(F).fill(1), beta: new Float32Array(F), movingMean: new Float32Array(F),
        movingVariance: new Float32Array(F).fill(1), epsilon: 1e-3, momentum: 0.99, cumulative: false, trainable: true } }],
      loss: 3, optimizer: { type: 0, learningRate: 0.01 }, params: [],
    }));
    const out = new Float32Array(B * F);
    net.forwardTrain(x, B, false, out);
    const sx = colStats(x, B, F);
    const so = colStats(out, B, F);
    for (let j = 0; j < F; j++) {
      expect(Math.abs(so.mean[j]), `mean of feature ${j}`).to.be.below(1e-5);
      const biasedVar = (sx.varU[j] * (B - 1)) / B;
      // std over the batch (biased) is sqrt(var / (var + eps)), i.e. ≈ 1
      const std = Math.sqrt((so.varU[j] * (B - 1)) / B);
      expect(std).to.be.closeTo(Math.sqrt(biasedVar / (biasedVar + 1e-3)), 1e-5);
      expect(std).to.be.closeTo(1, 1e-3);
    }
    net.dispose();
  });

  it('trainOnBatch updates the moving statistics by the Keras rule with the unbiased batch variance', () => {
    const F = 3;
    const B = 8;
    const { m, bn } = bnModel(F, { momentum: 0.9 });
    const x = randomArray(B * F, rng(9), 2, 1);
    const y = randomArray(B * F, rng(10), 1);
    const loss = m.trainOnBatch(dn.tensor(x, [B, F]), dn.tensor(y, [B, F]));
    expect(loss).to.be.a('number');
    const { mean, varU } = colStats(x, B, F);
    for (let j = 0; j < F; j++) {
      relClose(w(bn, 'moving_mean')[j], 0.9 * 0 + 0.1 * mean[j], 1e-5, `moving_mean[${j}]`);
      relClose(w(bn, 'moving_variance')[j], 0.9 * 1 + 0.1 * varU[j], 1e-5, `moving_variance[${j}]`);
    }
    // a second step folds in again (moving = m·moving + (1 − m)·batch)
    const mm1 = Float64Array.from(w(bn, 'moving_mean'));
    const mv1 = Float64Array.from(w(bn, 'moving_variance'));
    const x2 = randomArray(B * F, rng(11), 1, -2);
    m.trainOnBatch(dn.tensor(x2, [B, F]), dn.tensor(y, [B, F]));
    const s2 = colStats(x2, B, F);
    for (let j = 0; j < F; j++) {
      relClose(w(bn, 'moving_mean')[j], 0.9 * mm1[j] + 0.1 * s2.mean[j], 1e-5, `moving_mean[${j}] step 2`);
      relClose(w(bn, 'moving_variance')[j], 0.9 * mv1[j] + 0.1 * s2.varU[j], 1e-5, `moving_variance[${j}] step 2`);
    }
  });

  it('predict() uses the moving statistics: (x − mm)/sqrt(mv + eps)·gamma + beta', () => {
    const F = 3;
    const { m } = bnModel(F, { epsilon: 0.01 });
    const gamma = [1.5, 0.5, -2];
    const beta = [0.1, -1, 3];
    const mm = [1, -2, 0.5];
    const mv = [4, 0.25, 2];
    m.setWeights([dn.tensor(gamma), dn.tensor(beta), dn.tensor(mm), dn.tensor(mv)]);
    const x = [[0, 1, 2], [3, -1, 0.5], [-4, 2, 7]];
    const p = m.predict(x).toArray();
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < F; j++) {
        const want = ((x[i][j] - mm[j]) / Math.sqrt(mv[j] + 0.01)) * gamma[j] + beta[j];
        relClose(p[i][j], want, 1e-5, `out[${i}][${j}]`);
      }
  });

  it('momentum: null keeps the cumulative average of the batch statistics', () => {
    const F = 2;
    const B = 6;
    const { m, bn } = bnModel(F, { momentum: null });
    expect(bn.getConfig().momentum).to.equal(null);
    const ms = [];
    const vs = [];
    for (let k = 0; k < 4; k++) {
      const x = randomArray(B * F, rng(20 + k), 1 + k, k - 2);
      m.trainOnBatch(dn.tensor(x, [B, F]), dn.tensor(new Float32Array(B * F), [B, F]));
      const s = colStats(x, B, F);
      ms.push(s.mean);
      vs.push(s.varU);
    }
    for (let j = 0; j < F; j++) {
      relClose(w(bn, 'moving_mean')[j], ms.reduce((a, v) => a + v[j], 0) / 4, 1e-5, `mean ${j}`);
      relClose(w(bn, 'moving_variance')[j], vs.reduce((a, v) => a + v[j], 0) / 4, 1e-5, `var ${j}`);
    }
    expect(bn.numBatchesTracked[0]).to.equal(4);
  });

  for (const [opts, names] of [
    [{ center: false }, ['gamma', 'moving_mean', 'moving_variance']],
    [{ scale: false }, ['beta', 'moving_mean', 'moving_variance']],
    [{ center: false, scale: false }, ['moving_mean', 'moving_variance']],
  ]) {
    it(`${JSON.stringify(opts)} removes the weights from getWeights (order kept)`, () => {
      const d = dn.layers.dense({ units: 3, inputShape: [2] });
      const bn = dn.layers.batchNormalization(opts);
      const m = dn.sequential({ layers: [d, bn] });
      expect(bn.weights.map((v) => v.name)).to.deep.equal(names);
      const ws = m.getWeights();
      expect(ws).to.have.length(2 + names.length);
      expect(ws[0].shape).to.deep.equal([2, 3]);
      names.forEach((n, i) => {
        expect(ws[2 + i].shape).to.deep.equal([3]);
        const want = n === 'gamma' || n === 'moving_variance' ? 1 : 0;
        expect(Array.from(ws[2 + i].data)).to.deep.equal([want, want, want]);
      });
      expect(m.countParams()).to.equal(6 + 3 + 3 * names.length);
      // without beta the output has no offset: a zero input maps to 0 in inference
      if (opts.center === false) {
        m.setWeights(m.getWeights());
        const p = m.predict([[0, 0]]);
        expect(Array.from(p.data)).to.deep.equal([0, 0, 0]);
      }
    });
  }

  it('rejects a training batch of 1 with an error about batch normalization; predict on 1 row works', async () => {
    const { m } = bnModel(3);
    const before = m.getWeights().map((t) => Array.from(t.data));
    expect(() => m.trainOnBatch([[1, 2, 3]], [[0, 0, 0]])).to.throw(/batch normalization/);
    expect(m.getWeights().map((t) => Array.from(t.data))).to.deep.equal(before);
    let err;
    try {
      await m.fit([[1, 2, 3]], [[0, 0, 0]]);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(RangeError);
    expect(err.message).to.match(/batch normalization/);
    // two rows with validationSplit 0.5 leave one training row: same error
    err = undefined;
    try {
      await m.fit([[1, 2, 3], [4, 5, 6]], [[0, 0, 0], [1, 1, 1]], { validationSplit: 0.5 });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(RangeError);
    expect(err.message).to.match(/batch normalization/);
    expect(m.getWeights().map((t) => Array.from(t.data))).to.deep.equal(before);
    const p = m.predict([[1, 2, 3]]);
    expect(p.shape).to.deep.equal([1, 3]);
    expect(Array.from(p.data).every(Number.isFinite)).to.equal(true);
  });

  it('fit with batchSize 1 through a trainable BN is rejected (mentions batch normalization) before any step', async () => {
    const { m } = bnModel(2);
    const before = m.getWeights().map((t) => Array.from(t.data));
    let err;
    try {
      await m.fit([[1, 2], [3, 4], [5, 7]], [[0, 0], [1, 1], [0, 1]], { batchSize: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(Error);
    expect(err.message).to.match(/batch normalization/);
    expect(m.getWeights().map((t) => Array.from(t.data))).to.deep.equal(before);
  });

  it('fit with a trailing single row folds it into the previous batch (no error)', async () => {
    const { m, bn } = bnModel(2, { momentum: 0 });
    const x = randomArray(5 * 2, rng(3), 1);
    const seen = [];
    await m.fit(dn.tensor(x, [5, 2]), dn.tensor(new Float32Array(10), [5, 2]), { batchSize: 2, shuffle: false, callbacks: { onBatchEnd: (b, l) => seen.push(l.size) } });
    expect(seen).to.deep.equal([2, 3]);
    // momentum 0: moving stats are those of the last batch (rows 2..4)
    const s = colStats(x.subarray(4), 3, 2);
    for (let j = 0; j < 2; j++) relClose(w(bn, 'moving_mean')[j], s.mean[j], 1e-5, `mean ${j}`);
  });

  it('prediction of a row does not depend on the other rows in the batch', async () => {
    const d = dn.layers.dense({ units: 4, inputShape: [3], activation: 'tanh' });
    const m = dn.sequential({ layers: [d, dn.layers.batchNormalization(), dn.layers.dense({ units: 2 })] });
    m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const x = randomArray(10 * 3, rng(4), 1);
    await m.fit(dn.tensor(x, [10, 3]), dn.tensor(randomArray(20, rng(5), 1), [10, 2]), { epochs: 2, batchSize: 4, seed: 1 });
    const all = m.predict(dn.tensor(x, [10, 3]));
    for (const i of [0, 5, 9]) {
      const one = m.predict(dn.tensor(x.slice(i * 3, i * 3 + 3), [1, 3]));
      expect(Array.from(one.data)).to.deep.equal(Array.from(all.data.subarray(i * 2, i * 2 + 2)));
    }
    const x2 = Float32Array.from(x);
    x2.fill(50, 0, 15); // change half the batch
    const mixed = m.predict(dn.tensor(x2, [10, 3]));
    expect(Array.from(mixed.data.subarray(10))).to.deep.equal(Array.from(all.data.subarray(10)));
  });

  it('layer.trainable = false freezes a BN layer: moving stats, gamma and beta unchanged; other layers still train', async () => {
    const d1 = dn.layers.dense({ units: 4, inputShape: [3] });
    const bn = dn.layers.batchNormalization({ momentum: 0.5 });
    const d2 = dn.layers.dense({ units: 2 });
    const m = dn.sequential({ layers: [d1, bn, d2] });
    m.compile({ optimizer: dn.optimizers.sgd({ learningRate: 0.1 }), loss: 'meanSquaredError' });
    // non-default values so a reset would also be caught
    m.setWeights(m.getWeights().map((t, i) => (i >= 2 && i < 6 ? dn.tensor(t.data.map((v, k) => v + 0.1 * (k + 1)), t.shape) : t)));
    bn.trainable = false;
    expect(bn.trainableWeights).to.have.length(0);
    const bnBefore = bn.weights.map((v) => Array.from(v.value));
    const d1Before = Array.from(d1.weights[0].value);
    const d2Before = Array.from(d2.weights[0].value);
    const x = randomArray(16 * 3, rng(6), 1);
    const y = randomArray(16 * 2, rng(7), 1);
    const h = await m.fit(dn.tensor(x, [16, 3]), dn.tensor(y, [16, 2]), { epochs: 3, batchSize: 4 });
    expect(bn.weights.map((v) => Array.from(v.value))).to.deep.equal(bnBefore);
    expect(Array.from(d1.weights[0].value)).to.not.deep.equal(d1Before);
    expect(Array.from(d2.weights[0].value)).to.not.deep.equal(d2Before);
    expect(h.history.loss[2]).to.be.below(h.history.loss[0]);
    // frozen BN may take a batch of one row (it runs in inference mode)
    expect(() => m.trainOnBatch([[1, 2, 3]], [[0, 1]])).to.not.throw();
    expect(bn.weights.map((v) => Array.from(v.value))).to.deep.equal(bnBefore);
    // unfreezing makes it learn again
    bn.trainable = true;
    m.trainOnBatch(dn.tensor(x, [16, 3]), dn.tensor(y, [16, 2]));
    expect(Array.from(w(bn, 'moving_mean'))).to.not.deep.equal(bnBefore[2]);
  });

  it('recalibrateBatchNorm sets exact population statistics (unbiased) of each BN input, independent of batchSize', () => {
    const F0 = 3;
    const N = 50;
    const d1 = dn.layers.dense({ units: 4, inputShape: [F0], biasInitializer: 'glorotUniform' });
    const bn1 = dn.layers.batchNormalization();
    const d2 = dn.layers.dense({ units: 3, activation: 'tanh', useBias: false });
    const bn2 = dn.layers.batchNormalization();
    const m = dn.sequential({ layers: [d1, bn1, d2, bn2, dn.layers.dense({ units: 2 })] });
    m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    // non-trivial gamma/beta for bn1 so the second layer's input depends on them
    bn1.setWeightValues([Float32Array.of(1.5, 0.5, 2, 1), Float32Array.of(0.1, -0.2, 0.3, 0), new Float32Array(4), new Float32Array(4).fill(1)]);
    const x = randomArray(N * F0, rng(8), 2, 0.5);
    m.recalibrateBatchNorm(dn.tensor(x, [N, F0]), { batchSize: 7 });
    // BN 1: x·W + b in float64
    const W = w(d1, 'kernel');
    const b = w(d1, 'bias');
    const a1 = new Float64Array(N * 4);
    for (let i = 0; i < N; i++)
      for (let j = 0; j < 4; j++) {
        let s = b[j];
        for (let k = 0; k < F0; k++) s += x[i * F0 + k] * W[k * 4 + j];
        a1[i * 4 + j] = s;
      }
    const s1 = colStats(a1, N, 4);
    for (let j = 0; j < 4; j++) {
      relClose(w(bn1, 'moving_mean')[j], s1.mean[j], 1e-4, `bn1 mean ${j}`);
      relClose(w(bn1, 'moving_variance')[j], s1.varU[j], 1e-4, `bn1 var ${j}`);
    }
    // BN 2: the output of a model of just the layers before it (with bn1 recalibrated)
    const pre = dn.sequential({ layers: [dn.layers.dense({ units: 4, inputShape: [F0] }), dn.layers.batchNormalization(), dn.layers.dense({ units: 3, activation: 'tanh', useBias: false })] });
    pre.setWeights(m.getWeights().slice(0, 7));
    const a2 = pre.predict(dn.tensor(x, [N, F0])).data;
    const s2 = colStats(a2, N, 3);
    for (let j = 0; j < 3; j++) {
      relClose(w(bn2, 'moving_mean')[j], s2.mean[j], 1e-4, `bn2 mean ${j}`);
      relClose(w(bn2, 'moving_variance')[j], s2.varU[j], 1e-4, `bn2 var ${j}`);
    }
    const first = [bn1, bn2].flatMap((l) => [Array.from(w(l, 'moving_mean')), Array.from(w(l, 'moving_variance'))]);
    for (const bs of [1, 2, 13, 1000]) {
      m.recalibrateBatchNorm(dn.tensor(x, [N, F0]), { batchSize: bs });
      const again = [bn1, bn2].flatMap((l) => [Array.from(w(l, 'moving_mean')), Array.from(w(l, 'moving_variance'))]);
      again.flat().forEach((v, i) => relClose(v, first.flat()[i], 1e-5, `batchSize ${bs}, value ${i}`));
    }
  });

  // x (B × F0) · W (F0 × U) in float64.
  const denseRef = (x, W, B, F0, U) => {
    const a = new Float64Array(B * U);
    for (let i = 0; i < B; i++) for (let j = 0; j < U; j++) {
      let v = 0;
      for (let k = 0; k < F0; k++) v += Math.fround(x[i * F0 + k]) * W[k * U + j];
      a[i * U + j] = v;
    }
    return a;
  };

  // Dense → BN takes its batch statistics from the GEMM's store step, summed per chunk of rows
  // shifted by the moving mean; a feature whose batch mean is far from that shift (here 3e4 with
  // std ~1 at the first step, moving mean 0) falls back to the exact two-pass statistics.
  it('batch statistics from the GEMM epilogue: exact both with a poor shift (fallback) and a good one', () => {
    const F0 = 4, U = 40, B = 100;
    const rand = rng(41);
    const x = new Float32Array(B * F0);
    for (let i = 0; i < x.length; i++) x[i] = (i % F0 === 0 ? 30000 : 0) + (rand() * 2 - 1);
    const d = dn.layers.dense({ units: U, inputShape: [F0], useBias: false });
    const bn = dn.layers.batchNormalization({ momentum: 0, epsilon: 1e-3 });
    const m = dn.sequential({ layers: [d, bn] });
    m.compile({ optimizer: dn.optimizers.sgd({ learningRate: 1e-30 }), loss: "meanSquaredError" });  // weights stay put
    const W0 = Float32Array.from({ length: F0 * U }, (_, i) => (i < U ? 1 : 0.5 - ((i * 7) % 11) / 11));
    d.setWeightValues([W0]);
    const net = m.graph(F0);
    const check = (label) => {
      const out = new Float32Array(B * U);
      net.forwardTrain(x, B, false, out);
      const a = denseRef(x, W0, B, F0, U);
      const st = colStats(a, B, U);
      for (let j = 0; j < U; j++) {
        const varB = st.varU[j] * (B - 1) / B;
        for (const i of [0, 37, B - 1]) {
          const want = (a[i * U + j] - st.mean[j]) / Math.sqrt(varB + 1e-3);
          // the float product itself carries |a|·2^-24 ≈ 2e-3 here; the normalized value must not
          // carry more than that (a float E[x²] − E[x]² would be off by orders of magnitude)
          expect(out[i * U + j], `${label}: row ${i} feature ${j}`).to.be.closeTo(want, 0.02);
        }
      }
    };
    check('moving mean 0 (fallback)');
    m.trainOnBatch(dn.tensor(x, [B, F0]), dn.tensor(new Float32Array(B * U), [B, U]));  // momentum 0: moving mean = batch mean
    expect(Math.abs(w(bn, 'moving_mean')[0] - 30000)).to.be.below(1);
    check('moving mean = batch mean (epilogue sums)');
  });

  // The fallback is decided per feature, and on 2 threads each thread normalizes the features
  // it computed (the layer pass runs in the GEMM's column tasks): here the even features sit 3e4
  // from their shift (two-pass), the odd ones near it (epilogue sums), in one 200×100 layer big
  // enough to be split by columns; the output must be exact and the same bits on 1, 2 and 3 threads.
  it('batch statistics: the fallback is per feature, exact, and bit-identical for 1, 2 and 3 threads', () => {
    const F0 = 64, U = 100, B = 200;
    const rand = rng(43);
    const x = new Float32Array(B * F0);
    for (let i = 0; i < x.length; i++) x[i] = (i % F0 === 0 ? 30000 : 0) + (rand() * 2 - 1);
    const W0 = Float32Array.from({ length: F0 * U }, (_, i) => (i < U ? (i % 2 === 0 ? 1 : 0) : 0.5 - ((i * 7) % 11) / 11));
    const a = denseRef(x, W0, B, F0, U);
    const st = colStats(a, B, U);
    const outs = [];
    const saved = dn.backend().threads;
    try {
      for (const t of [1, 2, 3]) {
        dn.setNumThreads(t);
        const d = dn.layers.dense({ units: U, inputShape: [F0], useBias: false });
        const bn = dn.layers.batchNormalization({ epsilon: 1e-3 });
        const m = dn.sequential({ layers: [d, bn, dn.layers.activation({ activation: 'sigmoid' })] });
        m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
        d.setWeightValues([W0]);
        const out = new Float32Array(B * U);
        m.graph(F0).forwardTrain(x, B, false, out);
        for (let j = 0; j < U; j++) {
          const varB = st.varU[j] * (B - 1) / B;
          for (const i of [0, 77, B - 1]) {
            const want = 1 / (1 + Math.exp(-(a[i * U + j] - st.mean[j]) / Math.sqrt(varB + 1e-3)));
            expect(out[i * U + j], `threads ${t}: row ${i} feature ${j}`).to.be.closeTo(want, 0.005);
          }
        }
        outs.push(out);
      }
    } finally {
      dn.setNumThreads(saved);
    }
    expect(Buffer.from(outs[1].buffer).equals(Buffer.from(outs[0].buffer)), '2 threads').to.equal(true);
    expect(Buffer.from(outs[2].buffer).equals(Buffer.from(outs[0].buffer)), '3 threads').to.equal(true);
  });

  it('inference Dense(bias) → BN → ReLU over 300 features (finished per column range inside the GEMM): float64 reference, same bits on 1, 2 and 3 threads', () => {
    const F0 = 70, F = 300, B = 64;
    const rand = rng(57);
    const x = randomArray(B * F0, rand, 1);
    const W = randomArray(F0 * F, rand, 0.2);
    const b = randomArray(F, rand, 0.5);
    const gamma = randomArray(F, rand, 1, 1), beta = randomArray(F, rand, 0.5);
    const mm = randomArray(F, rand, 0.5), mv = randomArray(F, rand, 0.5, 1);
    const d = dn.layers.dense({ units: F, inputShape: [F0] });
    const bn = dn.layers.batchNormalization({ epsilon: 0.01 });
    const m = dn.sequential({ layers: [d, bn, dn.layers.activation({ activation: 'relu' })] });
    m.setWeights([dn.tensor(W, [F0, F]), dn.tensor(b), dn.tensor(gamma), dn.tensor(beta), dn.tensor(mm), dn.tensor(mv)]);
    const saved = dn.backend().threads;
    try {
      let first;
      for (const t of [1, 2, 3]) {
        dn.setNumThreads(t);
        const p = m.predict(dn.tensor(x, [B, F0])).data;
        if (!first) {
          first = p;
          for (let i = 0; i < B; i++)
            for (let j = 0; j < F; j++) {
              let a = b[j];
              for (let k = 0; k < F0; k++) a += x[i * F0 + k] * W[k * F + j];
              const want = Math.max(0, ((a - mm[j]) / Math.sqrt(mv[j] + 0.01)) * gamma[j] + beta[j]);
              expect(Math.abs(p[i * F + j] - want), `out[${i}][${j}]`).to.be.at.most(1e-4 * (1 + Math.abs(want)));
            }
        } else {
          expect(Buffer.from(p.buffer).equals(Buffer.from(first.buffer)), `threads=${t}`).to.equal(true);
        }
      }
    } finally {
      dn.setNumThreads(saved);
      m.dispose();
    }
  });

  it('a bias before BN: the training output ignores it (zero gradient); predict accounts for it via the moving mean', () => {
    const F0 = 3;
    const B = 10;
    const x = randomArray(B * F0, rng(30), 1);
    const y = randomArray(B * 2, rng(31), 1);
    const make = (biasShift) => {
      const d = dn.layers.dense({ units: 2, inputShape: [F0], kernelInitializer: 'ones' });
      const bn = dn.layers.batchNormalization({ momentum: 0 });
      const m = dn.sequential({ layers: [d, bn] });
      m.compile({ optimizer: dn.optimizers.sgd({ learningRate: 0.05 }), loss: 'meanSquaredError' });
      d.setWeightValues([Float32Array.of(0.5, -1, 1, 0.25, -0.5, 2), Float32Array.of(0.3 + biasShift, -0.7 + biasShift)]);
      return { m, d, bn };
    };
    const A = make(0);
    const Bm = make(5);
    const lossA = A.m.trainOnBatch(dn.tensor(x, [B, F0]), dn.tensor(y, [B, 2]));
    const lossB = Bm.m.trainOnBatch(dn.tensor(x, [B, F0]), dn.tensor(y, [B, 2]));
    // (equal up to rounding: the batch statistics are summed shifted by moving mean − bias, so the
    // float rounding differs with the bias even though the mathematics does not)
    expect(lossB).to.be.closeTo(lossA, 1e-5 * Math.abs(lossA));
    // the bias got a zero gradient: unchanged by SGD; the kernels moved identically
    expect(Array.from(w(A.d, 'bias'))).to.deep.equal([Math.fround(0.3), Math.fround(-0.7)]);
    expect(Array.from(w(Bm.d, 'bias'))).to.deep.equal([Math.fround(5.3), Math.fround(4.3)]);
    w(A.d, "kernel").forEach((v, i) => expect(w(Bm.d, "kernel")[i]).to.be.closeTo(v, 1e-5));
    expect(Array.from(w(A.d, 'kernel'))).to.not.deep.equal(Array.from(Float32Array.of(0.5, -1, 1, 0.25, -0.5, 2)));
    // the moving means include the bias
    for (let j = 0; j < 2; j++) expect(w(Bm.bn, 'moving_mean')[j] - w(A.bn, 'moving_mean')[j]).to.be.closeTo(5, 1e-4);
    // so inference gives the same output for both models
    const pa = A.m.predict(dn.tensor(x, [B, F0])).data;
    const pb = Bm.m.predict(dn.tensor(x, [B, F0])).data;
    for (let i = 0; i < pa.length; i++) expect(pb[i]).to.be.closeTo(pa[i], 1e-4);
    // and the moving mean is the batch mean of x·W + b (momentum 0)
    const a = new Float64Array(B * 2);
    const W0 = [0.5, -1, 1, 0.25, -0.5, 2];
    for (let i = 0; i < B; i++) for (let j = 0; j < 2; j++) {
      let s = [0.3, -0.7][j];
      for (let k = 0; k < F0; k++) s += x[i * F0 + k] * W0[k * 2 + j];
      a[i * 2 + j] = s;
    }
    const s = colStats(a, B, 2);
    for (let j = 0; j < 2; j++) relClose(w(A.bn, 'moving_mean')[j], s.mean[j], 1e-5, `moving mean ${j}`);
    expect(rows(A.m.predict([[0, 0, 0]]))).to.equal(1);
  });
});

// Regularizers (Keras definitions): penalty l1·Σ|w| + l2·Σw² (no ½) added to the loss of every
// training batch and of evaluate, gradient l1·sign(w) + 2·l2·w added before the update; checked
// against a float64 reference, finite differences, serialization and errors.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { blockNetSpec, dn, native } from './helpers.mjs';

const R = dn.regularizers;
const x = dn.tensor(new Float32Array([0.5, -1, 2, 1, 0.25, -0.5, -1.5, 0.75, 1, 0.2, -0.3, 0.9, 2, 1, -1, -0.4, 0.6, 0.1]), [6, 3]);
const y = dn.tensor(new Float32Array([1, 0, 0, 1, -1, 0.5, 0.3, 0.2, 2, -1, 0.5, 0.5]), [6, 2]);

// 3 → Dense(4) → BN → relu → Dense(2); with regs, every trainable weight has a regularizer.
function model(regs, lr = 0, frozenFirst = false) {
  dn.setSeed(5);
  const r = regs ? {
    d1: { kernelRegularizer: R.l1l2({ l1: 0.01, l2: 0.02 }), biasRegularizer: R.l2({ l2: 0.03 }) },
    bn: { gammaRegularizer: R.l1({ l1: 0.05 }), betaRegularizer: 'l2' },
    d2: { kernelRegularizer: 'l1' },
  } : { d1: {}, bn: {}, d2: {} };
  const m = dn.sequential({ layers: [
    dn.layers.dense({ units: 4, inputShape: [3], trainable: !frozenFirst, ...r.d1 }),
    dn.layers.batchNormalization({ ...r.bn }),
    dn.layers.activation({ activation: 'relu' }),
    dn.layers.dense({ units: 2, ...r.d2 }),
  ] });
  // non-trivial gamma and beta (ones and zeros would hide their terms)
  const w = m.getWeights();
  w[2] = dn.tensor(new Float32Array([1.2, 0.8, -0.9, 1.1]), [4]);
  w[3] = dn.tensor(new Float32Array([0.3, -0.2, 0.1, 0.4]), [4]);
  w[1] = dn.tensor(new Float32Array([0.1, -0.3, 0.2, 0.05]), [4]);
  m.setWeights(w);
  m.compile({ optimizer: dn.optimizers.sgd({ learningRate: lr }), loss: 'meanSquaredError' });
  return m;
}

// [weight index in getWeights(), l1, l2] of the regularized model (moving stats at 4, 5).
const TERMS = [[0, 0.01, 0.02], [1, 0, 0.03], [2, 0.05, 0], [3, 0, 0.01], [6, 0.01, 0]];
function penalty(m, terms = TERMS) {
  const w = m.getWeights();
  let p = 0;
  for (const [i, l1, l2] of terms) for (const v of w[i].data) p += l1 * Math.abs(v) + l2 * v * v;
  return p;
}

describe('regularizers: factories and config', () => {
  it('defaults as Keras: l1 0.01, l2 0.01, l1l2 0 and 0; strings l1 and l2', () => {
    expect(R.l1().getConfig()).to.deep.equal({ l1: 0.01, l2: 0 });
    expect(R.l2().getConfig()).to.deep.equal({ l1: 0, l2: 0.01 });
    expect(R.l1l2().getConfig()).to.deep.equal({ l1: 0, l2: 0 });
    expect(R.l1l2({ l1: 0.2, l2: 0.3 }).getConfig()).to.deep.equal({ l1: 0.2, l2: 0.3 });
    expect(dn.layers.dense({ units: 2, kernelRegularizer: 'l1' }).kernelRegularizer.getConfig()).to.deep.equal({ l1: 0.01, l2: 0 });
    expect(dn.layers.batchNormalization({ betaRegularizer: 'l2' }).betaRegularizer.getConfig()).to.deep.equal({ l1: 0, l2: 0.01 });
    expect(R.l1l2({ l1: 0.5, l2: 2 }).penalty([1, -2])).to.equal(0.5 * 3 + 2 * 5);
  });

  it('layer configs store {className: "L1L2", config: {l1, l2}} (tfjs) and only when set; Keras L1 / L2 configs load', () => {
    const d = dn.layers.dense({ units: 2, kernelRegularizer: R.l2({ l2: 0.5 }), biasRegularizer: 'l1' });
    expect(d.getConfig().kernelRegularizer).to.deep.equal({ className: 'L1L2', config: { l1: 0, l2: 0.5 } });
    expect(d.getConfig().biasRegularizer).to.deep.equal({ className: 'L1L2', config: { l1: 0.01, l2: 0 } });
    const bn = dn.layers.batchNormalization({ gammaRegularizer: 'l2' });
    expect(bn.getConfig().gammaRegularizer).to.deep.equal({ className: 'L1L2', config: { l1: 0, l2: 0.01 } });
    expect(bn.getConfig()).to.not.have.property('betaRegularizer');
    expect(dn.layers.dense({ units: 2 }).getConfig()).to.not.have.property('kernelRegularizer');
    // Keras's class defaults: L2() is 0.01, L1L2() is 0
    expect(dn.layers.dense({ units: 2, kernelRegularizer: { className: 'L2', config: {} } }).kernelRegularizer.l2).to.equal(0.01);
    expect(dn.layers.dense({ units: 2, kernelRegularizer: { className: 'L1L2', config: { l1: 0.2 } } }).kernelRegularizer.getConfig()).to.deep.equal({ l1: 0.2, l2: 0 });
    expect(dn.layers.dense({ units: 2, kernelRegularizer: null }).kernelRegularizer).to.equal(undefined);
  });

  it('bad regularizers are TypeError / RangeError naming the argument', () => {
    expect(() => R.l1({ l1: -1 })).to.throw(RangeError, /for l1 but received -1/);
    expect(() => R.l2({ l2: NaN })).to.throw(RangeError, /for l2 but received NaN/);
    expect(() => R.l1l2({ l3: 1 })).to.throw(RangeError, /Unknown option "l3"/);
    expect(() => dn.layers.dense({ units: 2, kernelRegularizer: 'l3' })).to.throw(RangeError, /for kernelRegularizer but received a string "l3"/);
    expect(() => dn.layers.dense({ units: 2, biasRegularizer: 5 })).to.throw(TypeError, /for biasRegularizer but received 5/);
    expect(() => dn.layers.batchNormalization({ gammaRegularizer: { className: 'L3', config: {} } })).to.throw(RangeError, /gammaRegularizer.className/);
    expect(() => dn.layers.batchNormalization({ betaRegularizer: { className: 'L2', config: { l2: -2 } } })).to.throw(RangeError, /l2 but received -2.*betaRegularizer/);
    const w = (p) => new native.NativeNet(blockNetSpec({ blocks: [{ in: 1, out: 1, kernel: new Float32Array(1), gradKernel: new Float32Array(1), denseTrainable: true, preAct: 0, postAct: 0 }],
      loss: 3, optimizer: { type: 0, learningRate: 0.1 }, params: [{ value: new Float32Array(1), grad: new Float32Array(1), ...p }] }));
    expect(() => w({ l2: -1 })).to.throw(RangeError, /l1 and l2 >= 0/);
    expect(() => w({ l1: NaN })).to.throw(RangeError, /l1 and l2 >= 0/);
    expect(() => w({ l1: 'a' })).to.throw(TypeError, /l1/);
  });
});

describe('regularizers: loss and gradient', () => {
  it('the training loss gains l1·Σ|w| + l2·Σw² (float64 reference), on the weights before the update', () => {
    const reg = model(true), plain = model(false);
    const p = penalty(reg);
    expect(p).to.be.greaterThan(0.05);
    const lr = reg.trainOnBatch(x, y), lp = plain.trainOnBatch(x, y);
    expect(lr - lp).to.be.closeTo(p, 1e-7); // l1, l2 are float32 natively
    // a rate > 0: still the penalty of the weights before this step
    const reg2 = model(true, 0.5), plain2 = model(false, 0.5);
    const p2 = penalty(reg2);
    expect(reg2.trainOnBatch(x, y) - plain2.trainOnBatch(x, y)).to.be.closeTo(p2, 1e-7); // l1, l2 are float32 natively
    expect(penalty(reg2)).to.not.be.closeTo(p2, 1e-6);
  });

  it('one SGD step moves each weight by −lr·(l1·sign(w) + 2·l2·w) more than without', () => {
    const lr = 0.25;
    const reg = model(true, lr), plain = model(false, lr);
    const w0 = reg.getWeights().map((t) => Float64Array.from(t.data));
    reg.trainOnBatch(x, y);
    plain.trainOnBatch(x, y);
    const wr = reg.getWeights(), wp = plain.getWeights();
    const l = new Map(TERMS.map(([i, l1, l2]) => [i, [l1, l2]]));
    for (const i of [0, 1, 2, 3, 6, 7]) {
      const [l1, l2] = l.get(i) ?? [0, 0];
      for (let k = 0; k < w0[i].length; k++) {
        const w = w0[i][k];
        const extra = -lr * (l1 * Math.sign(w) + 2 * l2 * w);
        expect(wr[i].data[k] - wp[i].data[k], `weight ${i}[${k}]`).to.be.closeTo(extra, 3e-7);
      }
    }
    // moving statistics do not take a penalty
    expect(Array.from(wr[4].data)).to.deep.equal(Array.from(wp[4].data));
  });

  it('lossAndGrad: the regularized gradient matches central differences of the regularized loss', () => {
    const kernel = new Float32Array([0.4, -0.7, 0.9, 0.3, -0.5, 0.6]);
    const bias = new Float32Array([0.2, -0.35]);
    const gk = new Float32Array(6), gb = new Float32Array(2);
    const net = new native.NativeNet(blockNetSpec({
      blocks: [{ in: 3, out: 2, kernel, bias, gradKernel: gk, gradBias: gb, denseTrainable: true, preAct: 0, postAct: 0 }],
      loss: 3, optimizer: { type: 0, learningRate: 0.1 },
      params: [{ value: kernel, grad: gk, l1: 0.03, l2: 0.05 }, { value: bias, grad: gb, l2: 0.1 }],
    }));
    const loss = () => net.lossAndGrad(x.data, 6, y.data, false).loss;
    loss();
    const ana = [...gk, ...gb];
    const H = 1e-2;
    let i = 0;
    for (const arr of [kernel, bias]) {
      for (let k = 0; k < arr.length; k++, i++) {
        const w = arr[k];
        arr[k] = w + H; const up = loss();
        arr[k] = w - H; const dn_ = loss();
        arr[k] = w;
        const h = Math.fround(w + H) - Math.fround(w - H);
        const num = (up - dn_) / h;
        expect(ana[i], `param ${i}: numeric ${num}`).to.be.closeTo(num, 1e-3 * Math.max(1, Math.abs(num)));
      }
    }
    // and the loss holds the penalty: a twin without l1/l2 reports less by exactly the float64 penalty
    const twin = new native.NativeNet(blockNetSpec({
      blocks: [{ in: 3, out: 2, kernel, bias, gradKernel: new Float32Array(6), gradBias: new Float32Array(2), denseTrainable: true, preAct: 0, postAct: 0 }],
      loss: 3, optimizer: { type: 0, learningRate: 0.1 }, params: [],
    }));
    let p = 0;
    for (const v of kernel) p += 0.03 * Math.abs(v) + 0.05 * v * v;
    for (const v of bias) p += 0.1 * v * v;
    expect(loss() - twin.lossAndGrad(x.data, 6, y.data, false).loss).to.be.closeTo(p, 1e-7); // l1, l2 are float32 natively
  });

  it('evaluate, validation and the fit history carry the penalty too (Keras adds it in test_step)', async () => {
    const reg = model(true), plain = model(false);
    const p = penalty(reg);
    expect(reg.evaluate(x, y).loss - plain.evaluate(x, y).loss).to.be.closeTo(p, 1e-7); // l1, l2 are float32 natively
    expect((await reg.evaluateAsync(x, y)).loss - (await plain.evaluateAsync(x, y)).loss).to.be.closeTo(p, 1e-7); // l1, l2 are float32 natively
    const hr = await reg.fit(x, y, { batchSize: 6, validationData: [x, y] });
    const hp = await plain.fit(x, y, { batchSize: 6, validationData: [x, y] });
    expect(hr.history.loss[0] - hp.history.loss[0]).to.be.closeTo(p, 1e-7); // l1, l2 are float32 natively
    expect(hr.history.val_loss[0] - hp.history.val_loss[0]).to.be.closeTo(p, 1e-7); // l1, l2 are float32 natively
  });

  it("a frozen layer's regularizer adds nothing (Keras regularizes trainable weights only)", () => {
    const reg = model(true, 0, true), plain = model(false, 0, true);
    const p = penalty(reg, TERMS.filter(([i]) => i >= 2));
    expect(reg.trainOnBatch(x, y) - plain.trainOnBatch(x, y)).to.be.closeTo(p, 1e-7); // l1, l2 are float32 natively
  });

  it('l1l2({}) (both 0) trains bit-identically to no regularizer', async () => {
    dn.setSeed(9);
    const a = dn.sequential({ layers: [dn.layers.dense({ units: 2, inputShape: [3], kernelRegularizer: R.l1l2(), biasRegularizer: R.l1l2() })] });
    dn.setSeed(9);
    const b = dn.sequential({ layers: [dn.layers.dense({ units: 2, inputShape: [3] })] });
    for (const m of [a, b]) m.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
    const ha = await a.fit(x, y, { epochs: 3, batchSize: 2, seed: 1 });
    const hb = await b.fit(x, y, { epochs: 3, batchSize: 2, seed: 1 });
    expect(ha.history.loss).to.deep.equal(hb.history.loss);
    expect(a.getWeights().map((t) => Array.from(t.data))).to.deep.equal(b.getWeights().map((t) => Array.from(t.data)));
  });

  it('save / loadModel restores the regularizers: the loaded model reports the same regularized loss', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'densenorm-reg-'));
    try {
      const m = model(true);
      await m.save(dir);
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
      expect(JSON.stringify(json)).to.include('"kernelRegularizer":{"className":"L1L2","config":{"l1":0.01,"l2":0.02}}');
      const back = await dn.loadModel(dir);
      expect(back.layers[0].kernelRegularizer.getConfig()).to.deep.equal({ l1: 0.01, l2: 0.02 });
      expect(back.layers[1].betaRegularizer.getConfig()).to.deep.equal({ l1: 0, l2: 0.01 });
      back.compile({ optimizer: dn.optimizers.sgd({ learningRate: 0 }), loss: 'meanSquaredError' });
      expect(back.evaluate(x, y).loss).to.equal(m.evaluate(x, y).loss);
      expect(back.trainOnBatch(x, y)).to.equal(m.trainOnBatch(x, y));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

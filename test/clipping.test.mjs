// Optimizer arguments: gradient clipping (Keras base_optimizer: clipvalue per element, clipnorm
// per tensor g·c / max(‖g‖, c), globalClipnorm g·c / max(‖G‖, c) with ‖G‖ = √Σ‖g‖², applied to
// the whole gradient, regularization included, before the update) against hand-computed steps;
// learningRate 0 for every optimizer; and their errors, in JS and natively.
import { expect } from 'chai';
import { blockNetSpec, dn, native } from './helpers.mjs';

const x = dn.tensor(new Float32Array([0.5, -1, 2, 1, 0.25, -0.5, -1.5, 0.75, 1, 0.2, -0.3, 0.9]), [4, 3]);
const y = dn.tensor(new Float32Array([3, 0, 0, 1, -2, 0.5, 0.3, 4]), [4, 2]);

// 3 → Dense(2) linear, MSE, SGD (no momentum) at rate lr with extra optimizer args.
function linear(args = {}, layerArgs = {}, lr = 1) {
  dn.setSeed(21);
  const m = dn.sequential({ layers: [dn.layers.dense({ units: 2, inputShape: [3], ...layerArgs })] });
  m.compile({ optimizer: dn.optimizers.sgd({ learningRate: lr, ...args }), loss: 'meanSquaredError' });
  return m;
}
const weights = (m) => m.getWeights().map((t) => Float64Array.from(t.data));
// The gradient of one step (kernel, bias): minus the change of an unclipped SGD step at rate 1.
function plainGrad(layerArgs = {}) {
  const m = linear({}, layerArgs);
  const w0 = weights(m);
  m.trainOnBatch(x, y);
  return weights(m).map((w, i) => w0[i].map((v, k) => v - w[k]));
}
function expectStep(m, want, tol = 2e-6) {
  const w0 = weights(m);
  m.trainOnBatch(x, y);
  const w1 = weights(m);
  want.forEach((g, i) => g.forEach((v, k) => expect(w0[i][k] - w1[i][k], `weight ${i}[${k}]`).to.be.closeTo(v, tol)));
}
const norm = (g) => Math.sqrt(g.reduce((s, v) => s + v * v, 0));

describe('gradient clipping', () => {
  it('clipvalue: every element clipped to [−c, c]', () => {
    const g = plainGrad();
    const c = 0.5;
    expect(g.flatMap((t) => Array.from(t)).some((v) => Math.abs(v) > c)).to.equal(true);
    expect(g.flatMap((t) => Array.from(t)).some((v) => Math.abs(v) < c)).to.equal(true);
    expectStep(linear({ clipvalue: c }), g.map((t) => t.map((v) => Math.max(-c, Math.min(c, v)))));
  });

  it('clipnorm: each tensor scaled to norm c when above it, the others unchanged', () => {
    const g = plainGrad();
    const [nk, nb] = g.map(norm);
    const c = (nk + nb) / 2; // between the two norms: one tensor clipped, one not
    expect(Math.min(nk, nb)).to.be.lessThan(c);
    expect(Math.max(nk, nb)).to.be.greaterThan(c * 1.01);
    const want = g.map((t, i) => (norm(t) > c ? t.map((v) => (v * c) / norm(t)) : t));
    expectStep(linear({ clipnorm: c }), want);
    const m = linear({ clipnorm: c });
    expectStep(m, want);
  });

  it('globalClipnorm: all tensors scaled by c / ‖G‖ when ‖G‖ > c; unchanged below', () => {
    const g = plainGrad();
    const G = Math.sqrt(g.reduce((s, t) => s + norm(t) ** 2, 0));
    const c = G / 3;
    expectStep(linear({ globalClipnorm: c }), g.map((t) => t.map((v) => (v * c) / G)));
    expectStep(linear({ globalClipnorm: G * 2 }), g, 0);
    // per tensor and global differ here
    const nk = norm(g[0]);
    expect(Math.abs((c / G) - Math.min(1, c / nk))).to.be.greaterThan(1e-3);
  });

  it('clipping acts on the gradient with the regularization term included', () => {
    const reg = { kernelRegularizer: dn.regularizers.l2({ l2: 2 }) };
    const m = linear({ clipvalue: 0.5 }, reg);
    const w0 = weights(m);
    const g = plainGrad(); // without the penalty's gradient
    const total = g.map((t, i) => t.map((v, k) => v + (i === 0 ? 2 * 2 * w0[0][k] : 0)));
    // the penalty changes which elements clip
    const clipped = (t) => t.map((v) => Math.max(-0.5, Math.min(0.5, v)));
    expect(Array.from(clipped(total[0]))).to.not.deep.equal(Array.from(clipped(g[0])));
    expectStep(m, total.map(clipped));
  });

  it('with momentum and Adam too: clipping changes the step, and getConfig holds the argument', () => {
    for (const make of [(a) => dn.optimizers.sgd({ momentum: 0.9, ...a }), (a) => dn.optimizers.adam(a), (a) => dn.optimizers.rmsprop(a)]) {
      const run = (a) => {
        dn.setSeed(21);
        const m = dn.sequential({ layers: [dn.layers.dense({ units: 2, inputShape: [3] })] });
        m.compile({ optimizer: make(a), loss: 'meanSquaredError' });
        m.trainOnBatch(x, y);
        m.trainOnBatch(x, y);
        return m.getWeights().map((t) => Array.from(t.data));
      };
      expect(run({ clipnorm: 0.01 })).to.not.deep.equal(run({}));
      expect(run({ clipnorm: 1e6 })).to.deep.equal(run({})); // never reached: bit-identical
      expect(make({ globalClipnorm: 2 }).getConfig().globalClipnorm).to.equal(2);
      expect(make({}).getConfig()).to.not.have.property('clipnorm');
    }
  });

  it('errors: more than one, zero, negative or non-numbers; natively too', () => {
    expect(() => dn.optimizers.sgd({ clipnorm: 1, clipvalue: 1 })).to.throw(RangeError, /at most one of clipnorm, globalClipnorm and clipvalue .* clipnorm and clipvalue/);
    expect(() => dn.optimizers.adam({ clipnorm: 1, globalClipnorm: 1, clipvalue: 1 })).to.throw(RangeError, /clipnorm and globalClipnorm and clipvalue/);
    expect(() => dn.optimizers.rmsprop({ clipnorm: 0 })).to.throw(RangeError, /> 0 for clipnorm but received 0/);
    expect(() => dn.optimizers.sgd({ globalClipnorm: -1 })).to.throw(RangeError, /globalClipnorm but received -1/);
    expect(() => dn.optimizers.sgd({ clipvalue: Infinity })).to.throw(RangeError, /clipvalue but received Infinity/);
    expect(() => dn.optimizers.sgd({ clipvalue: '1' })).to.throw(TypeError, /clipvalue/);
    expect(() => dn.optimizers.sgd({ clipNorm: 1 })).to.throw(RangeError, /did you mean "clipnorm"/);
    const net = (o) => new native.NativeNet(blockNetSpec({ blocks: [{ in: 1, out: 1, kernel: new Float32Array(1), gradKernel: new Float32Array(1), denseTrainable: true, preAct: 0, postAct: 0 }],
      loss: 3, optimizer: { type: 0, learningRate: 0.1, ...o }, params: [] }));
    expect(() => net({ clipnorm: 1, clipvalue: 2 })).to.throw(RangeError, /at most one of clipnorm, globalClipnorm and clipvalue/);
    expect(() => net({ globalClipnorm: -1 })).to.throw(RangeError, /globalClipnorm but received -1/);
    expect(() => net({ clipvalue: NaN })).to.throw(RangeError, /clipvalue but received nan/i);
    expect(() => net({ clipvalue: 1 })).to.not.throw();
  });
});

describe('learningRate 0', () => {
  const OPTS = {
    sgd: { learningRate: 0 },
    'sgd momentum nesterov weightDecay': { learningRate: 0, momentum: 0.9, nesterov: true, weightDecay: 0.1 },
    adam: { learningRate: 0, weightDecay: 0.1 },
    rmsprop: { learningRate: 0 },
    'rmsprop momentum': { learningRate: 0, momentum: 0.5, weightDecay: 0.1 },
  };
  for (const [name, args] of Object.entries(OPTS)) {
    it(`${name}: trainable weights unchanged bit for bit, moving statistics still updated (both fit paths)`, async () => {
      for (const callbacks of [undefined, { onBatchEnd: () => {} }]) {
        dn.setSeed(2);
        const m = dn.sequential({ layers: [dn.layers.dense({ units: 4, inputShape: [3] }), dn.layers.batchNormalization({ momentum: 0.5 }), dn.layers.dense({ units: 2 })] });
        const make = name.startsWith('sgd') ? dn.optimizers.sgd : name.startsWith('adam') ? dn.optimizers.adam : dn.optimizers.rmsprop;
        m.compile({ optimizer: make(args), loss: 'meanSquaredError' });
        const before = m.layers.map((l) => l.weights.map((w) => Array.from(w.value)));
        const h = await m.fit(x, y, { epochs: 2, batchSize: 2, callbacks });
        expect(Number.isFinite(h.history.loss[1])).to.equal(true);
        m.layers.forEach((l, i) => l.weights.forEach((w, k) => {
          const same = expect(Array.from(w.value), `${l.name}/${w.name}`).to;
          if (w.name.startsWith('moving_')) same.not.deep.equal(before[i][k]);
          else same.deep.equal(before[i][k]);
        }));
        expect(m.optimizer.iterations).to.equal(4);
      }
    });
  }

  it('negative, NaN or infinite learning rates are RangeErrors, in JS, natively and when set later', () => {
    for (const make of [dn.optimizers.sgd, dn.optimizers.adam, dn.optimizers.rmsprop]) {
      expect(() => make({ learningRate: -0.1 })).to.throw(RangeError, />= 0 for learningRate but received -0.1/);
      expect(() => make({ learningRate: NaN })).to.throw(RangeError, /learningRate but received NaN/);
      expect(() => make({ learningRate: Infinity })).to.throw(RangeError, /learningRate but received Infinity/);
      expect(() => make({ learningRate: '0.1' })).to.throw(TypeError, /learningRate/);
      const o = make({ learningRate: 0 });
      expect(o.learningRate).to.equal(0);
      expect(() => { o.learningRate = -1; }).to.throw(RangeError, /learningRate/);
      expect(o.learningRate).to.equal(0);
    }
    const spec = (lr) => blockNetSpec({ blocks: [{ in: 1, out: 1, kernel: new Float32Array(1), gradKernel: new Float32Array(1), denseTrainable: true, preAct: 0, postAct: 0 }], loss: 3, optimizer: { type: 1, learningRate: lr }, params: [] });
    expect(() => new native.NativeNet(spec(-1))).to.throw(RangeError, /finite number >= 0 for learningRate but received -1/);
    expect(() => new native.NativeNet(spec(Infinity))).to.throw(RangeError, /learningRate/);
    const net = new native.NativeNet(spec(0));
    expect(() => net.setLearningRate(-0.5)).to.throw(RangeError, /learningRate but received -0.5/);
    expect(() => net.setLearningRate(NaN)).to.throw(RangeError, /learningRate/);
    expect(() => net.setLearningRate(1e300)).to.throw(RangeError, /learningRate but received inf/); // float32 overflow
    expect(() => net.setLearningRate(0)).to.not.throw();
  });

  it('the native epoch rejects a bad per-batch rate at that batch, leaving it undone', async () => {
    const m = linear();
    m.trainOnBatch(x, y); // builds the net
    const n = m.nativeGraph.current;
    const order = Int32Array.from([0, 1, 2, 3]);
    const r = await n.trainBatchesAsync(x.data, y.data, 2, order, Int32Array.from([0, 2, 2, 2]), 1, new Int32Array(1), new Float64Array(6), { rates: Float32Array.from([0.1, -1]) });
    expect(r.done).to.equal(1);
    expect(r.error).to.match(/learningRate but received -1/);
    expect(() => n.trainBatchesAsync(x.data, y.data, 2, order, Int32Array.from([0, 2, 2, 2]), 1, new Int32Array(1), new Float64Array(6), { rates: new Float32Array(3) })).to.throw(RangeError, /2 elements for options.rates but received 3/);
  });
});

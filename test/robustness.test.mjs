// API-boundary checks that test/errors.test.mjs does not cover: detached buffers, shape/data
// mismatches, sizes that would need absurd memory, setWeights, callbacks, the raw NativeNet
// (a caller bypassing the façade gets exceptions, never corruption), and a loss that overflows.
import { expect } from 'chai';
import { dn, native, isa, X, Y, snapshot, caught, tinyModel } from './helpers.mjs';

const model = (loss = 'categoricalCrossentropy', optimizer = 'sgd') => tinyModel({ seed: 5, loss, optimizer });

function detachedF32(n) {
  const a = new Float32Array(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

describe(`robustness: API boundary (isa=${isa})`, () => {
  describe('tensor()', () => {
    it('a detached Float32Array → TypeError naming values', () => {
      expect(() => dn.tensor(detachedF32(4))).to.throw(TypeError, /values.*detached/);
      expect(() => dn.tensor(detachedF32(4), [2, 2])).to.throw(TypeError, /detached/);
    });
    it('Float64Array, Int32Array, strings, objects → TypeError naming values', () => {
      for (const bad of [new Float64Array(4), new Int32Array(4), 'abc', { length: 4 }, 5, null, undefined]) {
        expect(() => dn.tensor(bad), String(bad)).to.throw(TypeError, /values/);
      }
    });
    it('shape and data length disagree → RangeError with both numbers', () => {
      expect(() => dn.tensor([1, 2, 3, 4], [3, 2])).to.throw(RangeError, /6 elements.*4 values/);
      expect(() => dn.tensor(new Float32Array(6), [4])).to.throw(RangeError, /4 elements/);
    });
    it('bad shapes → RangeError/TypeError naming the dimension', () => {
      expect(() => dn.tensor([1, 2], [2, 0])).to.throw(RangeError, /shape\[1\]/);
      expect(() => dn.tensor([1, 2], [-2, -1])).to.throw(RangeError, /shape\[0\]/);
      expect(() => dn.tensor([1, 2], [2.5])).to.throw(RangeError, /shape\[0\]/);
      expect(() => dn.tensor([1, 2], ['2'])).to.throw(TypeError, /shape\[0\]/);
      expect(() => dn.tensor([1, 2], [])).to.throw(RangeError, /shape/);
      expect(() => dn.tensor([1, 2], 2)).to.throw(TypeError, /shape/);
      // a product that overflows 2^53 cannot match any real array
      expect(() => dn.tensor([1, 2], [2 ** 30, 2 ** 30, 2 ** 30])).to.throw(RangeError, /elements/);
    });
    it('empty input → RangeError', () => {
      expect(() => dn.tensor([])).to.throw(RangeError, /non-empty/);
      expect(() => dn.tensor(new Float32Array(0))).to.throw(RangeError, /non-empty/);
      expect(() => dn.tensor([[]])).to.throw(RangeError, /non-empty/);
    });
  });

  describe('unknown names', () => {
    it('unknown initializer names → RangeError naming the argument', () => {
      expect(() => dn.layers.dense({ units: 2, kernelInitializer: 'nope' })).to.throw(RangeError, /kernelInitializer/);
      expect(() => dn.layers.dense({ units: 2, biasInitializer: { className: 'Nope' } })).to.throw(RangeError, /biasInitializer/);
      expect(() => dn.layers.dense({ units: 2, kernelInitializer: 7 })).to.throw(TypeError, /kernelInitializer/);
    });
    it('an optimizer object with unknown options → RangeError', () => {
      expect(() => dn.optimizers.sgd({ learningRat: 0.1 })).to.throw(RangeError, /learningRat/);
      expect(() => dn.optimizers.adam({ learningRate: -1 })).to.throw(RangeError, /learningRate/);
    });
    it('batchNormalization epsilon that float32 rounds to 0 → RangeError', () => {
      expect(() => dn.layers.batchNormalization({ epsilon: 1e-50 })).to.throw(RangeError, /epsilon/);
    });
  });

  describe('layer sizes are checked before anything is allocated', () => {
    it('dense({units: 1e9}) with inputShape [1e6] → RangeError at construction', () => {
      expect(() => dn.layers.dense({ units: 1e9, inputShape: [1e6] })).to.throw(RangeError, /units/);
    });
    it('inputShape beyond the native limit → RangeError naming inputShape', () => {
      expect(() => dn.layers.dense({ units: 2, inputShape: [2 ** 25] })).to.throw(RangeError, /inputShape/);
      expect(() => dn.layers.dense({ units: 2, batchInputShape: [null, 2 ** 25] })).to.throw(RangeError, /batchInputShape/);
      expect(() => dn.layers.dense({ units: 2, inputShape: [1e300] })).to.throw(RangeError, /inputShape/);
    });
    it('a kernel of more than 2^30 values → RangeError naming the weight, with nothing allocated', () => {
      // each dimension is allowed, their product is not
      const l = dn.layers.dense({ units: 2 ** 20, name: 'huge_kernel' });
      const m = dn.sequential({ layers: [dn.layers.dense({ units: 2 ** 11, inputShape: [2] })] });
      expect(() => m.add(l)).to.throw(RangeError, /kernel.*huge_kernel.*2048, 1048576/);
      expect(l.built).to.equal(false);
      expect(m.layers.length).to.equal(1);
      // the same through a lazily built model (input size known only at predict)
      const lazy = dn.sequential({ layers: [dn.layers.dense({ units: 2 ** 21 }), dn.layers.dense({ units: 2 ** 10 })] });
      expect(() => lazy.predict([[1]])).to.throw(RangeError, /kernel.*2097152, 1024/);
      expect(() => dn.sequential({ layers: [dn.layers.dense({ units: 2 ** 24, inputShape: [2 ** 24] })] })).to.throw(RangeError, /kernel/);
    });
    it('a training batch whose workspace would exceed 1 GiB per buffer → RangeError naming batchSize / x', async () => {
      dn.setSeed(1);
      const m = dn.sequential({ layers: [dn.layers.dense({ units: 2 ** 24, inputShape: [1], useBias: false, kernelInitializer: 'zeros' })] });
      m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      const x = new Float32Array(20);
      const y = new Float32Array(1); // never read: the batch is rejected first
      const e = await caught(() => m.fit(x, y, { batchSize: 20 }));
      expect(e).to.be.instanceOf(RangeError);
      expect(e.message).to.match(/batchSize/).and.match(/at most 16 rows/);
      expect(() => m.trainOnBatch(x, y)).to.throw(RangeError, /at most 16 rows.*for x\b/);
    });
  });

  describe('fit / predict / evaluate arguments', () => {
    let m;
    let before;
    beforeEach(() => {
      m = model();
      before = snapshot(m);
    });
    afterEach(() => {
      expect(snapshot(m)).to.deep.equal(before);
      expect(m.isTraining).to.equal(false);
    });

    it('a detached Float32Array as x or y → TypeError, model unchanged', async () => {
      expect(() => m.predict(detachedF32(12))).to.throw(TypeError, /for x\b.*detached/);
      expect(() => m.trainOnBatch(detachedF32(12), Y)).to.throw(TypeError, /detached/);
      const e = await caught(() => m.fit(new Float32Array(12), detachedF32(12)));
      expect(e).to.be.instanceOf(TypeError);
      expect(e.message).to.match(/for y\b/);
    });

    it('a flat x whose length is not a multiple of the feature count → RangeError naming x', () => {
      expect(() => m.predict(new Float32Array(10))).to.throw(RangeError, /multiple of 3.*for x\b/);
    });

    it('a Tensor x of rank 3 → RangeError naming x', () => {
      expect(() => m.predict(dn.tensor(new Float32Array(24), [2, 4, 3]))).to.throw(RangeError, /rank/);
    });

    it('empty batch → RangeError for predict, fit, trainOnBatch, evaluate', async () => {
      expect(() => m.predict([])).to.throw(RangeError, /x/);
      expect(() => m.predict(new Float32Array(0))).to.throw(RangeError, /x/);
      expect(() => m.trainOnBatch([], [])).to.throw(RangeError, /x/);
      expect(() => m.evaluate(new Float32Array(0), new Float32Array(0))).to.throw(RangeError, /x/);
      const e = await caught(() => m.fit([], []));
      expect(e).to.be.instanceOf(RangeError);
    });

    it('a training batch of 1 through batch norm → RangeError (fit and trainOnBatch)', async () => {
      expect(() => m.trainOnBatch([X[0]], [Y[0]])).to.throw(/batch normalization|at least 2/);
      const e1 = await caught(() => m.fit([X[0]], [Y[0]]));
      expect(e1).to.be.instanceOf(RangeError);
      const e2 = await caught(() => m.fit(X, Y, { batchSize: 1 }));
      expect(e2).to.be.instanceOf(RangeError);
      expect(e2.message).to.match(/batchSize/);
    });

    const more = [
      ['epochs 2.5', { epochs: 2.5 }, RangeError, /epochs/],
      ['epochs Infinity', { epochs: Infinity }, RangeError, /epochs/],
      ['batchSize 0', { batchSize: 0 }, RangeError, /batchSize/],
      ['batchSize -4', { batchSize: -4 }, RangeError, /batchSize/],
      ["batchSize '8'", { batchSize: '8' }, TypeError, /batchSize/],
      ['initialEpoch -1', { initialEpoch: -1 }, RangeError, /initialEpoch/],
      ['seed 1.5', { seed: 1.5 }, RangeError, /seed/],
      ['validationData not a pair', { validationData: [X] }, TypeError, /validationData/],
      ['callbacks null', { callbacks: null }, TypeError, /callbacks/],
      ['callbacks with a non-function hook', { callbacks: { onEpochEnd: 5 } }, TypeError, /onEpochEnd/],
      ['callbacks a string', { callbacks: 'log' }, TypeError, /callbacks/],
      ['args not an object', 5, TypeError, /fit args/],
    ];
    for (const [name, args, type, re] of more) {
      it(`fit with ${name} → ${type.name}`, async () => {
        const e = await caught(() => m.fit(X, Y, args));
        expect(e, name).to.be.instanceOf(type);
        expect(e.message).to.match(re);
      });
    }

    it('predict/evaluate options are checked (unknown keys, non-objects)', () => {
      expect(() => m.predict(X, { batchsize: 2 })).to.throw(RangeError, /batchsize/);
      expect(() => m.predict(X, 7)).to.throw(TypeError, /predict args/);
      expect(() => m.evaluate(X, Y, { batchSize: -1 })).to.throw(RangeError, /batchSize/);
    });

    it('labels out of range given as a Float32Array (sparse) → RangeError naming y', () => {
      m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
      expect(() => m.trainOnBatch(X, new Float32Array([0, 1, 2, 7]))).to.throw(RangeError, /class ids.*row 3/);
      expect(() => m.trainOnBatch(X, new Float32Array([0, 1, 2, Infinity]))).to.throw(RangeError, /class ids/);
    });

    it('setWeights: wrong count, wrong shapes, wrong types → errors, weights untouched', () => {
      const w = m.getWeights();
      expect(() => m.setWeights(w.slice(1))).to.throw(RangeError, new RegExp(`Expected ${w.length} tensors`));
      expect(() => m.setWeights([...w, w[0]])).to.throw(RangeError, /tensors/);
      const badShape = w.slice();
      badShape[0] = dn.tensor(new Float32Array(12), [4, 3]); // kernel is [3, 4]
      expect(() => m.setWeights(badShape)).to.throw(RangeError, /shape \[3,4\].*weights\[0\]/);
      const badLen = w.slice();
      badLen[1] = new Float32Array(5);
      expect(() => m.setWeights(badLen)).to.throw(RangeError, /weights\[1\]/);
      const badType = w.slice();
      badType[2] = new Float64Array(4);
      expect(() => m.setWeights(badType)).to.throw(TypeError, /weights\[2\]/);
      const detached = w.slice();
      detached[2] = detachedF32(4);
      expect(() => m.setWeights(detached)).to.throw(TypeError, /detached/);
      expect(() => m.setWeights('weights')).to.throw(TypeError, /weights/);
    });
  });

  describe('non-finite loss in fit', () => {
    // A learning rate of 1e18 against targets of 1e15: the loss overflows within a few batches.
    const overflowModel = (optimizer) => {
      dn.setSeed(11);
      const m = dn.sequential({
        layers: [
          dn.layers.dense({ units: 8, inputShape: [4] }),
          dn.layers.batchNormalization(),
          dn.layers.activation({ activation: 'relu' }),
          dn.layers.dense({ units: 1 }),
        ],
      });
      const opt = optimizer === 'sgd' ? dn.optimizers.sgd({ learningRate: 1e18 }) : dn.optimizers.adam({ learningRate: 1e18 });
      m.compile({ optimizer: opt, loss: 'meanSquaredError' });
      return m;
    };
    for (const optimizer of ['sgd', 'adam']) {
      it(`${optimizer}: a loss that overflows stops fit with an error naming epoch and batch; weights, moving statistics and optimizer state are those from before that batch`, async () => {
        const m = overflowModel(optimizer);
        const opt = m.optimizer;
        const n = 64;
        const x = new Float32Array(n * 4).map((_, i) => Math.sin(i) * 3);
        const y = new Float32Array(n).map((_, i) => Math.cos(i) * 1e15);
        let last;
        const params = () => m.layers.flatMap((l) => l.weights.filter((w) => w.trainable).map((w) => w.value));
        const state = () => ({
          weights: m.getWeights().map((t) => Array.from(t.data)),
          opt: params().flatMap((p) => opt.stateFor(p).map((s) => Array.from(s))),
          iterations: opt.iterations,
          bn: Array.from(m.layers[1].numBatchesTracked ?? []),
        });
        const e = await caught(() =>
          m.fit(x, y, { epochs: 20, batchSize: 8, shuffle: false, callbacks: { onBatchBegin: () => { last = state(); } } }),
        );
        expect(e, 'fit must fail').to.be.instanceOf(Error);
        expect(e.name).to.equal('DensenormError');
        expect(e.code).to.equal('ERR_TRAINING');
        expect(e.message).to.match(/epoch \d+, batch \d+/).and.match(/not finite/);
        expect(m.isTraining).to.equal(false);
        const after = state();
        expect(after).to.deep.equal(last);
        // the model is still usable and its weights are those of the snapshot
        expect(() => m.predict(x)).to.not.throw();
      });
    }

    // Without batch callbacks the epoch runs natively in one hop: the failing batch is reported
    // the same way, the batches before it count, and the failing one changes nothing.
    it('a loss that overflows in a native epoch (no batch callbacks): the same error, and the state of a replay stopped before that batch', async () => {
      const make = () => overflowModel('sgd');
      const n = 64;
      const x = new Float32Array(n * 4).map((_, i) => Math.sin(i) * 3);
      const y = new Float32Array(n).map((_, i) => Math.cos(i) * 1e15);
      const m = make();
      const e = await caught(() => m.fit(x, y, { epochs: 20, batchSize: 8, shuffle: false }));
      expect(e, 'fit must fail').to.be.instanceOf(Error);
      expect(e.code).to.equal('ERR_TRAINING');
      expect(e.message).to.match(/not finite/);
      const [, epoch, batch] = e.message.match(/epoch (\d+), batch (\d+)/).map(Number);
      expect(m.isTraining).to.equal(false);
      expect(m.optimizer.iterations).to.equal(epoch * 8 + batch);
      // Replay with a per-batch callback that stops fit just before the failing batch: same state.
      const r = make();
      let seen = 0;
      await r.fit(x, y, { epochs: epoch + 1, batchSize: 8, shuffle: false, callbacks: { onBatchEnd: () => { if (++seen === epoch * 8 + batch) r.stopTraining = true; } } });
      expect(r.optimizer.iterations).to.equal(epoch * 8 + batch);
      expect(m.getWeights().map((t) => Array.from(t.data))).to.deep.equal(r.getWeights().map((t) => Array.from(t.data)));
      expect(() => m.predict(x)).to.not.throw();
    });

    it('trainOnBatch with an overflowing loss throws and changes nothing', () => {
      dn.setSeed(2);
      const m = dn.sequential({ layers: [dn.layers.dense({ units: 1, inputShape: [2] })] });
      m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      const before = m.getWeights().map((t) => Array.from(t.data));
      expect(() => m.trainOnBatch([[3e38, 3e38]], [[0]])).to.throw(Error, /not finite/);
      expect(m.getWeights().map((t) => Array.from(t.data))).to.deep.equal(before);
      expect(m.optimizer.iterations).to.equal(0);
    });
  });
});

describe(`robustness: raw NativeNet bypassing the façade (isa=${isa})`, () => {
  const { NativeNet } = native;
  function spec(over = {}) {
    const kernel = new Float32Array(6).fill(0.1);
    const bias = new Float32Array(2);
    const gk = new Float32Array(6);
    const gb = new Float32Array(2);
    return {
      inputFeatures: 3,
      ops: [{ op: 'dense', units: 2, activation: 'linear', trainable: true, kernel, bias, gradKernel: gk, gradBias: gb, ...over }],
      loss: 3,
      optimizer: { type: 0, learningRate: 0.1 },
      params: [
        { value: kernel, grad: gk },
        { value: bias, grad: gb },
      ],
    };
  }
  const withOp = (op) => ({ ...spec(), ops: [...spec().ops, op] });
  const bn = (over) => ({ op: 'batchNormalization', movingMean: new Float32Array(2), movingVariance: new Float32Array(2), epsilon: 1e-3, momentum: 0.9, ...over });

  it('a valid spec works (baseline)', () => {
    const net = new NativeNet(spec());
    const out = new Float32Array(4);
    net.predict(new Float32Array(6).fill(1), 2, out);
    expect(Array.from(out).map((v) => +v.toFixed(4))).to.deep.equal([0.3, 0.3, 0.3, 0.3]);
    net.dispose();
  });

  const badSpecs = [
    ['no spec', undefined, TypeError],
    ['ops not an array', { ...spec(), ops: 5 }, TypeError],
    ['empty ops', { ...spec(), ops: [] }, Error],
    ['an op that is not an object', { ...spec(), ops: [7] }, TypeError],
    ['an op without a name', { ...spec(), ops: [{ units: 2 }] }, TypeError],
    ['an unknown op', { ...spec(), ops: [{ op: 'conv2d' }] }, RangeError],
    ['an attribute of an unsupported kind', spec({ units: [2] }), TypeError],
    ['kernel too short', spec({ kernel: new Float32Array(5) }), RangeError],
    ['kernel a Float64Array', spec({ kernel: new Float64Array(6) }), TypeError],
    ['kernel detached', spec({ kernel: detachedF32(6) }), TypeError],
    ['kernel missing', spec({ kernel: undefined }), TypeError],
    ['bias too long', spec({ bias: new Float32Array(3) }), RangeError],
    ['gradKernel missing for a trainable kernel', spec({ gradKernel: undefined }), TypeError],
    ['units 0', spec({ units: 0 }), RangeError],
    ['units fractional', spec({ units: 2.5 }), RangeError],
    ['units NaN', spec({ units: NaN }), RangeError],
    ['inputFeatures 0', { ...spec(), inputFeatures: 0 }, Error],
    ['inputFeatures negative', { ...spec(), inputFeatures: -3 }, RangeError],
    ['inputFeatures fractional', { ...spec(), inputFeatures: 2.5 }, RangeError],
    ['inputFeatures a string', { ...spec(), inputFeatures: '3' }, TypeError],
    ['inputFeatures huge', { ...spec(), inputFeatures: 2 ** 40 }, RangeError],
    ['in × units overflowing', { ...spec({ units: 2 ** 24 }), inputFeatures: 2 ** 24 }, RangeError],
    ['unknown activation name', spec({ activation: 'swish' }), RangeError],
    ['bn without moving statistics', withOp({ op: 'batchNormalization', epsilon: 1e-3, momentum: 0.9 }), TypeError],
    ['bn moving mean of the wrong length', withOp(bn({ movingMean: new Float32Array(3) })), RangeError],
    ['bn epsilon NaN', withOp(bn({ epsilon: NaN })), RangeError],
    ['bn momentum 2', withOp(bn({ momentum: 2 })), RangeError],
    ['bn cumulative (no momentum) without numBatches', withOp(bn({ momentum: undefined })), TypeError],
    ['bn numBatches a Float32Array', withOp(bn({ momentum: undefined, numBatches: new Float32Array(1) })), TypeError],
    ['dropout rate 1', withOp({ op: 'dropout', rate: 1 }), RangeError],
    ['dropout rate missing', withOp({ op: 'dropout' }), RangeError],
    ['dropout seed fractional', withOp({ op: 'dropout', rate: 0.5, seed: 1.5 }), RangeError],
    ['fuse a number', { ...spec(), fuse: 1 }, TypeError],
    ['loss code 7', { ...spec(), loss: 7 }, RangeError],
    ['optimizer missing', { ...spec(), optimizer: undefined }, TypeError],
    ['optimizer type 5', { ...spec(), optimizer: { type: 5 } }, RangeError],
    ['adam without state arrays', { ...spec(), optimizer: { type: 1, learningRate: 0.1 } }, Error],
    ['param grad shorter than value', { ...spec(), params: [{ value: new Float32Array(6), grad: new Float32Array(5) }] }, RangeError],
    ['param state of the wrong length', { ...spec(), params: [{ value: new Float32Array(6), grad: new Float32Array(6), state1: new Float32Array(2) }] }, RangeError],
    ['params not an array', { ...spec(), params: {} }, TypeError],
  ];
  for (const [name, s, type] of badSpecs) {
    it(`constructor with ${name} → ${type.name}`, () => {
      expect(() => new NativeNet(s)).to.throw(type);
    });
  }

  describe('methods with bad arrays', () => {
    let net;
    let s;
    beforeEach(() => {
      s = spec();
      net = new NativeNet(s);
    });
    afterEach(() => {
      try {
        net.dispose();
      } catch {
        // already disposed by the test
      }
    });
    const x6 = () => new Float32Array(6).fill(1);
    const cases = [
      ['predict: x shorter than batch × in', (n) => n.predict(new Float32Array(5), 2, new Float32Array(4)), RangeError],
      ['predict: out too short', (n) => n.predict(x6(), 2, new Float32Array(3)), RangeError],
      ['predict: batch 0', (n) => n.predict(new Float32Array(0), 0, new Float32Array(0)), Error],
      ['predict: batch negative', (n) => n.predict(x6(), -2, new Float32Array(4)), RangeError],
      ['predict: batch NaN', (n) => n.predict(x6(), NaN, new Float32Array(4)), RangeError],
      ['predict: batch 2^60', (n) => n.predict(x6(), 2 ** 60, new Float32Array(4)), RangeError],
      ['predict: x a Float64Array', (n) => n.predict(new Float64Array(6), 2, new Float32Array(4)), TypeError],
      ['predict: x an array', (n) => n.predict([1, 1, 1, 1, 1, 1], 2, new Float32Array(4)), TypeError],
      ['predict: x detached', (n) => n.predict(detachedF32(6), 2, new Float32Array(4)), TypeError],
      ['predict: out detached', (n) => n.predict(x6(), 2, detachedF32(4)), TypeError],
      ['trainStep: y of the wrong length', (n) => n.trainStep(x6(), 2, new Float32Array(3), 1), RangeError],
      ['trainStep: y missing', (n) => n.trainStep(x6(), 2, undefined, 1), TypeError],
      ['trainStep: iteration a string', (n) => n.trainStep(x6(), 2, new Float32Array(4), '1'), TypeError],
      ['evaluate: y too long', (n) => n.evaluate(x6(), 2, new Float32Array(9)), RangeError],
      ['forwardTrain: out too short', (n) => n.forwardTrain(x6(), 2, false, new Float32Array(1)), RangeError],
      ['forwardBackward: dy too short', (n) => n.forwardBackward(x6(), 2, new Float32Array(1), null), RangeError],
      ['forwardBackward: dx too short', (n) => n.forwardBackward(x6(), 2, new Float32Array(4), new Float32Array(2)), RangeError],
      ['lossAndGrad: x a string', (n) => n.lossAndGrad('x', 2, new Float32Array(4), false), TypeError],
      ['recalibrate: batchSize 0', (n) => n.recalibrate(x6(), 2, 0), Error],
      ['recalibrate: rows larger than x', (n) => n.recalibrate(x6(), 3, 1), RangeError],
      ['setLearningRate: a string', (n) => n.setLearningRate('fast'), TypeError],
    ];
    for (const [name, fn, type] of cases) {
      it(`${name} → ${type.name}; the weights are unchanged`, () => {
        const before = Array.from(s.ops[0].kernel);
        expect(() => fn(net)).to.throw(type);
        expect(Array.from(s.ops[0].kernel)).to.deep.equal(before);
        // still usable
        const out = new Float32Array(4);
        net.predict(x6(), 2, out);
      });
    }

    it('predictAsync / trainStepAsync reject bad arrays synchronously', () => {
      expect(() => net.predictAsync(new Float32Array(5), 2, new Float32Array(4))).to.throw(RangeError);
      expect(() => net.trainStepAsync(x6(), 2, new Float32Array(1), 1)).to.throw(RangeError);
    });

    it('using a disposed net → Error, never a crash', () => {
      net.dispose();
      expect(() => net.predict(x6(), 2, new Float32Array(4))).to.throw(Error, /disposed/);
      expect(() => net.trainStep(x6(), 2, new Float32Array(4), 1)).to.throw(Error, /disposed/);
      expect(() => net.dispose()).to.throw(Error, /disposed/);
    });

    it('a weight array detached after construction → Error on the next call, never a dangling read', () => {
      structuredClone(s.ops[0].kernel.buffer, { transfer: [s.ops[0].kernel.buffer] });
      expect(() => net.predict(x6(), 2, new Float32Array(4))).to.throw(Error, /detached/);
      expect(() => net.trainStep(x6(), 2, new Float32Array(4), 1)).to.throw(Error, /detached/);
    });
  });

  it('gemm with mismatched sizes → RangeError, not an out-of-bounds write', () => {
    expect(() => native.gemm(null, false, false, 2, 2, 2, new Float32Array(4), new Float32Array(4), new Float32Array(3), false)).to.throw(RangeError);
    expect(() => native.gemm(null, false, false, 2 ** 21, 2, 2, new Float32Array(4), new Float32Array(4), new Float32Array(4), false)).to.throw(RangeError);
    expect(() => native.gemm('sse9', false, false, 1, 1, 1, new Float32Array(1), new Float32Array(1), new Float32Array(1), false)).to.throw(RangeError);
  });
});

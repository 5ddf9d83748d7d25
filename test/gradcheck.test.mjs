// Finite-difference gradient checks of the native NativeNet: every analytic gradient that
// lossAndGrad / forwardBackward writes is compared with central differences of the loss the
// same net reports (float32 forward, step ~1e-2), on small, well-scaled models. The loss values
// themselves are also checked against a float64 formula on the net's own outputs, so a gradient
// that is consistent with a wrongly scaled loss does not slip through.
import { expect } from 'chai';
import { blockNetSpec } from './helpers.mjs';
import { createRequire } from 'node:module';
import { randomArray, rng, actCode } from './reference.mjs';

const require = createRequire(import.meta.url);
const { native } = require('../dist/native.js');
const isa = native.backend().isa;

const LOSS = { cce: 0, scce: 1, bce: 2, mse: 3 };
const H = 1e-2;
const RTOL = 2e-2;

/**
 * blocks: [{ in, out, dense?: true, bias?, pre?, post?, bn?: { center?, scale?, frozen? } }]
 * Returns the net plus a list of parameters { name, value, grad }.
 */
function makeNet(blocks, loss, seed) {
  const rand = rng(seed);
  const params = [];
  const specs = blocks.map((b, k) => {
    const hasDense = b.dense !== false;
    const n = hasDense ? b.out : b.in;
    const s = { in: b.in, out: n, denseTrainable: hasDense, preAct: actCode(b.pre ?? 'linear'), postAct: actCode(b.post ?? 'linear') };
    if (hasDense) {
      s.kernel = randomArray(b.in * n, rand, Math.sqrt(3 / b.in));
      s.gradKernel = new Float32Array(b.in * n);
      params.push({ name: `block${k}.kernel`, value: s.kernel, grad: s.gradKernel });
      if (b.bias) {
        s.bias = randomArray(n, rand, 0.5);
        s.gradBias = new Float32Array(n);
        params.push({ name: `block${k}.bias`, value: s.bias, grad: s.gradBias });
      }
    }
    if (b.bn) {
      const frozen = !!b.bn.frozen;
      const gamma = b.bn.scale === false ? undefined : randomArray(n, rand, 0.3, 1);
      const beta = b.bn.center === false ? undefined : randomArray(n, rand, 0.5);
      s.bn = {
        gamma, beta,
        movingMean: randomArray(n, rand, 0.2),
        movingVariance: randomArray(n, rand, 0.3, 1),
        epsilon: 1e-3, momentum: 0.9, cumulative: false, trainable: !frozen,
      };
      if (!frozen && gamma) {
        s.bn.gradGamma = new Float32Array(n);
        params.push({ name: `block${k}.gamma`, value: gamma, grad: s.bn.gradGamma });
      }
      if (!frozen && beta) {
        s.bn.gradBeta = new Float32Array(n);
        params.push({ name: `block${k}.beta`, value: beta, grad: s.bn.gradBeta });
      }
    }
    return s;
  });
  const net = new native.NativeNet(blockNetSpec({ blocks: specs, loss, optimizer: { type: 0, learningRate: 0.01 }, params: [] }));
  return { net, params, specs, inDim: specs[0].in, outDim: specs[specs.length - 1].out, rand };
}

// Up to `count` distinct indices of [0, n), deterministic.
function sample(n, count, rand) {
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  const set = new Set();
  while (set.size < count) set.add(Math.floor(rand() * n));
  return [...set];
}

function close(num, ana, scale, label) {
  const tol = RTOL * Math.max(Math.abs(num), Math.abs(ana)) + 1e-3 * (1 + scale) * 0.5;
  expect(Math.abs(num - ana), `${label}: numeric ${num} vs analytic ${ana}`).to.be.at.most(tol);
}

// Central difference of f() with respect to arr[i], using the float32-rounded steps.
function centralDiff(arr, i, f) {
  const orig = arr[i];
  arr[i] = orig + H;
  const hp = arr[i] - orig;
  const fp = f();
  arr[i] = orig - H;
  const hm = arr[i] - orig;
  const fm = f();
  arr[i] = orig;
  return (fp - fm) / (hp - hm);
}

/** Checks sampled entries of every parameter's gradient from lossAndGrad. Returns the loss. */
function checkParams(m, x, B, y, { perParam = 8, expectZero = [], nearZero = [] } = {}) {
  const { net, params, rand } = m;
  const res = net.lossAndGrad(x, B, y, false);
  expect(Number.isFinite(res.loss)).to.equal(true);
  const analytic = params.map((p) => Float64Array.from(p.grad));
  // the step must not change anything: loss recomputed from the same parameters is identical
  expect(net.lossAndGrad(x, B, y, false).loss).to.equal(res.loss);
  const lossFn = () => net.lossAndGrad(x, B, y, false).loss;
  let checked = 0;
  params.forEach((p, pi) => {
    const ana = analytic[pi];
    const scale = Math.max(...ana.map(Math.abs));
    if (expectZero.includes(p.name)) {
      expect(Array.from(ana).every((v) => v === 0), `${p.name} gradient should be exactly 0`).to.equal(true);
    }
    for (const i of sample(p.value.length, perParam, rand)) {
      close(centralDiff(p.value, i, lossFn), ana[i], scale, `${p.name}[${i}]`);
      checked++;
    }
    // some gradient must be non-trivial, or the check proves nothing
    if (nearZero.includes(p.name)) expect(scale, `${p.name} gradient should vanish`).to.be.below(1e-5);
    else if (!expectZero.includes(p.name)) expect(scale, `${p.name} gradient is all zero`).to.be.above(1e-4);
  });
  expect(checked).to.be.above(0);
  return res.loss;
}

/** Input gradient via forwardBackward with a random output gradient dy (loss = Σ dy·y). */
function checkInput(m, x, B, { count = 10 } = {}) {
  const { net, inDim, outDim, rand, params } = m;
  const dy = randomArray(B * outDim, rand, 1);
  const dx = new Float32Array(B * inDim);
  net.forwardBackward(x, B, dy, dx);
  const ana = Float64Array.from(dx);
  const anaParams = params.map((p) => Float64Array.from(p.grad));
  const out = new Float32Array(B * outDim);
  const f = () => {
    net.forwardTrain(x, B, false, out);
    let s = 0;
    for (let i = 0; i < out.length; i++) s += dy[i] * out[i];
    return s;
  };
  const scale = Math.max(...ana.map(Math.abs));
  expect(scale, 'input gradient all zero').to.be.above(1e-4);
  for (const i of sample(x.length, count, rand)) close(centralDiff(x, i, f), ana[i], scale, `dx[${i}]`);
  // parameter gradients of forwardBackward under the same dy
  params.forEach((p, pi) => {
    const a = anaParams[pi];
    const sc = Math.max(...a.map(Math.abs));
    for (const i of sample(p.value.length, 4, rand)) close(centralDiff(p.value, i, f), a[i], sc, `fb ${p.name}[${i}]`);
  });
}

function onehot(rand, B, C) {
  const y = new Float32Array(B * C);
  const ids = new Float32Array(B);
  for (let i = 0; i < B; i++) {
    const c = Math.floor(rand() * C);
    ids[i] = c;
    y[i * C + c] = 1;
  }
  return { y, ids };
}

// Float64 losses from the network's own forward output (training mode).
function outputs(m, x, B) {
  const out = new Float32Array(B * m.outDim);
  m.net.forwardTrain(x, B, false, out);
  return out;
}
const refLoss = {
  mse: (p, t) => p.reduce((s, v, i) => s + (v - t[i]) ** 2, 0) / p.length,
  cce: (p, t, B) => -p.reduce((s, v, i) => s + (t[i] ? t[i] * Math.log(Math.min(Math.max(v, 1e-7), 1 - 1e-7)) : 0), 0) / B,
  bce: (p, t) => -p.reduce((s, v, i) => {
    const q = Math.min(Math.max(v, 1e-7), 1 - 1e-7);
    return s + t[i] * Math.log(q) + (1 - t[i]) * Math.log(1 - q);
  }, 0) / p.length,
};

const B = 7;

describe(`gradient checks by finite differences (isa=${isa})`, () => {
  describe('single layers', () => {
    for (const act of ['linear', 'relu', 'sigmoid', 'tanh', 'softmax']) {
      it(`Dense(bias, ${act}) with meanSquaredError`, () => {
        const m = makeNet([{ in: 4, out: 3, bias: true, pre: act }], LOSS.mse, 100 + actCode(act));
        // inputs well away from zero; relu kinks are checked below
        const x = randomArray(B * 4, m.rand, 1);
        if (act === 'relu') {
          // push every pre-activation at least 0.1 away from the kink
          m.specs[0].bias.set([0.05, -0.05, 0.3]);
          const z = new Float32Array(B * 3);
          const lin = makeNet([{ in: 4, out: 3, bias: true }], LOSS.mse, 1);
          lin.specs[0].kernel.set(m.specs[0].kernel);
          lin.specs[0].bias.set(m.specs[0].bias);
          lin.net.predict(x, B, z);
          for (let i = 0; i < z.length; i++) if (Math.abs(z[i]) < 0.1) x[Math.floor(i / 3) * 4] += z[i] >= 0 ? 0.3 : -0.3;
          lin.net.predict(x, B, z);
          expect(Array.from(z).filter((v) => Math.abs(v) < 0.03)).to.have.length(0);
          expect(Array.from(z).some((v) => v < 0) && Array.from(z).some((v) => v > 0)).to.equal(true);
        }
        const y = randomArray(B * 3, m.rand, 0.5, 0.3);
        const loss = checkParams(m, x, B, y);
        expect(loss).to.be.closeTo(refLoss.mse(outputs(m, x, B), y), 1e-5);
        checkInput(m, x, B);
      });
    }

    it('BatchNormalization alone (gamma, beta, input)', () => {
      const m = makeNet([{ in: 4, dense: false, bn: {} }], LOSS.mse, 201);
      const x = randomArray(B * 4, m.rand, 1.5, 0.5);
      const y = randomArray(B * 4, m.rand, 1);
      const loss = checkParams(m, x, B, y);
      expect(loss).to.be.closeTo(refLoss.mse(outputs(m, x, B), y), 1e-5);
      checkInput(m, x, B);
    });

    for (const act of ['sigmoid', 'tanh', 'softmax']) {
      it(`Activation(${act}) alone: input gradient`, () => {
        const m = makeNet([{ in: 4, dense: false, pre: act }], LOSS.mse, 210 + actCode(act));
        const x = randomArray(B * 4, m.rand, 1.5);
        checkInput(m, x, B, { count: 16 });
      });
    }

    it('Activation(tanh) between two Dense layers passes gradients through', () => {
      const m = makeNet([{ in: 4, out: 5, bias: true }, { in: 5, dense: false, pre: 'tanh' }, { in: 5, out: 2, bias: true }], LOSS.mse, 220);
      const x = randomArray(B * 4, m.rand, 1);
      const y = randomArray(B * 2, m.rand, 1);
      checkParams(m, x, B, y);
      checkInput(m, x, B);
    });
  });

  describe('fused blocks', () => {
    it('Dense → BN → relu', () => {
      const m = makeNet([{ in: 4, out: 3, bn: {}, post: 'relu' }], LOSS.mse, 301);
      // beta away from 0 keeps most BN outputs off the relu kink; check the margin
      m.specs[0].bn.beta.set([0.6, -0.2, 0.4]);
      const x = randomArray(B * 4, m.rand, 1);
      const u = outputs(makeNetLinearTwin(m), x, B);
      const margin = Math.min(...Array.from(u).map(Math.abs));
      expect(margin, 'test data must keep relu inputs off the kink').to.be.above(0.05);
      const y = randomArray(B * 3, m.rand, 0.5, 0.5);
      checkParams(m, x, B, y);
      checkInput(m, x, B);
    });

    it('Dense(tanh) → BN', () => {
      const m = makeNet([{ in: 5, out: 4, pre: 'tanh', bn: {} }], LOSS.mse, 302);
      const x = randomArray(B * 5, m.rand, 1);
      const y = randomArray(B * 4, m.rand, 1);
      checkParams(m, x, B, y);
      checkInput(m, x, B);
    });

    it('Dense(bias) → BN → sigmoid: the bias gradient is exactly 0 and numerically 0', () => {
      const m = makeNet([{ in: 4, out: 3, bias: true, bn: {}, post: 'sigmoid' }], LOSS.mse, 303);
      const x = randomArray(B * 4, m.rand, 1);
      const y = randomArray(B * 3, m.rand, 0.4, 0.5);
      checkParams(m, x, B, y, { expectZero: ['block0.bias'] });
      checkInput(m, x, B);
    });

    it('Dense(bias, tanh) → BN: the bias gradient is not zero (nonlinearity before BN)', () => {
      const m = makeNet([{ in: 4, out: 3, bias: true, pre: 'tanh', bn: {} }], LOSS.mse, 304);
      const x = randomArray(B * 4, m.rand, 1);
      const y = randomArray(B * 3, m.rand, 1);
      checkParams(m, x, B, y);
    });

    it('Dense → BN(center: false, scale: false) → tanh', () => {
      const m = makeNet([{ in: 4, out: 3, bn: { center: false, scale: false }, post: 'tanh' }], LOSS.mse, 305);
      expect(m.params.map((p) => p.name)).to.deep.equal(['block0.kernel']);
      const x = randomArray(B * 4, m.rand, 1);
      const y = randomArray(B * 3, m.rand, 0.5);
      checkParams(m, x, B, y);
      checkInput(m, x, B);
    });

    it('Dense → BN(scale only) and Dense → BN(center only)', () => {
      for (const bn of [{ center: false }, { scale: false }]) {
        const m = makeNet([{ in: 4, out: 3, bn, post: 'sigmoid' }], LOSS.mse, 306);
        expect(m.params).to.have.length(2);
        const x = randomArray(B * 4, m.rand, 1);
        const y = randomArray(B * 3, m.rand, 0.4, 0.5);
        checkParams(m, x, B, y);
      }
    });

    it('Dense(bias) → frozen BN → tanh (inference-mode affine map in training)', () => {
      const m = makeNet([{ in: 4, out: 3, bias: true, bn: { frozen: true }, post: 'tanh' }], LOSS.mse, 307);
      expect(m.params.map((p) => p.name)).to.deep.equal(['block0.kernel', 'block0.bias']);
      const x = randomArray(B * 4, m.rand, 1);
      const y = randomArray(B * 3, m.rand, 0.5);
      checkParams(m, x, B, y);
      checkInput(m, x, B);
      // frozen: each output row depends on its own input row only
      const out = outputs(m, x, B);
      const x2 = Float32Array.from(x);
      x2.fill(3, 0, 4);
      const out2 = outputs(m, x2, B);
      expect(Array.from(out2.subarray(3))).to.deep.equal(Array.from(out.subarray(3)));
    });

    it('3-block chain: Dense(bias) → BN → tanh, Dense(sigmoid) → BN, Dense(bias) → BN → softmax with categorical CE', () => {
      const m = makeNet(
        [
          { in: 5, out: 6, bias: true, bn: {}, post: 'tanh' },
          { in: 6, out: 4, pre: 'sigmoid', bn: {} },
          { in: 4, out: 3, bias: true, bn: {}, post: 'softmax' },
        ],
        LOSS.cce,
        308,
      );
      const B2 = 8;
      const x = randomArray(B2 * 5, m.rand, 1);
      const { y } = onehot(m.rand, B2, 3);
      const loss = checkParams(m, x, B2, y, {
        perParam: 6,
        expectZero: ['block0.bias', 'block2.bias'],
        // a constant shift of block 1's output is removed by block 2's batch norm
        nearZero: ['block1.beta'],
      });
      expect(loss).to.be.closeTo(refLoss.cce(outputs(m, x, B2), y, B2), 1e-4);
      checkInput(m, x, B2);
    });

    it('3-block chain with MSE and a frozen middle BN', () => {
      const m = makeNet(
        [
          { in: 3, out: 5, bn: {}, post: 'sigmoid' },
          { in: 5, out: 4, bias: true, bn: { frozen: true }, post: 'tanh' },
          { in: 4, out: 2, bias: true },
        ],
        LOSS.mse,
        309,
      );
      const x = randomArray(6 * 3, m.rand, 1);
      const y = randomArray(6 * 2, m.rand, 1);
      checkParams(m, x, 6, y, { perParam: 6 });
      checkInput(m, x, 6);
    });
  });

  describe('losses', () => {
    it('categoricalCrossentropy, fused softmax after BN (soft targets)', () => {
      const m = makeNet([{ in: 4, out: 3, bn: {}, post: 'softmax' }], LOSS.cce, 401);
      const x = randomArray(B * 4, m.rand, 1);
      const y = new Float32Array(B * 3);
      for (let i = 0; i < B; i++) {
        const a = m.rand(), b = m.rand() * (1 - a);
        y.set([a, b, 1 - a - b], i * 3);
      }
      const loss = checkParams(m, x, B, y);
      expect(loss).to.be.closeTo(refLoss.cce(outputs(m, x, B), y, B), 1e-4);
    });

    it('categoricalCrossentropy, fused softmax as the post-activation of a Dense without BN', () => {
      const m = makeNet([{ in: 4, out: 3, bias: true, pre: 'tanh', post: 'softmax' }], LOSS.cce, 402);
      const x = randomArray(B * 4, m.rand, 1);
      const { y } = onehot(m.rand, B, 3);
      const loss = checkParams(m, x, B, y);
      expect(loss).to.be.closeTo(refLoss.cce(outputs(m, x, B), y, B), 1e-4);
    });

    it('categoricalCrossentropy on a Dense(softmax) output (probabilities, non-fused path)', () => {
      const m = makeNet([{ in: 4, out: 3, bias: true, pre: 'softmax' }], LOSS.cce, 403);
      const x = randomArray(B * 4, m.rand, 1);
      const { y } = onehot(m.rand, B, 3);
      const loss = checkParams(m, x, B, y);
      expect(loss).to.be.closeTo(refLoss.cce(outputs(m, x, B), y, B), 1e-4);
    });

    it('categoricalCrossentropy on sigmoid outputs (non-softmax, non-fused path)', () => {
      const m = makeNet([{ in: 4, out: 3, bn: {}, post: 'sigmoid' }], LOSS.cce, 404);
      const x = randomArray(B * 4, m.rand, 1);
      const { y } = onehot(m.rand, B, 3);
      const loss = checkParams(m, x, B, y);
      expect(loss).to.be.closeTo(refLoss.cce(outputs(m, x, B), y, B), 1e-4);
    });

    it('sparseCategoricalCrossentropy with class ids, fused softmax (same loss and grads as one-hot CE)', () => {
      const m = makeNet([{ in: 4, out: 3, bias: true, bn: {}, post: 'softmax' }], LOSS.scce, 405);
      const x = randomArray(B * 4, m.rand, 1);
      const { y, ids } = onehot(m.rand, B, 3);
      const loss = checkParams(m, x, B, ids, { expectZero: ['block0.bias'] });
      expect(loss).to.be.closeTo(refLoss.cce(outputs(m, x, B), y, B), 1e-4);
      // the same network under one-hot categorical CE gives the same loss and gradients
      const grads = m.params.map((p) => Float32Array.from(p.grad));
      m.net.lossAndGrad(x, B, ids, false);
      const g1 = m.params.map((p) => Float32Array.from(p.grad));
      const twin = new native.NativeNet(blockNetSpec({ blocks: m.specs, loss: LOSS.cce, optimizer: { type: 0, learningRate: 0.01 }, params: [] }));
      const r = twin.lossAndGrad(x, B, y, false);
      expect(r.loss).to.be.closeTo(loss, 1e-6);
      m.params.forEach((p, i) => {
        for (let j = 0; j < p.grad.length; j++) expect(p.grad[j]).to.be.closeTo(g1[i][j], 1e-6);
      });
      expect(grads.length).to.equal(g1.length);
    });

    it('sparseCategoricalCrossentropy on sigmoid outputs (non-fused path)', () => {
      const m = makeNet([{ in: 4, out: 3, bias: true, pre: 'sigmoid' }], LOSS.scce, 406);
      const x = randomArray(B * 4, m.rand, 1);
      const { y, ids } = onehot(m.rand, B, 3);
      const loss = checkParams(m, x, B, ids);
      expect(loss).to.be.closeTo(refLoss.cce(outputs(m, x, B), y, B), 1e-4);
    });

    it('binaryCrossentropy, fused sigmoid after BN', () => {
      const m = makeNet([{ in: 4, out: 2, bn: {}, post: 'sigmoid' }], LOSS.bce, 407);
      const x = randomArray(B * 4, m.rand, 1);
      const y = Float32Array.from({ length: B * 2 }, () => (m.rand() < 0.5 ? 0 : 1));
      const loss = checkParams(m, x, B, y);
      expect(loss).to.be.closeTo(refLoss.bce(outputs(m, x, B), y), 1e-4);
    });

    it('binaryCrossentropy, fused sigmoid post-activation without BN (soft targets)', () => {
      const m = makeNet([{ in: 4, out: 2, bias: true, pre: 'tanh', post: 'sigmoid' }], LOSS.bce, 408);
      const x = randomArray(B * 4, m.rand, 1);
      const y = randomArray(B * 2, m.rand, 0.5, 0.5);
      const loss = checkParams(m, x, B, y);
      expect(loss).to.be.closeTo(refLoss.bce(outputs(m, x, B), y), 1e-4);
    });

    it('binaryCrossentropy on Dense(sigmoid) probabilities (non-fused path)', () => {
      const m = makeNet([{ in: 4, out: 2, bias: true, pre: 'sigmoid' }], LOSS.bce, 409);
      const x = randomArray(B * 4, m.rand, 1);
      const y = Float32Array.from({ length: B * 2 }, () => (m.rand() < 0.5 ? 0 : 1));
      const loss = checkParams(m, x, B, y);
      expect(loss).to.be.closeTo(refLoss.bce(outputs(m, x, B), y), 1e-4);
    });

    it('meanSquaredError through Dense → BN → linear', () => {
      const m = makeNet([{ in: 3, out: 4, bn: {} }], LOSS.mse, 410);
      const x = randomArray(B * 3, m.rand, 1);
      const y = randomArray(B * 4, m.rand, 1);
      const loss = checkParams(m, x, B, y);
      expect(loss).to.be.closeTo(refLoss.mse(outputs(m, x, B), y), 1e-5);
    });
  });
});

// The same block with the post-activation removed (to inspect the relu input).
function makeNetLinearTwin(m) {
  const blocks = m.specs.map((s) => ({ ...s, postAct: 0, bn: s.bn && { ...s.bn, gradGamma: undefined, gradBeta: undefined, trainable: true } }));
  const net = new native.NativeNet(blockNetSpec({ blocks: blocks.map((b) => ({ ...b, denseTrainable: false, gradKernel: undefined, gradBias: undefined })), loss: 3, optimizer: { type: 0, learningRate: 0.01 }, params: [] }));
  return { net, outDim: m.outDim };
}

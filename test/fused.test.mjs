// Every fused block configuration, forward and backward, against the float64 reference, on odd
// shapes, through the ISA selected by DENSENORM_ISA (test/run-all-isas.mjs runs each one).
import { expect } from 'chai';
import { blockNetSpec } from './helpers.mjs';
import { createRequire } from 'node:module';
import { blockForward, blockBackward, randomArray, relErr, rng, actCode } from './reference.mjs';

const require = createRequire(import.meta.url);
const { native } = require('../dist/native.js');
const isa = native.backend().isa;
const TOL = 1e-4;

// Builds a one-block NativeNet and the matching reference spec.
function makeBlock(cfg, nin, nout, rand) {
  const hasDense = cfg.dense !== false;
  const n = hasDense ? nout : nin;
  const spec = { in: nin, out: n, preAct: cfg.pre ?? 'linear', postAct: cfg.post ?? 'linear' };
  const nat = { in: nin, out: n, denseTrainable: hasDense, preAct: actCode(spec.preAct), postAct: actCode(spec.postAct) };
  if (hasDense) {
    spec.kernel = nat.kernel = randomArray(nin * n, rand, Math.sqrt(3 / nin));
    nat.gradKernel = new Float32Array(nin * n);
    if (cfg.bias) {
      spec.bias = nat.bias = randomArray(n, rand, 0.5);
      nat.gradBias = new Float32Array(n);
    }
  }
  if (cfg.bn) {
    const gamma = cfg.noScale ? undefined : randomArray(n, rand, 0.5, 1);
    const beta = cfg.noCenter ? undefined : randomArray(n, rand, 0.5);
    const movingMean = randomArray(n, rand, 0.2);
    const movingVariance = randomArray(n, rand, 0.3, 1);
    const training = !cfg.frozen;
    spec.bn = { gamma, beta, movingMean: Float64Array.from(movingMean), movingVariance: Float64Array.from(movingVariance), epsilon: 1e-3, training };
    nat.bn = {
      gamma, beta, movingMean, movingVariance, epsilon: 1e-3, momentum: 0.9, cumulative: false, trainable: training,
      gradGamma: gamma && training ? new Float32Array(n) : undefined,
      gradBeta: beta && training ? new Float32Array(n) : undefined,
    };
  }
  const net = new native.NativeNet(blockNetSpec({ blocks: [nat], loss: 3, optimizer: { type: 0, learningRate: 0.01 }, params: [] }));
  return { spec, nat, net, n };
}

const CONFIGS = [
  { name: 'Dense → BN → ReLU', bn: true, post: 'relu' },
  { name: 'Dense(bias) → BN → sigmoid', bn: true, bias: true, post: 'sigmoid' },
  { name: 'Dense(tanh) → BN', bn: true, pre: 'tanh' },
  { name: 'Dense(relu, bias) → BN → tanh', bn: true, bias: true, pre: 'relu', post: 'tanh' },
  { name: 'Dense → BN(center,scale off) → linear', bn: true, noScale: true, noCenter: true },
  { name: 'Dense → BN → softmax', bn: true, post: 'softmax' },
  { name: 'Dense → frozen BN → ReLU', bn: true, frozen: true, post: 'relu' },
  { name: 'Dense(bias, sigmoid) alone', bias: true, pre: 'sigmoid' },
  { name: 'Dense(bias, softmax) alone', bias: true, pre: 'softmax' },
  { name: 'BN alone', dense: false, bn: true },
  { name: 'Activation(tanh) → BN → ReLU', dense: false, pre: 'tanh', bn: true, post: 'relu' },
];

const SHAPES = [
  // [batch, in, out]
  [2, 1, 1], [3, 3, 7], [5, 17, 3], [17, 7, 33], [33, 33, 17], [64, 257, 9], [100, 5, 257], [300, 31, 65],
  // wider than one 1024-column block of the batch-norm passes (+ a tail), and a batch over one
  // 128-row chunk with a leftover (the threaded batch-norm paths)
  [4, 3, 2053], [130, 9, 1030],
];

describe(`fused blocks vs float64 reference (isa=${isa})`, () => {
  for (const cfg of CONFIGS) {
    describe(cfg.name, () => {
      for (const [B, nin, nout] of SHAPES) {
        it(`batch ${B}, ${nin} → ${nout}: forward and backward`, () => {
          const rand = rng(B * 1000 + nin * 10 + nout);
          const { spec, nat, net, n } = makeBlock(cfg, nin, nout, rand);
          const x = randomArray(B * nin, rand, 1.5, 0.3);
          // forward (training mode where BN is trainable)
          const out = new Float32Array(B * n);
          net.forwardTrain(x, B, false, out);
          const ref = blockForward(spec, x, B);
          const ef = relErr(out, ref.Y);
          expect(ef.err, `forward: index ${ef.at} got ${ef.got} want ${ef.ref}`).to.be.at.most(TOL);
          // backward from a random output gradient
          const dy = randomArray(B * n, rand, 1);
          const dx = new Float32Array(B * nin);
          net.forwardBackward(x, B, dy, dx);
          const rb = blockBackward(spec, ref.cache, dy);
          const ex = relErr(dx, rb.dX);
          expect(ex.err, `dX: index ${ex.at} got ${ex.got} want ${ex.ref}`).to.be.at.most(TOL);
          if (nat.gradKernel) {
            const e = relErr(nat.gradKernel, rb.grads.kernel);
            expect(e.err, `dW: index ${e.at} got ${e.got} want ${e.ref}`).to.be.at.most(TOL);
          }
          if (nat.gradBias) {
            if (cfg.bn && !cfg.frozen && (cfg.pre ?? 'linear') === 'linear') {
              // the bias cancels under batch statistics: its gradient is exactly zero
              expect(Array.from(nat.gradBias).every((v) => v === 0)).to.equal(true);
              const maxRef = Math.max(...rb.grads.bias.map(Math.abs));
              expect(maxRef).to.be.below(1e-9 * (1 + Math.max(...rb.grads.kernel.map(Math.abs))) + 1e-6);
            } else {
              const e = relErr(nat.gradBias, rb.grads.bias);
              expect(e.err, `db: ${e.got} vs ${e.ref}`).to.be.at.most(TOL);
            }
          }
          if (nat.bn?.gradGamma) {
            const e = relErr(nat.bn.gradGamma, rb.grads.gamma);
            expect(e.err, `dgamma: ${e.got} vs ${e.ref}`).to.be.at.most(TOL);
          }
          if (nat.bn?.gradBeta) {
            const e = relErr(nat.bn.gradBeta, rb.grads.beta);
            expect(e.err, `dbeta: ${e.got} vs ${e.ref}`).to.be.at.most(TOL);
          }
          net.dispose();
        });
      }
    });
  }

  it('inference uses the moving statistics and rows are independent of the batch', () => {
    const rand = rng(7);
    const { spec, net, n } = makeBlock({ bn: true, bias: true, post: 'relu' }, 17, 33, rand);
    const B = 9;
    const x = randomArray(B * 17, rand, 1);
    const out = new Float32Array(B * n);
    net.predict(x, B, out);
    const ref = blockForward({ ...spec, bn: { ...spec.bn, training: false } }, x, B);
    expect(relErr(out, ref.Y).err).to.be.at.most(TOL);
    const one = new Float32Array(n);
    net.predict(x.subarray(3 * 17, 4 * 17), 1, one);
    expect(Array.from(one)).to.deep.equal(Array.from(out.subarray(3 * n, 4 * n)));
  });

  it('updates moving statistics with the Keras rule and the unbiased batch variance', () => {
    const rand = rng(11);
    const { spec, nat, net, n } = makeBlock({ bn: true, bias: true }, 5, 3, rand);
    const B = 6;
    const x = randomArray(B * 5, rand, 1);
    const mm0 = Float64Array.from(nat.bn.movingMean);
    const mv0 = Float64Array.from(nat.bn.movingVariance);
    net.forwardTrain(x, B, true, new Float32Array(B * n));
    const ref = blockForward(spec, x, B);
    const { mean, varr } = ref.cache.bnCache;
    for (let j = 0; j < n; j++) {
      const wantM = 0.9 * mm0[j] + 0.1 * mean[j];
      const wantV = 0.9 * mv0[j] + 0.1 * varr[j] * B / (B - 1);
      expect(nat.bn.movingMean[j]).to.be.closeTo(wantM, 1e-5 * (1 + Math.abs(wantM)));
      expect(nat.bn.movingVariance[j]).to.be.closeTo(wantV, 1e-5 * (1 + Math.abs(wantV)));
    }
  });

  it('cumulative moving average when momentum is null', () => {
    const rand = rng(12);
    const n = 4;
    const movingMean = new Float32Array(n);
    const movingVariance = new Float32Array(n).fill(1);
    const numBatches = new Float64Array(1);
    const net = new native.NativeNet(blockNetSpec({
      blocks: [{ in: n, out: n, denseTrainable: false, preAct: 0, postAct: 0, bn: { movingMean, movingVariance, numBatches, epsilon: 1e-3, momentum: 0, cumulative: true, trainable: true } }],
      loss: 3, optimizer: { type: 0, learningRate: 0.1 }, params: [],
    }));
    const batches = [0, 1, 2].map(() => randomArray(8 * n, rand, 2, 1));
    const means = [];
    const vars = [];
    for (const xb of batches) {
      net.forwardTrain(xb, 8, true, new Float32Array(8 * n));
      const m = new Float64Array(n);
      const v = new Float64Array(n);
      for (let i = 0; i < 8; i++) for (let j = 0; j < n; j++) m[j] += xb[i * n + j] / 8;
      for (let i = 0; i < 8; i++) for (let j = 0; j < n; j++) v[j] += (xb[i * n + j] - m[j]) ** 2 / 7;
      means.push(m);
      vars.push(v);
    }
    expect(numBatches[0]).to.equal(3);
    for (let j = 0; j < n; j++) {
      expect(movingMean[j]).to.be.closeTo((means[0][j] + means[1][j] + means[2][j]) / 3, 1e-5);
      expect(movingVariance[j]).to.be.closeTo((vars[0][j] + vars[1][j] + vars[2][j]) / 3, 1e-5);
    }
  });

  it('rejects a training batch of 1 through batch norm with a clear error', () => {
    const { net } = makeBlock({ bn: true }, 3, 2, rng(1));
    expect(() => net.forwardTrain(new Float32Array(3), 1, false, new Float32Array(2))).to.throw(/at least 2 rows/);
    // inference with one row is fine
    const out = new Float32Array(2);
    net.predict(new Float32Array(3), 1, out);
    expect(Number.isFinite(out[0])).to.equal(true);
  });
});

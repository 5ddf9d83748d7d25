// The fusion plan (cpp/core/fuse.cc): which ops of the list run as one block, and that the
// unfused plan (every op a block of its own: spec.fuse = false, DENSENORM_FUSE=0) computes the
// same loss and gradients as the fused one.
import { expect } from 'chai';
import { dn, native, isa } from './helpers.mjs';
import { randomArray, rng } from './reference.mjs';

const act = (activation) => ({ op: 'activation', activation });
const dense = (units, activation = 'linear') => ({ op: 'dense', units, activation });
const bn = { op: 'batchNormalization' };
const drop = { op: 'dropout', rate: 0.5 };

describe(`fusion plan (isa=${isa})`, () => {
  const cases = [
    ['Dense → BN → act', [dense(4), bn, act('relu')], [[0, 1, 2]]],
    ['Dense(act) → BN → act', [dense(4, 'relu'), bn, act('tanh')], [[0, 1, 2]]],
    ['Dense → act → BN → act', [dense(4), act('relu'), bn, act('sigmoid')], [[0, 1, 2, 3]]],
    ['Dense → act → act (pre and post)', [dense(4), act('relu'), act('tanh')], [[0, 1, 2]]],
    ['a third activation opens a block', [dense(4), act('relu'), act('tanh'), act('sigmoid')], [[0, 1, 2], [3]]],
    ['BN after the post-activation opens a block', [dense(4), bn, act('relu'), bn], [[0, 1, 2], [3]]],
    ['two BNs', [bn, bn], [[0], [1]]],
    ['each Dense opens a block', [dense(4), dense(3), dense(2)], [[0], [1], [2]]],
    ['dropout closes its block', [dense(4), bn, act('relu'), drop, bn, dense(2)], [[0, 1, 2, 3], [4], [5]]],
    ['an activation after dropout opens a block', [dense(4), drop, act('relu')], [[0, 1], [2]]],
    ['dropout first, then twice', [drop, drop, dense(2)], [[0], [1], [2]]],
  ];
  for (const [name, ops, groups] of cases) {
    it(`${name}: ${JSON.stringify(groups)}`, () => {
      expect(native.fusionGroups(ops, true)).to.deep.equal(groups);
      expect(native.fusionGroups(ops, false)).to.deep.equal(ops.map((_, i) => [i]));
    });
  }

  it("a model's fusedBlocks() and the net's fusedGroups() name the same plan", () => {
    const m = dn.sequential({
      layers: [
        dn.layers.dense({ units: 5, inputShape: [3] }),
        dn.layers.batchNormalization(),
        dn.layers.activation({ activation: 'relu' }),
        dn.layers.dropout({ rate: 0.1, seed: 1 }),
        dn.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    const names = m.layers.map((l) => l.name);
    expect(m.fusedBlocks()).to.deep.equal([names.slice(0, 4), [names[4]]]);
    m.predict([[1, 2, 3]]);
    const net = m.nativeGraph.current; // the graph predict just built (a private field)
    expect(net.fusedGroups()).to.deep.equal([[0, 1, 2, 3], [4]]);
  });

  describe('fused and unfused plans agree (loss, every gradient, the input gradient, moving statistics)', () => {
    // 6 → Dense(8) → BN → relu → Dropout → Dense(5, tanh) → BN → Dense(3) → softmax, CCE.
    function build(fuse) {
      const rand = rng(17);
      const arrays = {
        k1: randomArray(48, rand, 0.6), b1: randomArray(8, rand, 0.2),
        g1: randomArray(8, rand, 0.2, 1), be1: randomArray(8, rand, 0.2),
        mm1: new Float32Array(8), mv1: new Float32Array(8).fill(1),
        k2: randomArray(40, rand, 0.6), b2: randomArray(5, rand, 0.2),
        g2: randomArray(5, rand, 0.2, 1), be2: randomArray(5, rand, 0.2),
        mm2: new Float32Array(5), mv2: new Float32Array(5).fill(1),
        k3: randomArray(15, rand, 0.6), b3: randomArray(3, rand, 0.2),
      };
      const grads = {};
      const g = (k) => (grads[k] = new Float32Array(arrays[k].length));
      const A = arrays;
      const ops = [
        { op: 'dense', units: 8, kernel: A.k1, bias: A.b1, gradKernel: g('k1'), gradBias: g('b1') },
        { op: 'batchNormalization', momentum: 0.9, gamma: A.g1, beta: A.be1, movingMean: A.mm1, movingVariance: A.mv1, gradGamma: g('g1'), gradBeta: g('be1') },
        act('relu'),
        { op: 'dropout', rate: 0.3, seed: 4 },
        { op: 'dense', units: 5, activation: 'tanh', kernel: A.k2, bias: A.b2, gradKernel: g('k2'), gradBias: g('b2') },
        { op: 'batchNormalization', momentum: 0.9, gamma: A.g2, beta: A.be2, movingMean: A.mm2, movingVariance: A.mv2, gradGamma: g('g2'), gradBeta: g('be2') },
        { op: 'dense', units: 3, kernel: A.k3, bias: A.b3, gradKernel: g('k3'), gradBias: g('b3') },
        act('softmax'),
      ];
      const net = new native.NativeNet({ inputFeatures: 6, ops, fuse, loss: 0, optimizer: { type: 0, learningRate: 0.1 }, params: [] });
      return { net, arrays, grads };
    }
    const B = 19;
    const rand = rng(3);
    const x = randomArray(B * 6, rand);
    const y = new Float32Array(B * 3);
    for (let i = 0; i < B; i++) y[i * 3 + (i % 3)] = 1;

    it('the unfused net runs one block per op', () => {
      expect(build(false).net.fusedGroups()).to.have.length(8);
      expect(build(true).net.fusedGroups()).to.deep.equal([[0, 1, 2, 3], [4, 5], [6, 7]]);
    });

    it('within float32 rounding', () => {
      const f = build(true);
      const u = build(false);
      const rf = f.net.lossAndGrad(x, B, y, true, 5);
      const ru = u.net.lossAndGrad(x, B, y, true, 5);
      expect(ru.loss).to.be.closeTo(rf.loss, 1e-5 * Math.abs(rf.loss) + 1e-6);
      for (const k of Object.keys(f.grads)) {
        // The bias before a batch norm only shifts what the batch mean removes: fused, its
        // work is skipped (gradient exactly 0); unfused it is computed (≈ 0).
        const tol = 1e-4;
        f.grads[k].forEach((v, i) => expect(u.grads[k][i], `${k}[${i}]`).to.be.closeTo(v, tol + 1e-3 * Math.abs(v)));
      }
      for (const k of ['mm1', 'mv1', 'mm2', 'mv2']) {
        f.arrays[k].forEach((v, i) => expect(u.arrays[k][i], `${k}[${i}]`).to.be.closeTo(v, 1e-5 + 1e-5 * Math.abs(v)));
      }
      const dy = randomArray(B * 3, rand);
      const dxf = new Float32Array(B * 6);
      const dxu = new Float32Array(B * 6);
      f.net.forwardBackward(x, B, dy, dxf, 5);
      u.net.forwardBackward(x, B, dy, dxu, 5);
      dxf.forEach((v, i) => expect(dxu[i], `dx[${i}]`).to.be.closeTo(v, 1e-4 + 1e-3 * Math.abs(v)));
      const pf = new Float32Array(B * 3);
      const pu = new Float32Array(B * 3);
      f.net.predict(x, B, pf);
      u.net.predict(x, B, pu);
      pf.forEach((v, i) => expect(pu[i]).to.be.closeTo(v, 1e-5));
    });
  });
});

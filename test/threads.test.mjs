// Thread-count independence of the fused blocks: training the same model from the same seed on
// 1, 2 and 3 threads gives bit-identical weights. The blocks are wide enough (batch 300 × 512
// features) that the batch-norm, activation, softmax, reduction and optimizer passes really split.
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { randomArray, rng } from './reference.mjs';

const require = createRequire(import.meta.url);
const dn = require('../dist/index.js');
const { native } = require('../dist/native.js');

const snapshot = (m) => m.getWeights().map((t) => Array.from(t.data));

function data(n, inDim, classes, seed) {
  const rand = rng(seed);
  const x = randomArray(n * inDim, rand, 1.5, 0.1);
  const ids = new Float32Array(n);
  for (let i = 0; i < n; i++) ids[i] = Math.floor(rand() * classes) % classes;
  return { x: dn.tensor(x, [n, inDim]), y: dn.tensor(ids, [n, 1]) };
}

describe('thread-count independence', function () {
  this.timeout(120000);
  let saved;
  before(() => { saved = dn.backend().threads; });
  after(() => { if (saved) dn.setNumThreads(saved); });

  const cases = [
    {
      name: 'Dense→BN→ReLU→Dense(softmax), 512 features, batch 300, adam',
      inDim: 64, classes: 10, optimizer: () => 'adam',
      layers: (inDim, classes) => [
        dn.layers.dense({ units: 512, inputShape: [inDim], useBias: false }),
        dn.layers.batchNormalization(),
        dn.layers.activation({ activation: 'relu' }),
        dn.layers.dense({ units: classes, activation: 'softmax' }),
      ],
    },
    {
      name: 'Dense(tanh)→BN→Dense(sigmoid)→BN→Dense(softmax, 300 classes), sgd momentum',
      inDim: 48, classes: 300, optimizer: () => dn.optimizers.sgd({ learningRate: 0.05, momentum: 0.9 }),
      layers: (inDim, classes) => [
        dn.layers.dense({ units: 384, inputShape: [inDim], activation: 'tanh' }),
        dn.layers.batchNormalization(),
        dn.layers.dense({ units: 256, activation: 'sigmoid' }),
        dn.layers.batchNormalization(),
        dn.layers.dense({ units: classes, activation: 'softmax' }),
      ],
    },
    {
      // W1's sizes: the 100-wide layers' backward products (1.2 MFLOP each) run side by side on
      // 2 threads (dW on one, dX on the other) and split by the GEMM driver on 3.
      name: 'Dense→BN→sigmoid ×3 at 100 units, batch 60 (W1 sizes), sgd',
      inDim: 784, classes: 10, batchSize: 60, optimizer: () => dn.optimizers.sgd({ learningRate: 0.01 }),
      layers: (inDim, classes) => [
        dn.layers.dense({ units: 100, inputShape: [inDim], useBias: false }),
        dn.layers.batchNormalization(),
        dn.layers.activation({ activation: 'sigmoid' }),
        dn.layers.dense({ units: 100, useBias: false }),
        dn.layers.batchNormalization(),
        dn.layers.activation({ activation: 'sigmoid' }),
        dn.layers.dense({ units: 100, useBias: false }),
        dn.layers.batchNormalization(),
        dn.layers.activation({ activation: 'sigmoid' }),
        dn.layers.dense({ units: classes, activation: 'softmax' }),
      ],
    },
  ];

  // Each case with the step-threading measurement off (every step on 2 and 3 threads uses the
  // pool) and on (the default: trial steps alternate pool and one thread, then one is kept).
  for (const c of cases) for (const tuning of [false, true])
    it(`${c.name}: 1, 2 and 3 threads give bit-identical weights (step tuning ${tuning ? 'on' : 'off'})`, async () => {
      native.setStepTuning(tuning);
      const { x, y } = data(600, c.inDim, c.classes, 17);
      const train = async (threads) => {
        dn.setNumThreads(threads);
        dn.setSeed(7);
        const m = dn.sequential({ layers: c.layers(c.inDim, c.classes) });
        m.compile({ optimizer: c.optimizer(), loss: 'sparseCategoricalCrossentropy' });
        const before = snapshot(m);
        await m.fit(x, y, { epochs: 2, batchSize: c.batchSize ?? 300, seed: 3 });
        const w = snapshot(m);
        expect(w).to.not.deep.equal(before);  // training moved the weights (not vacuous)
        const p = Array.from(m.predict(x).data);
        m.dispose();
        return { w, p };
      };
      const one = await train(1);
      for (const t of [2, 3]) {
        const r = await train(t);
        expect(r.w.length).to.equal(one.w.length);
        for (let k = 0; k < one.w.length; k++) {
          const a = new Uint32Array(Float32Array.from(one.w[k]).buffer);
          const b = new Uint32Array(Float32Array.from(r.w[k]).buffer);
          expect(Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer)), `weight ${k}, ${t} threads`).to.equal(0);
        }
        expect(r.p, `predictions, ${t} threads`).to.deep.equal(one.p);
      }
      native.setStepTuning(null);
    });

  it('step threading: trials time the pool against one thread (two steps each, the second timed), then the faster is kept; same bits as 1 thread', () => {
    const { x, y } = data(240, 784, 10, 23);
    const xs = [0, 1, 2, 3].map((k) => dn.tensor(x.data.slice(k * 60 * 784, (k + 1) * 60 * 784), [60, 784]));
    const ys = [0, 1, 2, 3].map((k) => dn.tensor(y.data.slice(k * 60, (k + 1) * 60), [60, 1]));
    const run = (threads, steps, states) => {
      dn.setNumThreads(threads);
      dn.setSeed(5);
      const m = dn.sequential({ layers: cases[2].layers(784, 10) });
      m.compile({ optimizer: dn.optimizers.sgd({ learningRate: 0.05 }), loss: 'sparseCategoricalCrossentropy' });
      const net = m.graph(784);
      states.push(net.stepThreading());
      for (let i = 0; i < steps; i++) {
        m.trainOnBatch(xs[i & 3], ys[i & 3]);
        states.push(net.stepThreading());
      }
      const w = snapshot(m);
      return { m, net, w };
    };
    try {
      const s1 = [];
      const one = run(1, 32, s1);
      expect(s1[0]).to.equal('none');
      expect(s1.slice(1).every((v) => v === 'single')).to.equal(true);
      one.m.dispose();

      const s2 = [];
      const two = run(2, 32, s2);
      expect(s2[0]).to.equal('none');
      // 2 warm-ups, then pairs of trials (pool, one thread), each trial 2 steps with the second
      // timed: no decision before 2 pairs (10 steps) unless a pool step took over 20 ms (the pool
      // at once: slow kernel paths), decided by 6 pairs (26 steps), and kept
      const d = s2.findIndex((v, i) => i > 0 && v !== 'tuning');
      const decided = s2[26];
      expect(['pool', 'one thread']).to.include(decided);
      expect(d >= 10 || decided === 'pool', `decided ${decided} after ${d} steps`).to.equal(true);
      expect(s2.slice(d).every((v) => v === decided)).to.equal(true);
      for (let k = 0; k < one.w.length; k++)
        expect(Buffer.from(Float32Array.from(two.w[k]).buffer).equals(Buffer.from(Float32Array.from(one.w[k]).buffer)), `weight ${k}`).to.equal(true);

      // measured again after 1000 steps (the host's load changes), then decided again
      let k = 0;
      while (two.net.stepThreading() !== 'tuning' && k < 1001) { two.m.trainOnBatch(xs[k & 3], ys[k & 3]); k++; }
      expect(two.net.stepThreading(), `after ${k} more steps`).to.equal('tuning');
      expect(k).to.equal(1000 - (32 - d));  // 1000 steps after the decision
      for (let i = 0; i < 24; i++) two.m.trainOnBatch(xs[i & 3], ys[i & 3]);
      expect(['pool', 'one thread']).to.include(two.net.stepThreading());

      // a new batch size is measured afresh; turning the measurement off means the pool at once
      two.m.trainOnBatch(dn.tensor(x.data.slice(0, 30 * 784), [30, 784]), dn.tensor(y.data.slice(0, 30), [30, 1]));
      expect(two.net.stepThreading()).to.equal('tuning');
      native.setStepTuning(false);
      two.m.trainOnBatch(xs[0], ys[0]);
      expect(two.net.stepThreading()).to.equal('pool');
      two.m.dispose();
    } finally {
      native.setStepTuning(null);
      dn.setNumThreads(2);
    }
  });
});

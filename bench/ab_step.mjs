// Paired A/B of training steps: run from two checkouts alternately (old, new, new, old, …) and
// compare per-round ratios:  node bench/ab_step.mjs
// Times training steps of W1 (784-100-100-100-10 sigmoid+BN, SGD, batch 60) and W2 (784-1024-1024-10
// relu+BN, Adam, batch 256) through model.trainOnBatch; prints median µs per step for each. Where
// the checkout has dropout, also W2d: W2 with dropout(0.2) after each hidden block (its cost is
// the W2d / W2 ratio of the same run).
import { createRequire } from 'node:module';
const require = createRequire(process.cwd() + '/');
const dn = require('./dist/index.js');
function build(sizes, act, opt, dropout) {
  dn.setSeed(1);
  const m = dn.sequential();
  for (let i = 1; i < sizes.length - 1; i++) {
    m.add(dn.layers.dense({ units: sizes[i], useBias: false, ...(i === 1 ? { inputShape: [sizes[0]] } : {}) }));
    m.add(dn.layers.batchNormalization());
    m.add(dn.layers.activation({ activation: act }));
    if (dropout) m.add(dn.layers.dropout({ rate: dropout, seed: i }));
  }
  m.add(dn.layers.dense({ units: sizes.at(-1), activation: 'softmax' }));
  m.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
  return m;
}
function data(n, d, k) {
  const x = new Float32Array(n * d).map((_, i) => Math.sin(i * 0.37));
  const y = new Float32Array(n * k); for (let i = 0; i < n; i++) y[i * k + (i % k)] = 1;
  return [dn.tensor(x, [n, d]), dn.tensor(y, [n, k])];
}
const out = {};
const workloads = [
  ['W1', [784, 100, 100, 100, 10], 'sigmoid', () => dn.optimizers.sgd({ learningRate: 0.01 }), 60, 400],
  ['W2', [784, 1024, 1024, 10], 'relu', () => dn.optimizers.adam({ learningRate: 1e-3 }), 256, 40],
];
if (dn.layers.dropout) workloads.push(['W2d', ...workloads[1].slice(1), 0.2]);
for (const [name, sizes, act, opt, B, steps, dropout] of workloads) {
  const m = build(sizes, act, opt(), dropout);
  const [x, y] = data(B, sizes[0], sizes.at(-1));
  for (let i = 0; i < 30; i++) m.trainOnBatch(x, y);
  const t = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < steps; i++) m.trainOnBatch(x, y);
    t.push(Number(process.hrtime.bigint() - t0) / 1e3 / steps);
  }
  t.sort((a, b) => a - b);
  out[name] = t[3];
}
console.log(JSON.stringify(out));

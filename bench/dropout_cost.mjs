// The cost of dropout(0.2) after each hidden block of W2 (784-1024-1024-10 relu+BN, Adam, batch
// 256): both models in one process, timed in alternating rounds (W2, W2d, W2d, W2, …) so machine
// noise hits both alike; prints the median of the per-round ratios W2d / W2 and their spread.
//   node bench/dropout_cost.mjs [rounds=21] [steps=8]
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const dn = require('../dist/index.js');
const [rounds = 21, steps = 8] = process.argv.slice(2).map(Number);
function build(dropout) {
  dn.setSeed(1);
  const sizes = [784, 1024, 1024, 10];
  const m = dn.sequential();
  for (let i = 1; i < sizes.length - 1; i++) {
    m.add(dn.layers.dense({ units: sizes[i], useBias: false, ...(i === 1 ? { inputShape: [sizes[0]] } : {}) }));
    m.add(dn.layers.batchNormalization());
    m.add(dn.layers.activation({ activation: 'relu' }));
    if (dropout) m.add(dn.layers.dropout({ rate: dropout, seed: i }));
  }
  m.add(dn.layers.dense({ units: 10, activation: 'softmax' }));
  m.compile({ optimizer: dn.optimizers.adam({ learningRate: 1e-3 }), loss: 'categoricalCrossentropy' });
  return m;
}
const B = 256;
const x = dn.tensor(new Float32Array(B * 784).map((_, i) => Math.sin(i * 0.37)), [B, 784]);
const y = dn.tensor(new Float32Array(B * 10).map((_, i) => (i % 10 === Math.floor(i / 10) % 10 ? 1 : 0)), [B, 10]);
const plain = build(0);
const drop = build(0.2);
const time = (m) => {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < steps; i++) m.trainOnBatch(x, y);
  return Number(process.hrtime.bigint() - t0) / 1e6 / steps;
};
for (let i = 0; i < 10; i++) { time(plain); time(drop); }
const ratios = [];
const ms = { W2: [], W2d: [] };
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? [plain, drop] : [drop, plain];
  const t = new Map(order.map((m) => [m, time(m)]));
  ms.W2.push(t.get(plain));
  ms.W2d.push(t.get(drop));
  ratios.push(t.get(drop) / t.get(plain));
}
const med = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const q = (a, f) => [...a].sort((p, r) => p - r)[Math.floor((a.length - 1) * f)];
console.log(JSON.stringify({
  cpu: require('node:os').cpus()[0].model, isa: dn.backend().isa, threads: dn.backend().threads,
  rounds, steps, W2_ms: +med(ms.W2).toFixed(2), W2d_ms: +med(ms.W2d).toFixed(2),
  ratio_median: +med(ratios).toFixed(4), ratio_q25: +q(ratios, 0.25).toFixed(4), ratio_q75: +q(ratios, 0.75).toFixed(4),
}));

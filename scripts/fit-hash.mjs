// Bit-identity check for refactors: run from the repository root on each ISA, before and after,
// and diff:  for i in scalar avx2 avx512; do DENSENORM_ISA=$i node scripts/fit-hash.mjs; done
// 50 seeded fit steps over several model shapes; prints a SHA-256 of all weights per model.
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
const require = createRequire(process.cwd() + '/');
const dn = require('./dist/index.js');
function data(n, d, k, seed) {
  let s = seed >>> 0; const r = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const x = new Float32Array(n * d).map(() => r() * 2 - 1);
  const y = new Float32Array(n * k); for (let i = 0; i < n; i++) y[i * k + Math.floor(r() * k)] = 1;
  return [dn.tensor(x, [n, d]), dn.tensor(y, [n, k])];
}
const cases = [
  ['bn-relu-adam', (m) => { m.add(dn.layers.dense({ units: 33, inputShape: [17], useBias: false })); m.add(dn.layers.batchNormalization()); m.add(dn.layers.activation({ activation: 'relu' })); m.add(dn.layers.dense({ units: 5, activation: 'softmax' })); }, 'adam', 'categoricalCrossentropy'],
  ['relu-bn-sgd', (m) => { m.add(dn.layers.dense({ units: 64, inputShape: [17], activation: 'relu' })); m.add(dn.layers.batchNormalization({ momentum: 0.9 })); m.add(dn.layers.dense({ units: 5, activation: 'softmax' })); }, 'sgd', 'categoricalCrossentropy'],
  ['deep-rms-mse', (m) => { m.add(dn.layers.dense({ units: 257, inputShape: [17], useBias: false })); m.add(dn.layers.batchNormalization()); m.add(dn.layers.activation({ activation: 'tanh' })); m.add(dn.layers.dense({ units: 128, activation: 'sigmoid' })); m.add(dn.layers.dense({ units: 5 })); }, 'rmsprop', 'meanSquaredError'],
];
const out = [];
for (const [name0, build, opt, loss] of [...cases, ...cases.map((c) => [c[0] + '-perbatch', c[1], c[2], c[3], true])]) {
  const name = name0; const perBatch = name0.endsWith('-perbatch');
  dn.setSeed(7);
  const m = dn.sequential(); build(m); m.compile({ optimizer: opt, loss });
  const [x, y] = data(50 * 32 + 1, 17, 5, 3);
  await m.fit(x, y, { epochs: 1, batchSize: 32, shuffle: true, verbose: 0, ...(perBatch ? { callbacks: { onBatchEnd: () => {} } } : {}) });
  const p = m.predict(data(9, 17, 5, 9)[0]);
  const h = createHash('sha256');
  for (const w of m.getWeights()) h.update(Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength));
  h.update(Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength));
  out.push(`${process.env.DENSENORM_ISA ?? 'auto'} ${name} ${h.digest('hex').slice(0, 16)}`);
}
console.log(out.join('\n'));

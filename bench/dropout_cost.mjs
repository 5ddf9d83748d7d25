// The cost of dropout(0.2) after each hidden block of W2 (784-1024-1024-10 relu+BN, Adam, batch
// 256): both models in one process, timed in alternating rounds (W2, W2d, W2d, W2, …) so machine
// noise hits both alike; prints the median of the per-round ratios W2d / W2 and their spread.
//   node bench/dropout_cost.mjs [rounds=21] [steps=8]
import { createRequire } from 'node:module';
import { WORKLOADS, batchData, buildModel } from './workloads.mjs';
import { cpuInfo } from './cpu_info.mjs';
const require = createRequire(import.meta.url);
const dn = require('../dist/index.js');
const [rounds = 21, steps = 8] = process.argv.slice(2).map(Number);
const w = WORKLOADS.W2;
const [x, y] = batchData(dn, w, w.batch);
const plain = buildModel(dn, w);
const drop = buildModel(dn, w, 0.2);
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
  cpu: require('node:os').cpus()[0].model, cpu_kind: cpuInfo().kind, isa: dn.backend().isa, threads: dn.backend().threads,
  rounds, steps, W2_ms: +med(ms.W2).toFixed(2), W2d_ms: +med(ms.W2d).toFixed(2),
  ratio_median: +med(ratios).toFixed(4), ratio_q25: +q(ratios, 0.25).toFixed(4), ratio_q75: +q(ratios, 0.75).toFixed(4),
}));

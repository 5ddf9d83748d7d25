// Paired A/B of training steps: run from two checkouts alternately (old, new, new, old, …) and
// compare per-round ratios:  node bench/ab_step.mjs  (from the checkout to time)
// Times W1 and W2 (bench/workloads.mjs) through model.trainOnBatch; prints median µs per step for
// each. Where the checkout has dropout, also W2d: W2 with dropout(0.2) after each hidden block.
// bench/ab_inproc.mjs times both checkouts in one process, which is steadier on a noisy machine.
import { createRequire } from 'node:module';
import { WORKLOADS, batchData, buildModel } from './workloads.mjs';
const require = createRequire(process.cwd() + '/');
const dn = require('./dist/index.js');
const runs = [['W1', WORKLOADS.W1, 0, 400], ['W2', WORKLOADS.W2, 0, 40]];
if (dn.layers.dropout) runs.push(['W2d', WORKLOADS.W2, 0.2, 40]);
const out = {};
for (const [name, w, dropout, steps] of runs) {
  const m = buildModel(dn, w, dropout);
  const [x, y] = batchData(dn, w, w.batch);
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

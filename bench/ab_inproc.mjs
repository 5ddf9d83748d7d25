// Paired A/B of two checkouts in one process: each loads its own dist/ and addon, W1 or W2
// (bench/workloads.mjs) trainOnBatch steps are timed in alternating rounds (old, new, new, old,
// ...), and the median of the per-round ratios new/old is printed with its quartiles. Build both
// first.  node bench/ab_inproc.mjs OLD_DIR NEW_DIR [W1|W2]
import { createRequire } from 'node:module';
import { WORKLOADS, batchData, buildModel } from './workloads.mjs';
const require = createRequire(import.meta.url);
const [oldDir, newDir, W = 'W1'] = process.argv.slice(2);
const libs = { old: require(`${oldDir}/dist/index.js`), new: require(`${newDir}/dist/index.js`) };
const w = WORKLOADS[W];
const steps = W === 'W1' ? 100 : 8;
const ms = {};
for (const k of Object.keys(libs)) {
  const [x, y] = batchData(libs[k], w, w.batch);
  ms[k] = { m: buildModel(libs[k], w), x, y };
}
const time = (k) => {
  const { m, x, y } = ms[k];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < steps; i++) m.trainOnBatch(x, y);
  return Number(process.hrtime.bigint() - t0) / 1e3 / steps;
};
for (let i = 0; i < 20; i++) { time('old'); time('new'); }
const r = [];
const t = { old: [], new: [] };
for (let i = 0; i < 31; i++) {
  const v = {};
  for (const k of i % 2 ? ['old', 'new'] : ['new', 'old']) v[k] = time(k);
  t.old.push(v.old);
  t.new.push(v.new);
  r.push(v.new / v.old);
}
const q = (a, f) => [...a].sort((p, s) => p - s)[Math.floor((a.length - 1) * f)];
console.log(W, JSON.stringify({ old_us: +q(t.old, 0.5).toFixed(1), new_us: +q(t.new, 0.5).toFixed(1), ratio: +q(r, 0.5).toFixed(4), q25: +q(r, 0.25).toFixed(4), q75: +q(r, 0.75).toFixed(4) }));

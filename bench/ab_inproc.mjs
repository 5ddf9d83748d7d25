// Paired A/B of two checkouts in one process: each loads its own dist/ and addon, W1 or W2
// trainOnBatch steps are timed in alternating rounds (old, new, new, old, ...), and the median of
// the per-round ratios new/old is printed with its quartiles. Build both first.
//   node bench/ab_inproc.mjs OLD_DIR NEW_DIR [W1|W2]
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const [oldDir, newDir, W = 'W1'] = process.argv.slice(2);
const libs = { old: require(`${oldDir}/dist/index.js`), new: require(`${newDir}/dist/index.js`) };
function build(dn, sizes, act, opt) {
  dn.setSeed(1);
  const m = dn.sequential();
  for (let i = 1; i < sizes.length - 1; i++) {
    m.add(dn.layers.dense({ units: sizes[i], useBias: false, ...(i === 1 ? { inputShape: [sizes[0]] } : {}) }));
    m.add(dn.layers.batchNormalization());
    m.add(dn.layers.activation({ activation: act }));
  }
  m.add(dn.layers.dense({ units: sizes.at(-1), activation: 'softmax' }));
  m.compile({ optimizer: opt(dn), loss: 'categoricalCrossentropy' });
  return m;
}
const cfg = W === 'W1' ? [[784, 100, 100, 100, 10], 'sigmoid', (dn) => dn.optimizers.sgd({ learningRate: 0.01 }), 60, 100]
  : [[784, 1024, 1024, 10], 'relu', (dn) => dn.optimizers.adam({ learningRate: 1e-3 }), 256, 8];
const [sizes, act, opt, B, steps] = cfg;
const ms = {};
for (const k of Object.keys(libs)) {
  const dn = libs[k];
  const x = dn.tensor(new Float32Array(B * sizes[0]).map((_, i) => Math.sin(i * 0.37)), [B, sizes[0]]);
  const y = dn.tensor(new Float32Array(B * 10).map((_, i) => (i % 10 === Math.floor(i / 10) % 10 ? 1 : 0)), [B, 10]);
  ms[k] = { m: build(dn, sizes, act, opt), x, y };
}
const time = (k) => { const { m, x, y } = ms[k]; const t0 = process.hrtime.bigint(); for (let i = 0; i < steps; i++) m.trainOnBatch(x, y); return Number(process.hrtime.bigint() - t0) / 1e3 / steps; };
for (let i = 0; i < 20; i++) { time('old'); time('new'); }
const r = []; const t = { old: [], new: [] };
for (let i = 0; i < 31; i++) {
  const order = i % 2 ? ['old', 'new'] : ['new', 'old'];
  const v = {}; for (const k of order) v[k] = time(k);
  t.old.push(v.old); t.new.push(v.new); r.push(v.new / v.old);
}
const med = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const q = (a, f) => [...a].sort((p, s) => p - s)[Math.floor((a.length - 1) * f)];
console.log(W, JSON.stringify({ old_us: +med(t.old).toFixed(1), new_us: +med(t.new).toFixed(1), ratio: +med(r).toFixed(4), q25: +q(r, 0.25).toFixed(4), q75: +q(r, 0.75).toFixed(4) }));

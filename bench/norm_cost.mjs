// The cost of layer (or group) normalization against batch normalization in the same block:
// Dense(1024, no bias) → norm → relu on 1024 features at batch 256 (then Dense(10) softmax, Adam),
// both models in one process, timed in alternating rounds so machine noise hits both alike;
// prints the medians of the per-round ratios norm / BN for predict and for a training step.
//   node bench/norm_cost.mjs [rounds=21] [steps=8] [layer|group|rms] [features=1024] [batch=256]
import { createRequire } from 'node:module';
import { cpuInfo } from './cpu_info.mjs';
const require = createRequire(import.meta.url);
const dn = require('../dist/index.js');
const args = process.argv.slice(2);
const rounds = Number(args[0] ?? 21), steps = Number(args[1] ?? 8), kind = args[2] ?? 'layer';
const F = Number(args[3] ?? 1024), B = Number(args[4] ?? 256);
const WARMUP = rounds < 5 ? 1 : 5;

function build(norm) {
  dn.setSeed(1);
  const m = dn.sequential({ layers: [
    dn.layers.dense({ units: F, useBias: false, inputShape: [F] }),
    norm(),
    dn.layers.activation({ activation: 'relu' }),
    dn.layers.dense({ units: 10, activation: 'softmax' }),
  ] });
  m.compile({ optimizer: dn.optimizers.adam({ learningRate: 1e-3 }), loss: 'categoricalCrossentropy' });
  return m;
}
const bn = build(() => dn.layers.batchNormalization());
const other = build(() => kind === 'group' ? dn.layers.groupNormalization({ groups: F % 32 === 0 ? 32 : 1 })
  : dn.layers.layerNormalization({ rmsScaling: kind === 'rms' }));
const x = dn.tensor(new Float32Array(B * F).map((_, i) => Math.sin(i * 0.37)), [B, F]);
const y = dn.tensor(new Float32Array(B * 10).map((_, i) => (i % 10 === Math.floor(i / 10) % 10 ? 1 : 0)), [B, 10]);

const time = (fn) => {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < steps; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1e6 / steps;
};
const modes = {
  predict: (m) => () => m.predict(x),
  train: (m) => () => m.trainOnBatch(x, y),
};
const med = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const q = (a, f) => [...a].sort((p, r) => p - r)[Math.floor((a.length - 1) * f)];
const out = { cpu: require('node:os').cpus()[0].model, cpu_kind: cpuInfo().kind, isa: dn.backend().isa, threads: dn.backend().threads, norm: kind, batch: B, features: F, rounds, steps };
for (const [mode, make] of Object.entries(modes)) {
  const a = make(bn), b = make(other);
  for (let i = 0; i < WARMUP; i++) { time(a); time(b); }
  const ratios = [], msA = [], msB = [];
  for (let r = 0; r < rounds; r++) {
    const [ta, tb] = r % 2 === 0 ? [time(a), time(b)] : (() => { const u = time(b); return [time(a), u]; })();
    msA.push(ta);
    msB.push(tb);
    ratios.push(tb / ta);
  }
  Object.assign(out, {
    [`${mode}_bn_ms`]: +med(msA).toFixed(3), [`${mode}_norm_ms`]: +med(msB).toFixed(3),
    [`${mode}_ratio_median`]: +med(ratios).toFixed(4), [`${mode}_ratio_q25`]: +q(ratios, 0.25).toFixed(4), [`${mode}_ratio_q75`]: +q(ratios, 0.75).toFixed(4),
  });
}
console.log(JSON.stringify(out));

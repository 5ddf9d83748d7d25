// Shared by the interop suites: the layer configurations every format must round-trip, a small
// model trained on the bundled MNIST, non-trivial batch-norm statistics and comparisons.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { dn } from './helpers.mjs';

export const X = [[0.5, -1, 2], [1, 0.25, -0.5], [-2, 1, 0], [0.1, 0.2, 0.3], [3, -2, 1]];

/** Gives every batch-norm layer moving statistics, gamma and beta away from their initial values. */
export function perturbBatchNorm(m, seed = 1) {
  for (const l of m.layers) {
    if (l.className !== 'BatchNormalization') continue;
    const by = { gamma: (j) => 1 + 0.1 * j, beta: (j) => 0.1 * j - 0.2, moving_mean: (j) => 0.05 * j - 0.1, moving_variance: (j) => 0.5 + 0.1 * j + 0.01 * seed };
    l.setWeightValues(l.weights.map((w) => new Float32Array(w.value.length).map((_, j) => by[w.name](j))));
  }
  return m;
}

/** Named layer stacks on 3 inputs: bias on/off, center/scale off, BN before/after the activation, dropout, every activation. */
export const CONFIGS = {
  'dense only, bias': () => [dn.layers.dense({ units: 4, inputShape: [3], activation: 'tanh' }), dn.layers.dense({ units: 2 })],
  'no bias → BN → relu': () => [dn.layers.dense({ units: 5, inputShape: [3], useBias: false }), dn.layers.batchNormalization(), dn.layers.activation({ activation: 'relu' }), dn.layers.dense({ units: 3, activation: 'softmax' })],
  'BN after activation': () => [dn.layers.dense({ units: 5, inputShape: [3], activation: 'sigmoid' }), dn.layers.batchNormalization({ epsilon: 0.01, momentum: 0.9 }), dn.layers.dense({ units: 2, activation: 'sigmoid' })],
  'center off': () => [dn.layers.dense({ units: 4, inputShape: [3] }), dn.layers.batchNormalization({ center: false }), dn.layers.activation({ activation: 'tanh' }), dn.layers.dense({ units: 2 })],
  'scale off': () => [dn.layers.dense({ units: 4, inputShape: [3] }), dn.layers.batchNormalization({ scale: false, epsilon: 0.5 }), dn.layers.dense({ units: 2, activation: 'softmax' })],
  'center and scale off': () => [dn.layers.dense({ units: 4, inputShape: [3], useBias: false }), dn.layers.batchNormalization({ center: false, scale: false }), dn.layers.activation({ activation: 'relu' }), dn.layers.dense({ units: 1 })],
  'dropout': () => [dn.layers.dense({ units: 6, inputShape: [3], activation: 'relu' }), dn.layers.dropout({ rate: 0.3 }), dn.layers.batchNormalization(), dn.layers.dropout({ rate: 0.1, seed: 4 }), dn.layers.dense({ units: 2, activation: 'softmax' })],
  'regularizers, initializers, frozen layer': () => [
    dn.layers.dense({ units: 4, inputShape: [3], kernelInitializer: dn.initializers.heNormal({ seed: 3 }), biasInitializer: { className: 'constant', value: 0.5 }, kernelRegularizer: dn.regularizers.l2({ l2: 0.02 }), biasRegularizer: 'l1' }),
    dn.layers.batchNormalization({ gammaRegularizer: dn.regularizers.l1l2({ l1: 0.1, l2: 0.2 }), betaInitializer: { className: 'randomUniform', minval: -1, maxval: 1, seed: 2 }, trainable: false }),
    dn.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: 'lecunUniform' }),
  ],
  'BN first, linear activation layer': () => [dn.layers.batchNormalization({ inputShape: [3] }), dn.layers.activation({ activation: 'linear' }), dn.layers.dense({ units: 2, useBias: false })],
};

export function configModel(name, seed = 2) {
  dn.setSeed(seed);
  return perturbBatchNorm(dn.sequential({ layers: CONFIGS[name]() }), seed);
}

/** Largest |a[i] - b[i]|; the lengths must agree. */
export function maxAbsDiff(a, b) {
  const x = Array.from(a);
  const y = Array.from(b);
  expect(x.length, 'lengths').to.equal(y.length);
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
}

let mnistCache;
/** 784 → 64 (no bias) → BN → relu → dropout → 10 softmax, one epoch on 2,000 bundled digits; and 200 test rows. */
export async function mnistModel() {
  if (mnistCache) return mnistCache;
  const m = dn.loadMnist();
  const n = 2000;
  dn.setSeed(7);
  const model = dn.sequential({
    layers: [
      dn.layers.dense({ units: 64, inputShape: [784], useBias: false }),
      dn.layers.batchNormalization(),
      dn.layers.activation({ activation: 'relu' }),
      dn.layers.dropout({ rate: 0.1 }),
      dn.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const xs = dn.tensor(m.xTrain.data.subarray(0, n * 784), [n, 784]);
  const ys = dn.tensor(m.yTrain.data.subarray(0, n * 10), [n, 10]);
  await model.fit(xs, ys, { epochs: 1, batchSize: 64, seed: 1 });
  const xTest = dn.tensor(m.xTest.data.subarray(0, 200 * 784), [200, 784]);
  mnistCache = { model, xTest };
  return mnistCache;
}

export function tmpDir(prefix) {
  return fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? '/tmp'), `densenorm-${prefix}-`));
}

/** The environment for python children: without test:sanitize's LD_PRELOAD of the ASan runtime (python is not under test). */
export function pythonEnv() {
  const env = { ...process.env };
  delete env.LD_PRELOAD;
  return env;
}

/** Whether /usr/bin/python3 can import torch (and so the PyTorch checks can run). */
export function torchAvailable() {
  if (!fs.existsSync('/usr/bin/python3')) return false;
  const r = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8', timeout: 60000, env: pythonEnv() });
  return r.status === 0;
}

/** onnxruntime-node, or the reason it cannot load here ({ ort, ortError }). */
export function loadOrt() {
  try {
    return { ort: createRequire(import.meta.url)('onnxruntime-node'), ortError: undefined };
  } catch (e) {
    return { ort: undefined, ortError: e };
  }
}

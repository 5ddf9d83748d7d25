// Shared test fixtures: the library, a tiny BN classifier, snapshots and error capture.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const dn = require('../dist/index.js');
export const { native } = require('../dist/native.js');
export const isa = dn.backend().isa;

// Four rows of three features and their one-hot classes.
export const X = [[0.1, 0.2, 0.3], [1, -1, 0.5], [-0.3, 0.7, 2], [0, 0, 1]];
export const Y = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]];

// 3 → Dense(4) → BN → ReLU → Dense(3, softmax), seeded.
export function tinyModel({ seed = 3, loss = 'categoricalCrossentropy', optimizer = 'sgd' } = {}) {
  dn.setSeed(seed);
  const m = dn.sequential({
    layers: [
      dn.layers.dense({ units: 4, inputShape: [3] }),
      dn.layers.batchNormalization(),
      dn.layers.activation({ activation: 'relu' }),
      dn.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  m.compile({ optimizer, loss });
  return m;
}

// Predictions on X and every weight: equal snapshots mean an unchanged model.
export const snapshot = (m) => ({ p: Array.from(m.predict(X).data), w: m.getWeights().map((t) => Array.from(t.data)) });

// The error fn throws or rejects with, or undefined.
export async function caught(fn) {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

// The rejection of p; fails the test when p resolves.
export async function rejects(p) {
  const e = await caught(() => p);
  if (e === undefined) throw new Error('expected a rejection');
  return e;
}

// A native net spec in the op-list form (what lib/models/native_graph.ts builds) from fused-block
// descriptions { in, out, kernel, bias, denseTrainable, gradKernel, gradBias, preAct, bn, postAct }
// (activation codes as in vocabulary().activations), for tests that drive one block directly.
export const ACT_NAMES = ['linear', 'relu', 'sigmoid', 'tanh', 'softmax'];
export function blockOps(blocks) {
  const ops = [];
  for (const b of blocks) {
    const start = ops.length;
    if (b.kernel) {
      ops.push({ op: 'dense', units: b.out, activation: ACT_NAMES[b.preAct ?? 0], trainable: !!b.denseTrainable, kernel: b.kernel, bias: b.bias, gradKernel: b.gradKernel, gradBias: b.gradBias });
    } else if (b.preAct) {
      ops.push({ op: 'activation', activation: ACT_NAMES[b.preAct] });
    }
    if (b.bn) {
      const { cumulative, momentum, ...rest } = b.bn;
      ops.push({ op: 'batchNormalization', ...rest, ...(cumulative ? {} : { momentum }) });
    }
    if (b.postAct) ops.push({ op: 'activation', activation: ACT_NAMES[b.postAct] });
    if (ops.length === start) ops.push({ op: 'activation', activation: 'linear' });
  }
  return ops;
}
export function blockNetSpec({ blocks, ...rest }) {
  return { inputFeatures: blocks[0]?.in ?? 1, ops: blockOps(blocks), ...rest };
}

// Runs bin/densenorm.js with args in cwd (nodeArgs before the script, e.g. ['-r', preload]);
// resolves { code, stdout, stderr }.
export function runCli(cwd, args, nodeArgs = []) {
  const bin = new URL('../bin/densenorm.js', import.meta.url).pathname;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, bin, ...args], { cwd, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

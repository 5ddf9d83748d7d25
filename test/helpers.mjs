// Shared test fixtures: the library, a tiny BN classifier, snapshots and error capture.
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

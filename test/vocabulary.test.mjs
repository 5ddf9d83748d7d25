// The façade's lists of activations, losses, optimizers, ISAs and limits match what the addon
// says it knows, in the same code order.
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { dn, native, isa } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { LOSS_CODES, OPTIMIZER_CODES } = require('../dist/native.js');
const { ACTIVATIONS } = require('../dist/activations.js');
const limits = require('../dist/limits.js');
const snake = (s) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const inOrder = (codes) => Object.entries(codes).sort((a, b) => a[1] - b[1]).map(([k]) => k);

describe(`vocabulary: the façade and the addon agree (isa=${isa})`, () => {
  const v = native.vocabulary();
  it('activations (ops name them)', () => {
    expect([...ACTIVATIONS]).to.deep.equal(v.activations);
  });
  it('ops: every built-in layer emits only ops the core knows', () => {
    const layers = [
      dn.layers.dense({ units: 2, activation: 'relu' }),
      dn.layers.batchNormalization({ momentum: null }),
      dn.layers.activation({ activation: 'tanh' }),
      dn.layers.dropout({ rate: 0.5 }),
      dn.layers.layerNormalization(),
      dn.layers.groupNormalization(),
    ];
    const used = layers.flatMap((l) => l.toOps().map((o) => o.op));
    expect(used).to.deep.equal(['dense', 'batchNormalization', 'activation', 'dropout', 'layerNormalization', 'groupNormalization']);
    for (const op of used) expect(v.ops).to.include(op);
    expect(dn.layers.LAYER_CLASS_NAMES.length).to.equal(layers.length);
  });
  it('losses, in code order (Keras names)', () => {
    expect(inOrder(LOSS_CODES).map(snake)).to.deep.equal(v.losses);
  });
  it('optimizers, in code order', () => {
    expect(inOrder(OPTIMIZER_CODES)).to.deep.equal(v.optimizers);
  });
  it("ISAs: the backend's available list is the addon's, in order, less those this build or CPU lacks", () => {
    const avail = native.backend().available;
    expect(v.isas.filter((i) => avail.includes(i))).to.deep.equal(avail);
    expect(v.isas).to.deep.equal(['scalar', 'avx2', 'avx512', 'neon']);
  });
  it('limits: MAX_FEATURES is the core\'s', () => {
    expect(limits.MAX_FEATURES).to.equal(v.limits.maxFeatures);
  });
});

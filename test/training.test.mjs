// planBatches: the one batch plan of fit (both its paths) and of the CLI's batch counts. A trailing
// single row joins the batch before it when the model trains batch normalization.
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { dn } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { planBatches } = require('../dist/models/training.js');

const sizes = (p) => Array.from({ length: p.batches }, (_, i) => p.sizeOf(i));
const starts = (p) => Array.from({ length: p.batches }, (_, i) => p.startOf(i));

// The loop fit ran before planBatches existed: the oracle for the fold rule.
function oldFitLoop(rows, batchSize, fold) {
  const out = [];
  for (let start = 0; start < rows; start += batchSize) {
    let n = Math.min(batchSize, rows - start);
    if (fold && rows - (start + n) === 1) n += 1;
    out.push([start, n]);
    start += n - Math.min(batchSize, rows - start);
  }
  return out;
}

describe('planBatches', () => {
  it('rows ≡ 1 (mod batchSize): the last row joins the batch before it', () => {
    const p = planBatches(89, 8);
    expect(p.batches).to.equal(11);
    expect(sizes(p)).to.deep.equal([8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 9]);
    expect(starts(p)).to.deep.equal([0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80]);
    expect(p.maxSize).to.equal(9);
    expect(p.rows).to.equal(89);
    expect(p.batchSize).to.equal(8);
  });

  it('without the fold rule the single row is a batch of its own', () => {
    const p = planBatches(89, 8, false);
    expect(p.batches).to.equal(12);
    expect(sizes(p).at(-1)).to.equal(1);
    expect(p.maxSize).to.equal(8);
  });

  it('rows < batchSize: one batch of every row; rows = batchSize + 1: one batch of batchSize + 1', () => {
    expect(sizes(planBatches(5, 8))).to.deep.equal([5]);
    expect(planBatches(5, 8).maxSize).to.equal(5);
    expect(sizes(planBatches(9, 8))).to.deep.equal([9]);
    expect(sizes(planBatches(9, 8, false))).to.deep.equal([8, 1]);
  });

  it('rows = 1 is one batch of one row (nothing to fold into); rows = 0 is no batch', () => {
    const one = planBatches(1, 8);
    expect(one.batches).to.equal(1);
    expect(one.sizeOf(0)).to.equal(1);
    expect(one.maxSize).to.equal(1);
    expect(planBatches(0, 8).batches).to.equal(0);
    expect(planBatches(0, 8).maxSize).to.equal(0);
  });

  it('exact multiples and remainders of 2 or more are not folded', () => {
    expect(sizes(planBatches(32, 8))).to.deep.equal([8, 8, 8, 8]);
    expect(sizes(planBatches(30, 8))).to.deep.equal([8, 8, 8, 6]);
    expect(sizes(planBatches(3, 1))).to.deep.equal([1, 2]);
  });

  it('matches the loop fit used before, for every rows <= 60 and batchSize <= 13', () => {
    for (const fold of [true, false]) {
      for (let rows = 0; rows <= 60; rows++) {
        for (let b = 1; b <= 13; b++) {
          const p = planBatches(rows, b, fold);
          const want = oldFitLoop(rows, b, fold);
          const got = starts(p).map((s, i) => [s, p.sizeOf(i)]);
          expect(got, `rows ${rows}, batchSize ${b}, fold ${fold}`).to.deep.equal(want);
          expect(p.maxSize).to.equal(Math.max(0, ...want.map((w) => w[1])));
        }
      }
    }
  });

  it('rejects a non-integer row count or batch size', () => {
    expect(() => planBatches(-1, 8)).to.throw(RangeError, /rows/);
    expect(() => planBatches(10, 0)).to.throw(RangeError, /batchSize/);
    expect(() => planBatches(10, 2.5)).to.throw(RangeError, /batchSize/);
  });

  it('fit runs the plan on both paths: per-batch callbacks see its sizes, the native epoch its batch count', async () => {
    const make = () => {
      dn.setSeed(11);
      const m = dn.sequential({
        layers: [dn.layers.dense({ units: 4, inputShape: [3] }), dn.layers.batchNormalization(), dn.layers.dense({ units: 1 })],
      });
      m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      return m;
    };
    const rows = 17;
    const x = dn.tensor(Float32Array.from({ length: rows * 3 }, (_, i) => Math.sin(i)), [rows, 3]);
    const y = dn.tensor(Float32Array.from({ length: rows }, (_, i) => Math.cos(i)), [rows, 1]);
    const plan = planBatches(rows, 8);
    const perBatch = make();
    const seen = [];
    await perBatch.fit(x, y, { epochs: 2, batchSize: 8, seed: 1, callbacks: { onBatchEnd: (b, logs) => seen.push(logs.size) } });
    expect(seen).to.deep.equal([...sizes(plan), ...sizes(plan)]);
    const native = make();
    await native.fit(x, y, { epochs: 2, batchSize: 8, seed: 1 });
    expect(native.optimizer.iterations).to.equal(2 * plan.batches);
    expect(native.getWeights().map((t) => Array.from(t.data))).to.deep.equal(perBatch.getWeights().map((t) => Array.from(t.data)));
  });
});

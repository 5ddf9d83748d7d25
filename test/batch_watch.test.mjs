// Callbacks with observesBatches: true get every batch's onBatchEnd fed from the native epoch loop
// (one N-API hop per epoch), with the same logs and the same training as the per-batch path.
import { expect } from 'chai';
import { dn, native, isa, caught } from './helpers.mjs';

function setup(seed = 4) {
  dn.setSeed(seed);
  const m = dn.sequential({
    layers: [
      dn.layers.dense({ units: 8, inputShape: [4] }),
      dn.layers.batchNormalization(),
      dn.layers.activation({ activation: 'relu' }),
      dn.layers.dropout({ rate: 0.2, seed: 1 }),
      dn.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const rows = 203;
  const x = dn.tensor(new Float32Array(rows * 4).map((_, i) => Math.sin(i * 0.7)), [rows, 4]);
  const y = dn.tensor(new Float32Array(rows).map((_, i) => i % 3), [rows, 1]);
  return { m, x, y };
}

// Counts the calls fit makes on the model's native net while fn runs (predict builds the net
// fit then reuses: same layers, same compile settings).
async function countingCalls(m, x, fn) {
  m.predict(x);
  const net = m.nativeGraph.current;
  const calls = { trainStepAsync: 0, trainBatchesAsync: 0 };
  for (const k of Object.keys(calls)) {
    const f = net[k];
    Object.defineProperty(net, k, { configurable: true, value: (...args) => { calls[k]++; return f.apply(net, args); } });
  }
  try {
    await fn();
  } finally {
    for (const k of Object.keys(calls)) delete net[k];
  }
  expect(m.nativeGraph.current).to.equal(net); // fit ran on the counted net
  return calls;
}

describe(`fit: batch watchers fed from the native loop (isa=${isa})`, () => {
  it('the same logs for every batch and the same weights as the per-batch path, in one hop per epoch', async () => {
    const a = setup();
    const watched = [];
    const callsA = await countingCalls(a.m, a.x, () =>
      a.m.fit(a.x, a.y, { epochs: 3, batchSize: 32, seed: 2, callbacks: { observesBatches: true, onBatchEnd: (b, l) => { watched.push([b, l]); } } }));
    const b = setup();
    const paused = [];
    const callsB = await countingCalls(b.m, b.x, () =>
      b.m.fit(b.x, b.y, { epochs: 3, batchSize: 32, seed: 2, callbacks: { onBatchEnd: (i, l) => { paused.push([i, l]); } } }));
    expect(watched).to.have.length(3 * 7);
    expect(watched).to.deep.equal(paused);
    expect(a.m.getWeights().map((t) => Array.from(t.data))).to.deep.equal(b.m.getWeights().map((t) => Array.from(t.data)));
    expect(callsA).to.deep.equal({ trainStepAsync: 0, trainBatchesAsync: 3 });
    expect(callsB.trainStepAsync).to.equal(3 * 7);
    expect(callsB.trainBatchesAsync).to.equal(0);
  });

  it('async onBatchEnd calls run one at a time, in batch order, and fit waits for them', async () => {
    const { m, x, y } = setup();
    const order = [];
    let running = 0;
    await m.fit(x, y, {
      epochs: 1,
      batchSize: 16,
      callbacks: {
        observesBatches: true,
        async onBatchEnd(b) {
          expect(running).to.equal(0);
          running++;
          await new Promise((r) => setTimeout(r, 1));
          order.push(b);
          running--;
        },
        onEpochEnd() {
          order.push('end');
        },
      },
    });
    expect(order).to.deep.equal([...Array.from({ length: 13 }, (_, i) => i), 'end']); // 203 rows: 12 × 16 + 11
  });

  it('an error thrown by a watcher rejects fit with it', async () => {
    const { m, x, y } = setup();
    const e = await caught(() => m.fit(x, y, { epochs: 1, batchSize: 16, callbacks: { observesBatches: true, onBatchEnd(b) { if (b === 2) throw new Error('watcher broke'); } } }));
    expect(e).to.be.instanceOf(Error);
    expect(e.message).to.equal('watcher broke');
  });

  it('stopTraining set by a watcher ends the epoch before all its batches', async () => {
    const { m, x, y } = setup();
    const seen = [];
    // many small batches: the loop is still running when the first report arrives
    const big = dn.tensor(new Float32Array(20000 * 4).map((_, i) => Math.cos(i)), [20000, 4]);
    const by = dn.tensor(new Float32Array(20000).map((_, i) => i % 3), [20000, 1]);
    const h = await m.fit(big, by, { epochs: 2, batchSize: 4, callbacks: { observesBatches: true, onBatchEnd(b) { seen.push(b); m.stopTraining = true; } } });
    expect(seen.length).to.be.above(0).and.below(5000);
    expect(h.epoch).to.deep.equal([0]);
    void x;
    void y;
  });

  it('rejects observesBatches with onBatchBegin, and a non-boolean observesBatches', async () => {
    const { m, x, y } = setup();
    const e1 = await caught(() => m.fit(x, y, { callbacks: { observesBatches: true, onBatchBegin() {} } }));
    expect(e1).to.be.instanceOf(TypeError);
    expect(e1.message).to.match(/onBatchBegin/);
    const e2 = await caught(() => m.fit(x, y, { callbacks: { observesBatches: 'yes', onBatchEnd() {} } }));
    expect(e2).to.be.instanceOf(TypeError);
    expect(e2.message).to.match(/observesBatches/);
  });
});

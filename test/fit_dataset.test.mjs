// model.fitDataset: batches from (async) iterables train exactly as fit does on their concatenation
// (shuffle: false, same batchSize): same weights bit for bit, same History; generators, a shared
// iterator with batchesPerEpoch, validation as a pair or a dataset, callbacks, stopTraining, and
// errors naming the batch.
import { expect } from 'chai';
import { dn, caught } from './helpers.mjs';

const IN = 5;
const OUT = 3;

function data(rows, seed = 1) {
  const x = Float32Array.from({ length: rows * IN }, (_, i) => Math.sin(i * 0.37 + seed));
  const y = Float32Array.from({ length: rows }, (_, i) => (i * 7 + seed) % OUT);
  return { x, y, rows };
}

function model({ dropout = 0.2, bn = true, seed = 5 } = {}) {
  dn.setSeed(seed);
  const layers = [dn.layers.dense({ units: 8, inputShape: [IN], useBias: !bn })];
  if (bn) layers.push(dn.layers.batchNormalization());
  layers.push(dn.layers.activation({ activation: 'relu' }));
  if (dropout > 0) layers.push(dn.layers.dropout({ rate: dropout }));
  layers.push(dn.layers.dense({ units: OUT, activation: 'softmax' }));
  const m = dn.sequential({ layers });
  m.compile({ optimizer: dn.optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

// The batches fit would make with shuffle: false (no trailing single row here).
function batchesOf({ x, y, rows }, batchSize) {
  const out = [];
  for (let s = 0; s < rows; s += batchSize) {
    const n = Math.min(batchSize, rows - s);
    out.push({ xs: dn.tensor(x.slice(s * IN, (s + n) * IN), [n, IN]), ys: dn.tensor(y.slice(s, s + n), [n, 1]) });
  }
  return out;
}

const weights = (m) => m.getWeights().map((t) => Array.from(t.data));

describe('fitDataset', () => {
  const d = data(70);
  const v = data(20, 9);
  const vPair = [dn.tensor(v.x, [v.rows, IN]), dn.tensor(v.y, [v.rows, 1])];

  it('equals fit with shuffle: false bit for bit: weights, History, optimizer steps (array dataset, pair validation)', async () => {
    const a = model();
    const ha = await a.fit(dn.tensor(d.x, [d.rows, IN]), dn.tensor(d.y, [d.rows, 1]), { epochs: 3, batchSize: 16, shuffle: false, validationData: vPair });
    const b = model();
    const hb = await b.fitDataset(batchesOf(d, 16), { epochs: 3, validationData: vPair });
    expect(weights(b)).to.deep.equal(weights(a));
    expect(hb).to.deep.equal(ha);
    expect(Object.keys(hb.history).sort()).to.deep.equal(['acc', 'learning_rate', 'loss', 'val_acc', 'val_loss']);
    expect(b.optimizer.iterations).to.equal(a.optimizer.iterations);
    expect(b.optimizer.iterations).to.equal(15);
  });

  it('an async generator source (fresh per epoch) and a validation dataset give the same result', async () => {
    const a = model();
    const ha = await a.fit(dn.tensor(d.x, [d.rows, IN]), dn.tensor(d.y, [d.rows, 1]), { epochs: 2, batchSize: 10, shuffle: false, validationData: vPair });
    const src = {
      async *[Symbol.asyncIterator]() {
        for (const bt of batchesOf(d, 10)) {
          await new Promise((r) => setImmediate(r));
          yield { xs: Array.from(bt.xs.data), ys: Array.from(bt.ys.data) };
        }
      },
    };
    const vds = batchesOf(v, 7);
    const b = model();
    const hb = await b.fitDataset(src, { epochs: 2, validationData: vds });
    expect(weights(b)).to.deep.equal(weights(a));
    expect(hb.history.loss).to.deep.equal(ha.history.loss);
    expect(hb.history.acc).to.deep.equal(ha.history.acc);
    for (let e = 0; e < 2; e++) {
      expect(hb.history.val_loss[e]).to.be.closeTo(ha.history.val_loss[e], 1e-6);
      expect(hb.history.val_acc[e]).to.be.closeTo(ha.history.val_acc[e], 1e-9);
    }
  });

  it('batchesPerEpoch continues one iterator across epochs, like fit over consecutive slices', async () => {
    const all = batchesOf(d, 14); // 5 batches
    function* gen() {
      yield* all;
    }
    const b = model({ dropout: 0 });
    const seen = [];
    const h = await b.fitDataset(gen(), { epochs: 2, batchesPerEpoch: 2, callbacks: { onBatchBegin: (i) => seen.push(`b${i}`), onEpochEnd: (e) => seen.push(`e${e}`) } });
    expect(seen).to.deep.equal(['b0', 'b1', 'e0', 'b0', 'b1', 'e1']);
    expect(h.epoch).to.deep.equal([0, 1]);
    const a = model({ dropout: 0 });
    await a.fit(dn.tensor(d.x.slice(0, 28 * IN), [28, IN]), dn.tensor(d.y.slice(0, 28), [28, 1]), { batchSize: 14, shuffle: false });
    await a.fit(dn.tensor(d.x.slice(28 * IN, 56 * IN), [28, IN]), dn.tensor(d.y.slice(28, 56), [28, 1]), { batchSize: 14, shuffle: false });
    expect(weights(b)).to.deep.equal(weights(a));
  });

  it('an iterator exhausted under batchesPerEpoch: a warning, the partial epoch recorded, training stops', async () => {
    function* gen() {
      yield* batchesOf(d, 14); // 5 batches for 3 × 2 asked
    }
    const warn = console.warn;
    const warnings = [];
    console.warn = (m) => warnings.push(m);
    let h;
    const m = model();
    try {
      h = await m.fitDataset(gen(), { epochs: 3, batchesPerEpoch: 2 });
    } finally {
      console.warn = warn;
    }
    expect(h.epoch).to.deep.equal([0, 1, 2]);
    expect(m.optimizer.iterations).to.equal(5);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/ran out of data after 1 batch of epoch 2 \(batchesPerEpoch 2\).*at least batchesPerEpoch × epochs = 6/);
    // out at an epoch's start: that epoch is not recorded
    console.warn = () => {};
    try {
      function* four() {
        yield* batchesOf(d, 14).slice(0, 4);
      }
      const m2 = model();
      const h2 = await m2.fitDataset(four(), { epochs: 3, batchesPerEpoch: 2 });
      expect(h2.epoch).to.deep.equal([0, 1]);
    } finally {
      console.warn = warn;
    }
  });

  it('a generator object without batchesPerEpoch is used up after epoch 0: RangeError naming the epoch', async () => {
    function* gen() {
      yield* batchesOf(d, 14);
    }
    const e = await caught(() => model().fitDataset(gen(), { epochs: 2 }));
    expect(e).to.be.instanceOf(RangeError);
    expect(e.message).to.match(/none in epoch 1; an iterator .* is used up/);
  });

  it('callbacks: onBatchBegin/onBatchEnd with sizes and logs, stopTraining ends after the current batch', async () => {
    const m = model();
    const ends = [];
    const h = await m.fitDataset(batchesOf(d, 16), {
      epochs: 3,
      callbacks: {
        onBatchEnd(b, logs) {
          ends.push([b, logs.size, typeof logs.loss, typeof logs.acc]);
          if (b === 2) m.stopTraining = true;
        },
      },
    });
    expect(ends).to.deep.equal([[0, 16, 'number', 'number'], [1, 16, 'number', 'number'], [2, 16, 'number', 'number']]);
    expect(h.epoch).to.deep.equal([0]);
    expect(m.optimizer.iterations).to.equal(3);
    expect(m.isTraining).to.equal(false);
  });

  it('bad batches: TypeError / RangeError naming the batch, DensenormError for a failed step', async () => {
    const good = batchesOf(d, 16);
    const at = (bad, i = 2) => [...good.slice(0, i), bad, ...good.slice(i)];
    let e = await caught(() => model().fitDataset(at(42)));
    expect(e).to.be.instanceOf(TypeError);
    expect(e.message).to.match(/a batch \{ xs, ys \} for dataset batch 2 \(epoch 0\)/);
    e = await caught(() => model().fitDataset(at({ xs: 'abc', ys: [1] })));
    expect(e).to.be.instanceOf(TypeError);
    expect(e.message).to.match(/dataset batch 2 \(epoch 0\)\.xs/);
    e = await caught(() => model().fitDataset(at({ xs: dn.tensor(new Float32Array(8), [2, 4]), ys: [0, 1] })));
    expect(e).to.be.instanceOf(RangeError);
    expect(e.message).to.match(/5 features per row .* for dataset batch 2 \(epoch 0\)\.xs/);
    e = await caught(() => model().fitDataset(at({ xs: dn.tensor(new Float32Array(10), [2, 5]), ys: [0, 1, 2] })));
    expect(e).to.be.instanceOf(RangeError);
    expect(e.message).to.match(/2 rows .* for dataset batch 2 \(epoch 0\)\.ys/);
    e = await caught(() => model().fitDataset(at({ xs: dn.tensor(new Float32Array(5), [1, 5]), ys: [0] })));
    expect(e).to.be.instanceOf(RangeError);
    expect(e.message).to.match(/at least 2 rows per batch .*batch normalization.* for dataset batch 2 \(epoch 0\)\.xs but received 1/);
    // without trainable batch norm a 1-row batch trains
    const plain = model({ bn: false });
    await plain.fitDataset(at({ xs: dn.tensor(new Float32Array(5), [1, 5]), ys: [0] }));
    expect(plain.optimizer.iterations).to.equal(6);
    const nan = new Float32Array(10);
    nan[3] = NaN;
    e = await caught(() => model().fitDataset(at({ xs: dn.tensor(nan, [2, 5]), ys: [0, 1] })));
    expect(e).to.be.instanceOf(RangeError);
    expect(e.message).to.match(/finite values for dataset batch 2 \(epoch 0\)\.xs/);
    // a loss that overflows: the native step fails, DensenormError names epoch and batch
    const m = dn.sequential({ layers: [dn.layers.dense({ units: 1, inputShape: [1] })] });
    m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    m.setWeights([dn.tensor([3e38], [1, 1]), dn.tensor([0], [1])]);
    e = await caught(() => m.fitDataset([{ xs: [[0], [0]], ys: [[0], [1]] }, { xs: [[1e3], [2e3]], ys: [[0], [1]] }]));
    expect(e).to.be.instanceOf(dn.DensenormError);
    expect(e.code).to.equal('ERR_TRAINING');
    expect(e.message).to.match(/epoch 0, batch 1/);
  });

  it('argument errors: not a dataset, unknown keys, bad batchesPerEpoch, bad validationData', async () => {
    const m = model();
    expect((await caught(() => m.fitDataset(5))).message).to.match(/iterable of \{ xs, ys \} batches for dataset/);
    expect(await caught(() => m.fitDataset([], { batchSize: 3 }))).to.be.instanceOf(Error);
    expect(await caught(() => m.fitDataset([], { batchesPerEpoch: 0 }))).to.be.instanceOf(RangeError);
    expect(await caught(() => m.fitDataset([], { validationData: 3 }))).to.be.instanceOf(TypeError);
    const e = await caught(() => m.fitDataset([]));
    expect(e).to.be.instanceOf(RangeError);
    expect(e.message).to.match(/at least one batch per epoch .* none in epoch 0$/);
    expect(await caught(() => model().fitDataset(batchesOf(d, 16), { validationData: [[[1, 2]], [0]] }))).to.be.instanceOf(RangeError);
  });
});

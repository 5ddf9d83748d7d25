// Inference's packed kernels (cpp/core/net.cc, "Packed kernels"): predictions with the cached
// packed copy of each Dense kernel are bit-identical to packing on every call, on odd shapes and
// thread counts, and the copy follows every way weights change: training, setWeights,
// setWeightValues, and an in-place edit announced with markWeightsChanged().
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { randomArray, rng } from './reference.mjs';

const require = createRequire(import.meta.url);
const dn = require('../dist/index.js');
const { native } = require('../dist/native.js');

const same = (a, b) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function model(inDim, widths, seed) {
  dn.setSeed(seed);
  const m = dn.sequential();
  widths.forEach((u, i) => {
    m.add(dn.layers.dense({ units: u, useBias: i % 2 === 1, ...(i === 0 ? { inputShape: [inDim] } : {}) }));
    m.add(dn.layers.batchNormalization());
    m.add(dn.layers.activation({ activation: i % 2 ? 'tanh' : 'relu' }));
  });
  m.add(dn.layers.dense({ units: 7, activation: 'softmax' }));
  m.compile({ optimizer: dn.optimizers.sgd({ learningRate: 0.1 }), loss: 'sparseCategoricalCrossentropy' });
  return m;
}

// predict with the packed copies, then with packing per call (the reference path)
function both(m, x) {
  native.setPackedInference(true);
  const packed = m.predict(x).data;
  native.setPackedInference(false);
  const perCall = m.predict(x).data;
  native.setPackedInference(null);
  return { packed, perCall };
}

describe('packed inference kernels', function () {
  this.timeout(120000);
  let saved;
  before(() => { saved = dn.backend().threads; });
  after(() => { dn.setNumThreads(saved); native.setPackedInference(null); });

  it('same bits as packing per call: batches 9–257, odd widths, 1–3 threads', () => {
    const m = model(37, [100, 33, 257], 3);
    for (const t of [1, 2, 3]) {
      dn.setNumThreads(t);
      for (const B of [9, 17, 33, 64, 257]) {
        const x = dn.tensor(randomArray(B * 37, rng(B + t), 1.5), [B, 37]);
        const { packed, perCall } = both(m, x);
        expect(same(packed, perCall), `threads=${t} batch=${B}`).to.equal(true);
      }
    }
    m.dispose();
  });

  it('follows training, setWeights, setWeightValues and markWeightsChanged after an in-place edit', () => {
    const m = model(20, [48, 40], 9);
    const B = 32;
    const x = dn.tensor(randomArray(B * 20, rng(1), 1), [B, 20]);
    const y = dn.tensor(Float32Array.from({ length: B }, (_, i) => i % 7), [B, 1]);
    const check = (label) => {
      const { packed, perCall } = both(m, x);
      expect(same(packed, perCall), label).to.equal(true);
      return packed;
    };
    const p0 = check('fresh');
    m.trainOnBatch(x, y);
    const p1 = check('after trainOnBatch');
    expect(same(p1, p0), 'training changed the predictions').to.equal(false);

    const w = m.getWeights();
    w[0] = dn.tensor(randomArray(20 * 48, rng(2), 0.3), [20, 48]);
    m.setWeights(w);
    const p2 = check('after setWeights');
    expect(same(p2, p1)).to.equal(false);

    const dense1 = m.layers.find((l) => l.getClassName?.() === 'Dense' || l.className === 'Dense');
    dense1.setWeightValues([randomArray(20 * 48, rng(3), 0.3)]);
    const p3 = check('after setWeightValues');
    expect(same(p3, p2)).to.equal(false);

    // an in-place write into the live array, announced
    const kernel = dense1.weights[0].value;
    for (let i = 0; i < kernel.length; i++) kernel[i] *= -1;
    dense1.markWeightsChanged();
    const p4 = check('after an in-place edit and markWeightsChanged()');
    expect(same(p4, p3)).to.equal(false);
    m.dispose();
  });
});

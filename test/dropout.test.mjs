// dn.layers.dropout: inverted dropout fused as the epilogue of the block before it. Its mask is a
// hash of (seed, step, row, column): checked for its statistics, for identity at inference, for
// bit-identity (rate 0, thread counts, both fit paths, any ISA through the suite's ISA runs), by
// finite differences with a fixed mask, and through save/load.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dn, native, isa } from './helpers.mjs';
import { randomArray, rng } from './reference.mjs';

const MSE = 3;
const sgd = { type: 0, learningRate: 0.01 };

// A net of one dropout op on `features` inputs (nothing to train).
function dropoutNet(features, op) {
  return new native.NativeNet({ inputFeatures: features, ops: [{ op: 'dropout', ...op }], loss: MSE, optimizer: sgd, params: [] });
}

function trainedWeights(layersFn, { seed = 11, threads, perBatch = false, epochs = 2, rows = 96, features = 6 } = {}) {
  dn.setSeed(seed);
  const saved = dn.backend().threads;
  if (threads) dn.setNumThreads(threads);
  const m = dn.sequential({ layers: layersFn() });
  m.compile({ optimizer: dn.optimizers.adam({ learningRate: 0.01 }), loss: 'meanSquaredError' });
  const r = rng(5);
  const x = dn.tensor(randomArray(rows * features, r), [rows, features]);
  const y = dn.tensor(randomArray(rows * 2, r), [rows, 2]);
  const callbacks = perBatch ? [{ onBatchEnd() {} }] : [];
  return m.fit(x, y, { epochs, batchSize: 16, seed: 3, callbacks }).then(() => {
    if (threads) dn.setNumThreads(saved);
    return { m, w: m.getWeights().map((t) => Array.from(t.data)), x };
  });
}

describe(`dropout (isa=${isa})`, () => {
  describe('arguments', () => {
    const bad = [
      ['no args', undefined, TypeError],
      ['rate missing', {}, TypeError],
      ['rate a string', { rate: '0.5' }, TypeError],
      ['rate 1', { rate: 1 }, RangeError],
      ['rate negative', { rate: -0.1 }, RangeError],
      ['rate NaN', { rate: NaN }, RangeError],
      ['seed fractional', { rate: 0.5, seed: 1.5 }, RangeError],
      ['noiseShape of 3 entries', { rate: 0.5, noiseShape: [null, 1, 1] }, RangeError],
      ['noiseShape entry 0', { rate: 0.5, noiseShape: [0, null] }, RangeError],
      ['noiseShape a number', { rate: 0.5, noiseShape: 4 }, TypeError],
      ['an unknown key', { rate: 0.5, keepProb: 0.5 }, Error],
    ];
    for (const [name, args, type] of bad) {
      it(`${name} → ${type.name} naming the argument`, () => {
        expect(() => dn.layers.dropout(args)).to.throw(type);
      });
    }
    it('the message names the argument, the expected and the actual value', () => {
      expect(() => dn.layers.dropout({ rate: 1 })).to.throw(RangeError, /rate.*1/);
    });
    it('noiseShape[1] other than null, 1 or the feature count fails at build', () => {
      const layers = [dn.layers.dense({ units: 4, inputShape: [3] }), dn.layers.dropout({ rate: 0.5, noiseShape: [null, 3] })];
      expect(() => dn.sequential({ layers })).to.throw(RangeError, /noiseShape\[1\].*4 features.*3/);
    });
  });

  describe('the mask', () => {
    const N = 1000;
    const x = new Float32Array(N * N).fill(1);
    for (const rate of [0.2, 0.5, 0.9]) {
      it(`rate ${rate}: the fraction of zeros on 10^6 values is rate, kept values are x / (1 − rate), the mean is preserved`, () => {
        const net = dropoutNet(N, { rate, seed: 42 });
        const out = new Float32Array(N * N);
        net.forwardTrain(x, N, false, out, 7);
        let zeros = 0;
        let sum = 0;
        const kept = Math.fround(1 / (1 - rate));
        for (const v of out) {
          if (v === 0) zeros++;
          else expect(v).to.equal(kept);
          sum += v;
        }
        const n = out.length;
        const sd = Math.sqrt((rate * (1 - rate)) / n); // binomial standard error of the fraction
        expect(Math.abs(zeros / n - rate)).to.be.below(5 * sd);
        // mean of values 0 or 1/(1−p): standard error sqrt(p / (1 − p) / n)
        expect(Math.abs(sum / n - 1)).to.be.below(5 * Math.sqrt(rate / (1 - rate) / n));
        net.dispose();
      });
    }
    it('equals a JavaScript reference of the hash, bit for bit (odd shapes, large seed and step)', () => {
      // lowbias32 finalizer; row key mixes the seed's and step's 32-bit halves, then the row.
      const mix = (x) => {
        x = (x ^ (x >>> 16)) >>> 0;
        x = Math.imul(x, 0x7feb352d) >>> 0;
        x = (x ^ (x >>> 15)) >>> 0;
        x = Math.imul(x, 0x846ca68b) >>> 0;
        return (x ^ (x >>> 16)) >>> 0;
      };
      const G = 0x9e3779b9;
      const lo = (v) => Number(BigInt(v) & 0xffffffffn);
      const hi = (v) => Number(BigInt(v) >> 32n);
      const rowKey = (seed, step, r) => {
        let h = mix((lo(seed) ^ G) >>> 0);
        h = mix((h ^ hi(seed)) >>> 0);
        h = mix((h ^ lo(step)) >>> 0);
        h = mix((h ^ hi(step)) >>> 0);
        return mix((h + Math.imul(r, G)) >>> 0);
      };
      for (const [B, F, rate, seed, step] of [[1, 1, 0.5, 0, 1], [3, 17, 0.3, 2 ** 40 + 5, 2 ** 33 + 7], [37, 53, 0.7, 123456789, 99], [5, 257, 0.1, 1, 0]]) {
        const xs = randomArray(B * F, rng(B + F));
        const net = dropoutNet(F, { rate, seed });
        const out = new Float32Array(B * F);
        net.forwardTrain(xs, B, false, out, step);
        net.dispose();
        const threshold = Math.min(Math.floor(rate * 2 ** 32), 2 ** 32 - 1);
        const scale = Math.fround(1 / (1 - rate));
        for (let r = 0; r < B; r++) {
          const key = rowKey(seed, step, r);
          for (let j = 0; j < F; j++) {
            const h = mix((key ^ Math.imul(j, G)) >>> 0);
            const want = h >= threshold ? Math.fround(xs[r * F + j] * scale) : 0;
            expect(out[r * F + j], `[${B}×${F}] row ${r} col ${j}`).to.equal(want);
          }
        }
      }
    });

    it('same (seed, step) → the same mask; another step or seed → another mask', () => {
      const run = (seed, step) => {
        const net = dropoutNet(64, { rate: 0.5, seed });
        const out = new Float32Array(64 * 64);
        net.forwardTrain(x.subarray(0, 64 * 64), 64, false, out, step);
        net.dispose();
        return out;
      };
      const a = run(1, 3);
      expect(run(1, 3)).to.deep.equal(a);
      const differs = (b) => b.some((v, i) => v !== a[i]);
      expect(differs(run(1, 4))).to.equal(true);
      expect(differs(run(2, 3))).to.equal(true);
    });
    it('rows and columns draw independently (no row repeats another, no column pattern)', () => {
      const net = dropoutNet(256, { rate: 0.5, seed: 9 });
      const out = new Float32Array(256 * 256);
      net.forwardTrain(x.subarray(0, 256 * 256), 256, false, out, 1);
      const rows = new Set();
      for (let i = 0; i < 256; i++) rows.add(out.subarray(i * 256, (i + 1) * 256).join(','));
      expect(rows.size).to.equal(256);
      // each column's zero fraction over 256 rows stays near 0.5 (5 standard errors)
      for (let j = 0; j < 256; j++) {
        let z = 0;
        for (let i = 0; i < 256; i++) if (out[i * 256 + j] === 0) z++;
        expect(Math.abs(z / 256 - 0.5)).to.be.below(5 * Math.sqrt(0.25 / 256));
      }
      net.dispose();
    });
    it('noiseShape [1, null]: one mask for every row; [null, 1]: a row is kept or dropped whole', () => {
      const shared = dn.layers.dropout({ rate: 0.5, seed: 4, noiseShape: [1, null] }).toOps()[0];
      const perRow = dn.layers.dropout({ rate: 0.5, seed: 4, noiseShape: [null, 1] }).toOps()[0];
      const F = 50;
      const B = 40;
      const xs = x.subarray(0, B * F);
      const run = (op) => {
        const net = dropoutNet(F, op);
        const out = new Float32Array(B * F);
        net.forwardTrain(xs, B, false, out, 2);
        net.dispose();
        return out;
      };
      const a = run(shared);
      for (let i = 1; i < B; i++) expect(Array.from(a.subarray(i * F, (i + 1) * F))).to.deep.equal(Array.from(a.subarray(0, F)));
      expect(a.subarray(0, F).some((v) => v === 0) && a.subarray(0, F).some((v) => v !== 0)).to.equal(true);
      const b = run(perRow);
      let wholeZero = 0;
      for (let i = 0; i < B; i++) {
        const row = Array.from(b.subarray(i * F, (i + 1) * F));
        expect(new Set(row).size).to.equal(1);
        if (row[0] === 0) wholeZero++;
      }
      expect(wholeZero).to.be.above(0).and.below(B);
    });
  });

  describe('in a model', () => {
    const layers = (rate, seed = 5) => () => [
      dn.layers.dense({ units: 8, inputShape: [6] }),
      dn.layers.batchNormalization(),
      dn.layers.activation({ activation: 'relu' }),
      dn.layers.dropout({ rate, seed }),
      dn.layers.dense({ units: 2 }),
    ];
    const plain = () => [
      dn.layers.dense({ units: 8, inputShape: [6] }),
      dn.layers.batchNormalization(),
      dn.layers.activation({ activation: 'relu' }),
      dn.layers.dense({ units: 2 }),
    ];

    it('fuses as the epilogue of the block before it', () => {
      const m = dn.sequential({ layers: layers(0.3)() });
      const names = m.layers.map((l) => l.name);
      expect(m.fusedBlocks()).to.deep.equal([names.slice(0, 4), names.slice(4)]);
    });

    it('rate 0 trains bit-identically to no dropout (both fit paths)', async () => {
      for (const perBatch of [false, true]) {
        const a = await trainedWeights(layers(0), { perBatch });
        const b = await trainedWeights(plain, { perBatch });
        expect(a.w).to.deep.equal(b.w);
      }
    });

    it('rate 0.5 changes training, and the per-batch and one-hop fit paths agree bit for bit', async () => {
      const a = await trainedWeights(layers(0.5));
      const b = await trainedWeights(layers(0.5), { perBatch: true });
      const c = await trainedWeights(plain);
      expect(a.w).to.deep.equal(b.w);
      expect(a.w).to.not.deep.equal(c.w);
    });

    it('is the identity in predict, evaluate and validation', async () => {
      const { m, x } = await trainedWeights(layers(0.5));
      const twin = dn.sequential({ layers: plain() });
      twin.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      twin.setWeights(m.getWeights());
      expect(Array.from(m.predict(x).data)).to.deep.equal(Array.from(twin.predict(x).data));
      const y = dn.tensor(new Float32Array(96 * 2).fill(0.5), [96, 2]);
      expect(m.evaluate(x, y).loss).to.equal(twin.evaluate(x, y).loss);
      const h = await m.fit(x, y, { epochs: 1, batchSize: 96, validationData: [x, y], shuffle: false });
      const after = dn.sequential({ layers: plain() });
      after.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      after.setWeights(m.getWeights());
      expect(h.history.val_loss[0]).to.be.closeTo(after.evaluate(x, y).loss, 1e-6);
    });

    it('the same weights on 1, 2 and 3 threads (a block wide enough to split)', async () => {
      const wide = () => [
        dn.layers.dense({ units: 512, inputShape: [6], activation: 'relu' }),
        dn.layers.dropout({ rate: 0.3, seed: 8 }),
        dn.layers.dense({ units: 2 }),
      ];
      const runs = [];
      for (const threads of [1, 2, 3]) runs.push((await trainedWeights(wide, { threads, rows: 600, epochs: 1 })).w);
      expect(runs[1]).to.deep.equal(runs[0]);
      expect(runs[2]).to.deep.equal(runs[0]);
    });

    it('works first (on the input) and last (the loss sees the dropped output)', async () => {
      const edge = () => [
        dn.layers.dropout({ rate: 0.25, seed: 2, inputShape: [6] }),
        dn.layers.dense({ units: 2 }),
        dn.layers.dropout({ rate: 0.25, seed: 3 }),
      ];
      const { m, x } = await trainedWeights(edge);
      expect(m.fusedBlocks().length).to.equal(2);
      const p = m.predict(x).data;
      expect(p.every(Number.isFinite)).to.equal(true);
      expect(m.getWeights().every((t) => t.data.every(Number.isFinite))).to.equal(true);
    });

    it('saves and loads (rate, seed, noiseShape) through the layer registry', async () => {
      const { m, x } = await trainedWeights(() => [
        dn.layers.dense({ units: 8, inputShape: [6], activation: 'tanh' }),
        dn.layers.dropout({ rate: 0.4, seed: 77, noiseShape: [null, 1] }),
        dn.layers.dense({ units: 2 }),
      ]);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dn-dropout-'));
      try {
        await m.save(dir);
        const back = await dn.loadModel(dir);
        const d = back.layers[1];
        expect(d).to.be.instanceOf(dn.Dropout);
        expect([d.rate, d.seed, d.noiseShape]).to.deep.equal([0.4, 77, [null, 1]]);
        expect(Array.from(back.predict(x).data)).to.deep.equal(Array.from(m.predict(x).data));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a seed drawn from dn.setSeed is reproducible and not saved', () => {
      dn.setSeed(123);
      const a = dn.layers.dropout({ rate: 0.5 });
      dn.setSeed(123);
      const b = dn.layers.dropout({ rate: 0.5 });
      expect(a.seed).to.equal(b.seed);
      expect(a.getConfig()).to.not.have.property('seed');
      expect(dn.layers.dropout({ rate: 0.5, seed: 9 }).getConfig().seed).to.equal(9);
    });
  });

  describe('gradients with a fixed mask (finite differences)', () => {
    // 5 → Dense(4, tanh) → Dropout(0.4) → Dense(3) → Dropout(0.3), MSE; step fixed so every
    // evaluation draws the same masks.
    const B = 7;
    const rand = rng(21);
    const k1 = randomArray(20, rand, 0.8);
    const b1 = randomArray(4, rand, 0.3);
    const k2 = randomArray(12, rand, 0.8);
    const g1 = new Float32Array(20);
    const gb1 = new Float32Array(4);
    const g2 = new Float32Array(12);
    const net = new native.NativeNet({
      inputFeatures: 5,
      ops: [
        { op: 'dense', units: 4, activation: 'tanh', kernel: k1, bias: b1, gradKernel: g1, gradBias: gb1 },
        { op: 'dropout', rate: 0.4, seed: 5 },
        { op: 'dense', units: 3, kernel: k2, gradKernel: g2 },
        { op: 'dropout', rate: 0.3, seed: 6 },
      ],
      loss: MSE, optimizer: sgd, params: [],
    });
    const x = randomArray(B * 5, rand);
    const y = randomArray(B * 3, rand);
    const STEP = 12;
    const loss = () => net.lossAndGrad(x, B, y, false, STEP).loss;

    it('the masks drop something at this step (so the check is about dropout)', () => {
      const out = new Float32Array(B * 3);
      net.forwardTrain(x, B, false, out, STEP);
      expect(out.some((v) => v === 0)).to.equal(true);
    });

    for (const [name, w, g] of [['kernel 1', k1, g1], ['bias 1', b1, gb1], ['kernel 2', k2, g2]]) {
      it(`${name}: analytic gradient = central differences`, () => {
        loss();
        const analytic = Float64Array.from(g);
        const h = 1e-2;
        for (let i = 0; i < w.length; i++) {
          const v = w[i];
          w[i] = v + h;
          const up = loss();
          w[i] = v - h;
          const down = loss();
          w[i] = v;
          const fd = (up - down) / (2 * h);
          expect(analytic[i], `${name}[${i}]`).to.be.closeTo(fd, 2e-3 + 2e-2 * Math.abs(fd));
        }
      });
    }

    it('input gradient (forwardBackward) = central differences of Σ dy·y', () => {
      const dy = randomArray(B * 3, rand);
      const dx = new Float32Array(B * 5);
      net.forwardBackward(x, B, dy, dx, STEP);
      const out = new Float32Array(B * 3);
      const f = () => {
        net.forwardTrain(x, B, false, out, STEP);
        let s = 0;
        for (let i = 0; i < out.length; i++) s += dy[i] * out[i];
        return s;
      };
      const h = 1e-2;
      for (let i = 0; i < x.length; i++) {
        const v = x[i];
        x[i] = v + h;
        const up = f();
        x[i] = v - h;
        const down = f();
        x[i] = v;
        const fd = (up - down) / (2 * h);
        expect(dx[i], `dx[${i}]`).to.be.closeTo(fd, 2e-3 + 2e-2 * Math.abs(fd));
      }
    });
  });
});

// Learning-rate schedules: values against Keras 3's formulas (keras/src/optimizers/schedules/
// learning_rate_schedule.py, written out above each case), serialization, errors, and the rate of
// each step as the native step uses it on both fit paths and trainOnBatch.
import { expect } from 'chai';
import { dn } from './helpers.mjs';

const S = dn.schedules;
const close = (got, want, tol = 1e-12) => expect(Math.abs(got - want), `got ${got}, want ${want}`).to.be.at.most(tol * Math.max(1, Math.abs(want)));

describe('schedules: values (Keras formulas)', () => {
  it('exponentialDecay: lr0 · rate^(step / D), exponent floored with staircase', () => {
    const s = S.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 });
    for (const step of [0, 5, 10, 25, 1000]) close(s(step), 0.1 * 0.5 ** (step / 10));
    close(s(10), 0.05);
    const st = S.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true });
    // staircase: lr0 · rate^floor(step / D)
    close(st(0), 0.1);
    close(st(9), 0.1);
    close(st(10), 0.05);
    close(st(19), 0.05);
    close(st(20), 0.025);
  });

  it('piecewiseConstantDecay: values[0] for step <= b0, values[i] for b(i-1) < step <= b(i), last after', () => {
    const s = S.piecewiseConstantDecay({ boundaries: [10, 20], values: [1, 0.5, 0.1] });
    const want = { 0: 1, 9: 1, 10: 1, 11: 0.5, 20: 0.5, 21: 0.1, 1000: 0.1 };
    for (const [step, v] of Object.entries(want)) expect(s(Number(step)), `step ${step}`).to.equal(v);
    // no boundaries: one value for every step
    expect(S.piecewiseConstantDecay({ boundaries: [], values: [0.3] })(7)).to.equal(0.3);
  });

  it('cosineDecay without warmup: s = min(step, D), lr0 · ((1 − α) · ½(1 + cos(π s / D)) + α)', () => {
    const s = S.cosineDecay({ initialLearningRate: 0.2, decaySteps: 100, alpha: 0.1 });
    const f = (step) => { const t = Math.min(step, 100); return 0.2 * (0.9 * 0.5 * (1 + Math.cos(Math.PI * t / 100)) + 0.1); };
    for (const step of [0, 1, 25, 50, 99, 100, 150]) close(s(step), f(step));
    close(s(0), 0.2);
    close(s(50), 0.11);
    close(s(100), 0.02);
    close(s(500), 0.02);
    // alpha defaults to 0: decays to 0; warmupSteps without warmupTarget is ignored (as Keras)
    close(S.cosineDecay({ initialLearningRate: 1, decaySteps: 4 })(4), 0);
    close(S.cosineDecay({ initialLearningRate: 0.2, decaySteps: 100, warmupSteps: 10 })(0), 0.2);
  });

  it('cosineDecay with warmup: s = min(step, D + W); s < W: lr0 + (target − lr0)·s/W; else cosine from target at s − W', () => {
    const s = S.cosineDecay({ initialLearningRate: 0.01, decaySteps: 100, warmupTarget: 0.1, warmupSteps: 10 });
    close(s(0), 0.01);
    close(s(5), 0.01 + (0.1 - 0.01) * 0.5);
    close(s(9), 0.01 + 0.09 * 0.9);
    close(s(10), 0.1); // the cosine at 0 from the target
    close(s(60), 0.1 * 0.5 * (1 + Math.cos(Math.PI * 0.5)));
    close(s(110), 0);
    close(s(300), 0);
  });

  it('polynomialDecay: (lr0 − end)·(1 − s/D)^power + end, s = min(step, D); cycle: D·ceil(step/D), 1 at step 0', () => {
    const s = S.polynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, endLearningRate: 0.01, power: 2 });
    close(s(0), 0.1);
    close(s(5), 0.09 * 0.25 + 0.01);
    close(s(10), 0.01);
    close(s(20), 0.01);
    const c = S.polynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, endLearningRate: 0.01, power: 2, cycle: true });
    close(c(0), 0.1); // multiplier 1 at step 0
    close(c(5), 0.09 * 0.25 + 0.01);
    close(c(10), 0.01); // D·ceil(10/10) = 10: p = 1
    close(c(15), 0.09 * 0.25 ** 2 + 0.01); // D = 20, p = 0.75
    close(c(21), 0.09 * 0.3 ** 2 + 0.01); // D = 30, p = 0.7
    // defaults: endLearningRate 1e-4, power 1
    close(S.polynomialDecay({ initialLearningRate: 1, decaySteps: 4 })(2), (1 - 1e-4) * 0.5 + 1e-4);
    close(S.polynomialDecay({ initialLearningRate: 1, decaySteps: 4 })(9), 1e-4);
  });

  it('inverseTimeDecay: lr0 / (1 + rate · step / D), quotient floored with staircase', () => {
    const s = S.inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 });
    close(s(0), 0.1);
    close(s(5), 0.1 / 1.25);
    close(s(20), 0.05);
    const st = S.inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true });
    close(st(15), 0.1 / 1.5);
    close(st(19), 0.1 / 1.5);
    close(st(20), 0.05);
  });
});

describe('schedules: config and errors', () => {
  it('getConfig has every argument with its default; deserialize(serialize(s)) computes the same', () => {
    expect(S.polynomialDecay({ initialLearningRate: 1, decaySteps: 4 }).getConfig()).to.deep.equal({ initialLearningRate: 1, decaySteps: 4, endLearningRate: 1e-4, power: 1, cycle: false });
    expect(S.exponentialDecay({ initialLearningRate: 1, decaySteps: 4, decayRate: 0.9 }).getConfig()).to.deep.equal({ initialLearningRate: 1, decaySteps: 4, decayRate: 0.9, staircase: false });
    expect(S.cosineDecay({ initialLearningRate: 1, decaySteps: 4 }).getConfig()).to.deep.equal({ initialLearningRate: 1, decaySteps: 4, alpha: 0, warmupSteps: 0 });
    const all = [
      S.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 3, decayRate: 0.7, staircase: true }),
      S.piecewiseConstantDecay({ boundaries: [2, 5], values: [0.3, 0.2, 0.1] }),
      S.cosineDecay({ initialLearningRate: 0.1, decaySteps: 7, alpha: 0.2, warmupTarget: 0.5, warmupSteps: 3 }),
      S.polynomialDecay({ initialLearningRate: 0.1, decaySteps: 7, power: 0.5, cycle: true }),
      S.inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 7, decayRate: 2 }),
    ];
    for (const s of all) {
      const json = JSON.parse(JSON.stringify(S.serialize(s)));
      expect(json.className).to.equal(s.className);
      const back = S.deserialize(json);
      for (let step = 0; step < 20; step++) expect(back(step), `${s.className} at ${step}`).to.equal(s(step));
    }
    // getConfig hands out copies
    const p = all[1];
    p.getConfig().values[0] = 99;
    expect(p(0)).to.equal(0.3);
  });

  it('bad arguments are TypeError / RangeError naming the argument', () => {
    expect(() => S.exponentialDecay({ decaySteps: 10, decayRate: 0.5 })).to.throw(TypeError, /initialLearningRate but received undefined/);
    expect(() => S.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.5 })).to.throw(RangeError, /> 0 for decaySteps but received 0/);
    expect(() => S.inverseTimeDecay({ initialLearningRate: -1, decaySteps: 1, decayRate: 0.5 })).to.throw(RangeError, /initialLearningRate but received -1/);
    expect(() => S.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: NaN })).to.throw(RangeError, /decayRate but received NaN/);
    expect(() => S.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, stairCase: true })).to.throw(RangeError, /did you mean "staircase"/);
    expect(() => S.piecewiseConstantDecay({ boundaries: [1, 2], values: [1, 2] })).to.throw(RangeError, /3 rates .* for values/);
    expect(() => S.piecewiseConstantDecay({ boundaries: [5, 5], values: [1, 2, 3] })).to.throw(RangeError, /boundaries\[1\]/);
    expect(() => S.piecewiseConstantDecay({ boundaries: 5, values: [1] })).to.throw(TypeError, /boundaries/);
    expect(() => S.cosineDecay({ initialLearningRate: 0.1, decaySteps: 10, alpha: 1.5 })).to.throw(RangeError, /alpha/);
    expect(() => S.cosineDecay({ initialLearningRate: 0.1, decaySteps: 10, warmupSteps: 1.5 })).to.throw(RangeError, /warmupSteps/);
    expect(() => S.polynomialDecay({ initialLearningRate: 0.1, decaySteps: 10, cycle: 1 })).to.throw(TypeError, /cycle/);
    expect(() => S.exponentialDecay()).to.throw(TypeError, /exponentialDecay args/);
    const s = S.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 });
    expect(() => s(-1)).to.throw(RangeError, /step/);
    expect(() => S.deserialize({ className: 'CosineDecayRestarts', config: {} })).to.throw(RangeError, /className/);
  });
});

describe('schedules in optimizers', () => {
  it('learningRate is the schedule at iterations; getConfig carries {className, config}; a number cannot replace it', () => {
    const sched = S.piecewiseConstantDecay({ boundaries: [1], values: [0.5, 0.25] });
    for (const make of [dn.optimizers.sgd, dn.optimizers.adam, dn.optimizers.rmsprop]) {
      const o = make({ learningRate: sched });
      expect(o.learningRate).to.equal(0.5);
      o.iterations = 2;
      expect(o.learningRate).to.equal(0.25);
      expect(o.rateAt(1)).to.equal(0.5);
      expect(o.learningRateSchedule).to.equal(sched);
      expect(o.getConfig().learningRate).to.deep.equal({ className: 'PiecewiseConstantDecay', config: { boundaries: [1], values: [0.5, 0.25] } });
      expect(() => { o.learningRate = 0.1; }).to.throw(TypeError, /PiecewiseConstantDecay schedule/);
    }
    const o = dn.optimizers.sgd({ learningRate: 0.1 });
    o.learningRate = sched; // a schedule may replace a number (Keras's setter)
    expect(o.learningRate).to.equal(0.5);
  });

  it('a schedule giving a negative or non-finite rate fails fit before any step', async () => {
    const bad = Object.assign((step) => (step < 2 ? 0.1 : -1), { className: 'Custom', getConfig: () => ({}) });
    const m = linearModel(dn.optimizers.sgd({ learningRate: bad }));
    const before = m.getWeights().map((t) => Array.from(t.data));
    let err;
    try { await m.fit(X, Y, { batchSize: 2, shuffle: false }); } catch (e) { err = e; }
    expect(err).to.be.instanceOf(RangeError);
    expect(err.message).to.match(/learningRate \(the Custom schedule at step 2\) but received -1/);
    expect(m.getWeights().map((t) => Array.from(t.data))).to.deep.equal(before);
  });
});

// 3 → Dense(2) linear, MSE: gradient in closed form.
const X = dn.tensor(new Float32Array([0.5, -1, 2, 1, 0.25, -0.5, -1.5, 0.75, 1, 0.2, -0.3, 0.9, 2, 1, -1, -0.4, 0.6, 0.1]), [6, 3]);
const Y = dn.tensor(new Float32Array([1, 0, 0, 1, -1, 0.5, 0.3, 0.2, 2, -1, 0.5, 0.5]), [6, 2]);
function linearModel(optimizer) {
  dn.setSeed(11);
  const m = dn.sequential({ layers: [dn.layers.dense({ units: 2, inputShape: [3] })] });
  m.compile({ optimizer, loss: 'meanSquaredError' });
  return m;
}
// dL/dW and dL/db of mean((xW + b − y)²) over rows [r0, r1), in float64.
function grads(W, b, r0, r1) {
  const gW = new Float64Array(6), gb = new Float64Array(2);
  const n = (r1 - r0) * 2;
  for (let r = r0; r < r1; r++) {
    for (let j = 0; j < 2; j++) {
      let y = b[j];
      for (let i = 0; i < 3; i++) y += X.data[r * 3 + i] * W[i * 2 + j];
      const d = (2 * (y - Y.data[r * 2 + j])) / n;
      gb[j] += d;
      for (let i = 0; i < 3; i++) gW[i * 2 + j] += d * X.data[r * 3 + i];
    }
  }
  return [gW, gb];
}

describe('schedules: the rate each native step uses', () => {
  // steps 0, 1 → 0.1; 2, 3 → 0.05; 4, 5 → 0.01 (2 epochs of 3 batches: the step count runs on)
  const sched = () => S.piecewiseConstantDecay({ boundaries: [1, 3], values: [0.1, 0.05, 0.01] });
  const rates = [0.1, 0.1, 0.05, 0.05, 0.01, 0.01];

  it('SGD without momentum: each step changes the weights by −lr_step · grad (per-batch path)', async () => {
    const m = linearModel(dn.optimizers.sgd({ learningRate: sched() }));
    const seen = [m.getWeights().map((t) => Float64Array.from(t.data))];
    await m.fit(X, Y, { epochs: 2, batchSize: 2, shuffle: false, callbacks: { onBatchEnd: () => { seen.push(m.getWeights().map((t) => Float64Array.from(t.data))); } } });
    expect(seen.length).to.equal(7);
    for (let step = 0; step < 6; step++) {
      const [W, b] = seen[step];
      const r0 = (step % 3) * 2;
      const [gW, gb] = grads(W, b, r0, r0 + 2);
      const [W1, b1] = seen[step + 1];
      for (let i = 0; i < 6; i++) expect(W1[i] - W[i], `step ${step} W[${i}]`).to.be.closeTo(-rates[step] * gW[i], 2e-7);
      for (let j = 0; j < 2; j++) expect(b1[j] - b[j], `step ${step} b[${j}]`).to.be.closeTo(-rates[step] * gb[j], 2e-7);
    }
    expect(m.optimizer.iterations).to.equal(6);
  });

  it('the native epoch (no batch callback), the per-batch path and trainOnBatch give bit-identical weights', async () => {
    const a = linearModel(dn.optimizers.adam({ learningRate: sched() }));
    await a.fit(X, Y, { epochs: 2, batchSize: 2, shuffle: false });
    const b = linearModel(dn.optimizers.adam({ learningRate: sched() }));
    await b.fit(X, Y, { epochs: 2, batchSize: 2, shuffle: false, callbacks: { onBatchEnd: () => {} } });
    const c = linearModel(dn.optimizers.adam({ learningRate: sched() }));
    for (let step = 0; step < 6; step++) {
      const r0 = (step % 3) * 2;
      c.trainOnBatch(dn.tensor(X.data.slice(r0 * 3, (r0 + 2) * 3), [2, 3]), dn.tensor(Y.data.slice(r0 * 2, (r0 + 2) * 2), [2, 2]));
    }
    // the native epoch feeding a callback that observes batches (progress reports)
    const e = linearModel(dn.optimizers.adam({ learningRate: sched() }));
    let seen = 0;
    await e.fit(X, Y, { epochs: 2, batchSize: 2, shuffle: false, callbacks: { observesBatches: true, onBatchEnd: () => { seen++; } } });
    expect(seen).to.equal(6);
    const w = (m) => m.getWeights().map((t) => Array.from(t.data));
    expect(w(b)).to.deep.equal(w(a));
    expect(w(c)).to.deep.equal(w(a));
    expect(w(e)).to.deep.equal(w(a));
    // and the schedule mattered: a constant 0.1 trains differently
    const d = linearModel(dn.optimizers.adam({ learningRate: 0.1 }));
    await d.fit(X, Y, { epochs: 2, batchSize: 2, shuffle: false });
    expect(w(d)).to.not.deep.equal(w(a));
  });

  it('the native epoch applies the per-step rates: same weights as a float64 SGD replay of the schedule', async () => {
    const m = linearModel(dn.optimizers.sgd({ learningRate: sched() }));
    const [W0, b0] = m.getWeights().map((t) => Float64Array.from(t.data));
    await m.fit(X, Y, { epochs: 2, batchSize: 2, shuffle: false });
    const W = Float64Array.from(W0), b = Float64Array.from(b0);
    for (let step = 0; step < 6; step++) {
      const r0 = (step % 3) * 2;
      const [gW, gb] = grads(W, b, r0, r0 + 2);
      for (let i = 0; i < 6; i++) W[i] -= rates[step] * gW[i];
      for (let j = 0; j < 2; j++) b[j] -= rates[step] * gb[j];
    }
    const [Wn, bn] = m.getWeights().map((t) => t.data);
    for (let i = 0; i < 6; i++) expect(Wn[i]).to.be.closeTo(W[i], 1e-6);
    for (let j = 0; j < 2; j++) expect(bn[j]).to.be.closeTo(b[j], 1e-6);
  });
});

describe('schedules with callbacks and logs', () => {
  it('history.learning_rate holds the schedule at each epoch start; rate-setting callbacks refuse a schedule at train begin', async () => {
    // steps 0..2 are epoch 0 (0.1), 3..5 epoch 1 (0.05 from step 3 > boundary 2)
    const m = linearModel(dn.optimizers.sgd({ learningRate: S.piecewiseConstantDecay({ boundaries: [2], values: [0.1, 0.05] }) }));
    const h = await m.fit(X, Y, { epochs: 2, batchSize: 2, shuffle: false });
    expect(h.history.learning_rate).to.deep.equal([0.1, 0.05]);
    for (const cb of [dn.callbacks.reduceLROnPlateau({ monitor: 'loss' }), dn.callbacks.learningRateScheduler((epoch, lr) => lr)]) {
      const before = m.getWeights().map((t) => Array.from(t.data));
      let err;
      try { await m.fit(X, Y, { epochs: 1, batchSize: 2, callbacks: [cb] }); } catch (e) { err = e; }
      expect(err).to.be.instanceOf(TypeError);
      expect(err.message).to.match(/schedule/);
      expect(m.getWeights().map((t) => Array.from(t.data))).to.deep.equal(before);
    }
  });
});

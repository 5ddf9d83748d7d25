// dn.callbacks against Keras 3's definitions (keras/src/callbacks/*.py; the algorithms are written
// out in ../shared/design/formats.md §3). Each callback is driven two ways: directly, with hand-made
// logs and a fake model, where the expected values follow exactly from the formulas in the
// comments; and through fit on a small synthetic model, where a plain callback placed before it
// writes a chosen `score` into the epoch logs so that the monitored values are exact there too.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { dn, rejects } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { maximizes } = require('../dist/callbacks/callback.js');
const { formatTemplate, pyFloatRepr } = require('../dist/callbacks/format.js');
const { trainingError } = require('../dist/models/training.js');
const cbs = dn.callbacks;

// A stand-in model: getWeights returns a tag naming the epoch whose end it was read at.
function fakeModel(lr = 1) {
  const m = {
    stopTraining: false,
    epoch: -1,
    restored: undefined,
    optimizer: { learningRate: lr, iterations: 0 },
    getWeights: () => [`weights@${m.epoch}`],
    setWeights: (w) => { m.restored = w[0]; },
    save: async () => {},
  };
  return m;
}

// fit's loop for one callback: onTrainBegin, then per epoch onEpochBegin / onEpochEnd with
// { [key]: values[epoch] }, stopping when the callback sets stopTraining; then onTrainEnd.
// Returns the epochs run and the learning rate after each epoch.
async function drive(cb, values, { key = 'val_loss', model = fakeModel(), extra = {} } = {}) {
  cb.setModel(model);
  await cb.onTrainBegin?.();
  const lrs = [];
  let epochs = 0;
  for (let e = 0; e < values.length; e++) {
    model.epoch = e;
    await cb.onEpochBegin?.(e, {});
    await cb.onEpochEnd?.(e, { loss: 0, ...extra, [key]: values[e] });
    lrs.push(model.optimizer.learningRate);
    epochs++;
    if (model.stopTraining) break;
  }
  await cb.onTrainEnd?.();
  return { epochs, lrs, model };
}

// Blobs around four centres, and a small BN classifier (2 → 8 → BN → relu → 4 softmax).
function data(n = 48, seed = 1) {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  const x = [];
  const y = [];
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    x.push([(c % 2 ? 1 : -1) + r(), (c < 2 ? 1 : -1) + r()]);
    y.push([0, 1, 2, 3].map((k) => (k === c ? 1 : 0)));
  }
  return { x: dn.tensor(x), y: dn.tensor(y) };
}

function classifier({ seed = 5, lr = 0.05, metrics } = {}) {
  dn.setSeed(seed);
  const m = dn.sequential({
    layers: [
      dn.layers.dense({ units: 8, inputShape: [2] }),
      dn.layers.batchNormalization(),
      dn.layers.activation({ activation: 'relu' }),
      dn.layers.dense({ units: 4, activation: 'softmax' }),
    ],
  });
  m.compile({ optimizer: dn.optimizers.sgd({ learningRate: lr }), loss: 'categoricalCrossentropy', metrics });
  return m;
}

const weightsOf = (m) => m.getWeights().map((t) => Array.from(t.data));
// The trainable weights only (batch norm's moving statistics change even at learning rate 0).
const trainableOf = (m) => m.layers.flatMap((l) => l.weights.filter((w) => w.trainable).map((w) => Array.from(w.value)));

// Writes logs.score = scores[epoch] and keeps the weights at each epoch end.
function scorer(m, scores) {
  const snaps = [];
  return { snaps, cb: { onEpochEnd: (e, logs) => { logs.score = scores[e]; snaps.push(weightsOf(m)); } } };
}

const tmpdir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'dn-callbacks-'));

describe('callbacks', () => {
  describe('monitor mode auto (Keras: loss → min, accuracy-like metrics → max, else an error)', () => {
    it('infers min for losses and errors, max for acc/auc/precision/recall, and asks otherwise', () => {
      for (const k of ['loss', 'val_loss', 'mae', 'val_mse', 'mean_squared_error', 'val_binary_crossentropy']) {
        expect(maximizes(k, 'auto', 'x'), k).to.equal(false);
      }
      for (const k of ['acc', 'val_acc', 'accuracy', 'binary_accuracy', 'val_categorical_accuracy', 'auc', 'val_auc', 'precision', 'val_recall']) {
        expect(maximizes(k, 'auto', 'x'), k).to.equal(true);
      }
      expect(maximizes('val_acc', 'min', 'x')).to.equal(false);
      expect(maximizes('loss', 'max', 'x')).to.equal(true);
      expect(() => maximizes('learning_rate', 'auto', 'earlyStopping')).to.throw(RangeError, /learning_rate.*mode: 'min' or mode: 'max'/);
    });

    it('rejects an unknown mode and unknown args', () => {
      expect(() => cbs.earlyStopping({ mode: 'up' })).to.throw(RangeError, /mode/);
      expect(() => cbs.reduceLROnPlateau({ patiance: 3 })).to.throw(/patiance/);
      expect(() => cbs.modelCheckpoint({ filepath: 'x', saveBest: true })).to.throw(/saveBest/);
    });
  });

  describe('earlyStopping', () => {
    it('has the Keras defaults', () => {
      const es = cbs.earlyStopping();
      expect([es.monitor, es.minDelta, es.patience, es.mode, es.baseline, es.restoreBestWeights, es.startFromEpoch])
        .to.deep.equal(['val_loss', 0, 0, 'auto', undefined, false, 0]);
      expect(es).to.be.instanceOf(dn.callbacks.Callback);
    });

    it('patience 0: stops at the first epoch that does not improve', async () => {
      // wait += 1 each epoch; improvement (current < best) resets it; else wait >= 0 and epoch > 0 → stop.
      // 1.0 (best) → 0.9 (best) → 0.95 (no: stop at epoch 2).
      const es = cbs.earlyStopping({ patience: 0 });
      const { epochs, model } = await drive(es, [1.0, 0.9, 0.95, 0.8]);
      expect(epochs).to.equal(3);
      expect(es.stoppedEpoch).to.equal(2);
      expect(model.stopTraining).to.equal(true);
      expect(es.best).to.equal(0.9);
      expect(es.bestEpoch).to.equal(1);
    });

    it('a flat loss with patience 3 runs 4 epochs (the Keras docstring example)', async () => {
      // epoch 0 improves on best = None; epochs 1, 2, 3 give wait 1, 2, 3; 3 >= 3 stops at epoch 3.
      const es = cbs.earlyStopping({ monitor: 'loss', patience: 3 });
      const { epochs } = await drive(es, Array(10).fill(1), { key: 'loss' });
      expect(epochs).to.equal(4);
      expect(es.stoppedEpoch).to.equal(3);
    });

    it('minDelta on a plateau: a change smaller than minDelta is no improvement (its sign ignored)', async () => {
      // minDelta 0.01: 0.995 < 1 − 0.01 is false → wait 1 >= patience 1 → stop at epoch 1.
      // minDelta 0: 1 > 0.995 > 0.992 > 0.98 all improve → all 4 epochs run.
      const values = [1.0, 0.995, 0.992, 0.98];
      for (const minDelta of [0.01, -0.01]) {
        const es = cbs.earlyStopping({ patience: 1, minDelta });
        expect((await drive(es, values)).epochs, `minDelta ${minDelta}`).to.equal(2);
        expect(es.stoppedEpoch).to.equal(1);
      }
      const es0 = cbs.earlyStopping({ patience: 1 });
      expect((await drive(es0, values)).epochs).to.equal(4);
      expect(es0.stoppedEpoch).to.equal(0);
    });

    it('mode max / min / auto on an accuracy', async () => {
      // max (auto for val_acc): 0.5 → 0.6 (best) → 0.55 (0.55 > 0.6 false: stop at 2).
      // min: 0.6 < 0.5 false at epoch 1 → stop at 1.
      const values = [0.5, 0.6, 0.55, 0.58];
      const auto = cbs.earlyStopping({ monitor: 'val_acc', patience: 0 });
      expect((await drive(auto, values, { key: 'val_acc' })).epochs).to.equal(3);
      const max = cbs.earlyStopping({ monitor: 'val_acc', patience: 0, mode: 'max' });
      expect((await drive(max, values, { key: 'val_acc' })).epochs).to.equal(3);
      const min = cbs.earlyStopping({ monitor: 'val_acc', patience: 0, mode: 'min' });
      expect((await drive(min, values, { key: 'val_acc' })).epochs).to.equal(2);
      expect(min.best).to.equal(0.5);
    });

    it('restoreBestWeights when the last epoch is the best: restores the last weights, not stopped', async () => {
      const es = cbs.earlyStopping({ patience: 5, restoreBestWeights: true });
      const { epochs, model } = await drive(es, [3, 2, 1]);
      expect(epochs).to.equal(3);
      expect(es.stoppedEpoch).to.equal(0);
      expect(model.restored).to.equal('weights@2');
    });

    it('restoreBestWeights also when training ran to the end without stopping (Keras 3)', async () => {
      const es = cbs.earlyStopping({ patience: 5, restoreBestWeights: true });
      const { epochs, model } = await drive(es, [3, 1, 2]);
      expect(epochs).to.equal(3);
      expect(es.stoppedEpoch).to.equal(0);
      expect(es.bestEpoch).to.equal(1);
      expect(model.restored).to.equal('weights@1');
      // and without restoreBestWeights nothing is set
      const plain = cbs.earlyStopping({ patience: 5 });
      expect((await drive(plain, [3, 1, 2])).model.restored).to.equal(undefined);
    });

    it('startFromEpoch: earlier epochs are not watched, not even as the best weights', async () => {
      // Epochs 0, 1 ignored; epoch 2 (6) improves on None; epoch 3 (7) does not → stop at 3.
      // Without it: 5 → 4 (best) → 6 stops at 2.
      const values = [5, 4, 6, 7, 3];
      const es = cbs.earlyStopping({ patience: 0, startFromEpoch: 2, restoreBestWeights: true });
      const r = await drive(es, values);
      expect(r.epochs).to.equal(4);
      expect(es.stoppedEpoch).to.equal(3);
      expect(r.model.restored).to.equal('weights@2');
      const es0 = cbs.earlyStopping({ patience: 0 });
      expect((await drive(es0, values)).epochs).to.equal(3);
    });

    it('baseline: wait only resets on an epoch that also beats the baseline', async () => {
      // patience 2, values 1, 1.1, 1.2: epoch 0 improves on None (best 1) but not on baseline 0.5, so
      // wait stays 1; epoch 1: wait 2 >= 2 → stop at 1. Without baseline (or with 1.5, which epoch 0
      // beats) epoch 0 resets wait to 0 and the stop comes at epoch 2.
      const values = [1, 1.1, 1.2, 0.9, 0.8];
      const withBase = cbs.earlyStopping({ patience: 2, baseline: 0.5, restoreBestWeights: true });
      const r = await drive(withBase, values);
      expect(r.epochs).to.equal(2);
      expect(withBase.stoppedEpoch).to.equal(1);
      expect(r.model.restored).to.equal('weights@0');
      expect((await drive(cbs.earlyStopping({ patience: 2 }), values)).epochs).to.equal(3);
      expect((await drive(cbs.earlyStopping({ patience: 2, baseline: 1.5 }), values)).epochs).to.equal(3);
    });

    it('is reset by onTrainBegin, so an instance can be reused', async () => {
      const es = cbs.earlyStopping({ patience: 0 });
      await drive(es, [1, 2]);
      expect(es.stoppedEpoch).to.equal(1);
      const r = await drive(es, [5, 4, 3]);
      expect(r.epochs).to.equal(3);
      expect(es.stoppedEpoch).to.equal(0);
      expect(es.best).to.equal(3);
    });

    it('through fit: stops training and restores the weights of the best epoch', async () => {
      const { x, y } = data();
      const m = classifier();
      // score 3, 1, 2, 2.5, ...: best at epoch 1; patience 2 → wait 1, 2 at epochs 2, 3 → stop at 3.
      const s = scorer(m, [3, 1, 2, 2.5, 0.1, 0.1]);
      const es = cbs.earlyStopping({ monitor: 'score', mode: 'min', patience: 2, restoreBestWeights: true });
      const h = await m.fit(x, y, { epochs: 6, batchSize: 8, seed: 3, callbacks: [s.cb, es] });
      expect(h.epoch).to.deep.equal([0, 1, 2, 3]);
      expect(m.optimizer.iterations).to.equal(4 * 6);
      expect(es.stoppedEpoch).to.equal(3);
      expect(weightsOf(m)).to.deep.equal(s.snaps[1]);
      expect(weightsOf(m)).to.not.deep.equal(s.snaps[3]);
    });

    it('an unknown monitor is an error at the end of the first epoch, naming the keys there are', async () => {
      const { x, y } = data();
      const m = classifier({ metrics: ['accuracy'] });
      const err = await rejects(m.fit(x, y, { epochs: 3, batchSize: 8, callbacks: [cbs.earlyStopping()] }));
      expect(err).to.be.instanceOf(RangeError);
      expect(err.message).to.match(/'val_loss'.*not in the epoch logs.*loss, acc, learning_rate.*validationData/);
      expect(m.optimizer.iterations).to.equal(6); // one epoch of 48 rows / 8 ran
      expect(m.isTraining).to.equal(false);
    });
  });

  describe('reduceLROnPlateau', () => {
    it('has the Keras defaults; factor >= 1 is a RangeError', () => {
      const r = cbs.reduceLROnPlateau();
      expect([r.monitor, r.factor, r.patience, r.minDelta, r.cooldown, r.minLr, r.mode])
        .to.deep.equal(['val_loss', 0.1, 10, 1e-4, 0, 0, 'auto']);
      expect(() => cbs.reduceLROnPlateau({ factor: 1 })).to.throw(RangeError, /factor >= 1/);
      expect(() => cbs.reduceLROnPlateau({ factor: 2 })).to.throw(RangeError, /factor/);
    });

    it('a flat monitor: lr · factor every `patience` epochs', async () => {
      // epoch 0 improves on None; then wait 1, 2 (→ lr 0.5, wait 0), 1, 2 (→ 0.25), 1.
      const r = cbs.reduceLROnPlateau({ patience: 2, factor: 0.5 });
      expect((await drive(r, [1, 1, 1, 1, 1, 1])).lrs).to.deep.equal([1, 1, 0.5, 0.5, 0.25, 0.25]);
    });

    it('minDelta on a plateau is absolute: 0.99995 is no improvement on 1, 0.9998 is', async () => {
      // minDelta 1e-4: 0.99995 < 1 − 1e-4 false → wait 1 >= 1 → lr 0.1; 0.9998 < 0.9999 → improvement.
      const r = cbs.reduceLROnPlateau({ patience: 1 });
      expect((await drive(r, [1, 0.99995, 0.9998])).lrs).to.deep.equal([1, 0.1, 0.1]);
      expect(r.best).to.equal(0.9998);
      // minDelta 0: 0.99995 < 1 improves, so nothing is reduced.
      const r0 = cbs.reduceLROnPlateau({ patience: 1, minDelta: 0 });
      expect((await drive(r0, [1, 0.99995, 0.9998])).lrs).to.deep.equal([1, 1, 1]);
    });

    it('cooldown: after a reduction, epochs in cooldown do not count towards patience', async () => {
      // patience 1, cooldown 2, flat: e1 wait 1 → 0.5, counter 2; e2 counter → 1, still in cooldown;
      // e3 counter → 0, wait 1 → 0.25, counter 2; e4 skipped; e5 → 0.125; e6 skipped.
      const r = cbs.reduceLROnPlateau({ patience: 1, cooldown: 2, factor: 0.5 });
      expect((await drive(r, Array(7).fill(1))).lrs).to.deep.equal([1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125]);
      // no cooldown: every epoch after the first reduces.
      const r0 = cbs.reduceLROnPlateau({ patience: 1, factor: 0.5 });
      expect((await drive(r0, Array(5).fill(1))).lrs).to.deep.equal([1, 0.5, 0.25, 0.125, 0.0625]);
    });

    it('minLr is a floor: lr = max(lr · factor, minLr), and no change once lr <= minLr', async () => {
      // 1 → 0.1 → max(0.01, 0.05) = 0.05 → float32(0.05) > float32(0.05) false: stays.
      const r = cbs.reduceLROnPlateau({ patience: 1, minLr: 0.05 });
      expect((await drive(r, [1, 1, 1, 1])).lrs).to.deep.equal([1, 0.1, 0.05, 0.05]);
    });

    it('mode max / min / auto on an accuracy', async () => {
      // max: 0.6 > 0.5 + 1e-4 improves at epoch 2; min: 0.6 < 0.5 − 1e-4 does not.
      const values = [0.5, 0.5, 0.6];
      const opts = { monitor: 'val_acc', patience: 1, factor: 0.5 };
      expect((await drive(cbs.reduceLROnPlateau(opts), values, { key: 'val_acc' })).lrs).to.deep.equal([1, 0.5, 0.5]);
      expect((await drive(cbs.reduceLROnPlateau({ ...opts, mode: 'max' }), values, { key: 'val_acc' })).lrs).to.deep.equal([1, 0.5, 0.5]);
      expect((await drive(cbs.reduceLROnPlateau({ ...opts, mode: 'min' }), values, { key: 'val_acc' })).lrs).to.deep.equal([1, 0.5, 0.25]);
    });

    it('a learning rate that is not a plain number (a schedule) is a TypeError', async () => {
      const model = fakeModel();
      model.optimizer.learningRate = (step) => 0.1 / (1 + step);
      const err = await rejects(drive(cbs.reduceLROnPlateau(), [1], { model }));
      expect(err).to.be.instanceOf(TypeError);
      expect(err.message).to.match(/reduceLROnPlateau sets optimizer.learningRate.*plain number.*schedule/);
    });

    it('through fit: the reduced rate is logged and used by the next epoch (factor 0 freezes the weights)', async () => {
      const { x, y } = data();
      const m = classifier({ lr: 0.05 });
      // score flat: epoch 0 best, epoch 1 wait 1 >= 1 → lr = max(0.05·0, 0) = 0 for epochs 2, 3.
      const s = scorer(m, [1, 1, 1, 1]);
      const kernels = [];
      const h = await m.fit(x, y, {
        epochs: 4, batchSize: 8, seed: 2,
        callbacks: [s.cb, cbs.reduceLROnPlateau({ monitor: 'score', mode: 'min', patience: 1, factor: 0 }), { onEpochEnd: () => kernels.push(trainableOf(m)) }],
      });
      expect(h.history.learning_rate).to.deep.equal([0.05, 0.05, 0, 0]);
      expect(m.optimizer.learningRate).to.equal(0);
      expect(kernels[1]).to.not.deep.equal(kernels[0]);
      expect(kernels[2]).to.deep.equal(kernels[1]);
      expect(kernels[3]).to.deep.equal(kernels[1]);
    });
  });

  describe('learningRateScheduler', () => {
    it('sets lr = schedule(epoch, lr) at each epoch begin; logs and history carry it', async () => {
      const { x, y } = data();
      const m = classifier({ lr: 0.1 });
      const calls = [];
      // halve from epoch 2 on: 0.1, 0.1, 0.05, 0.025
      const sched = cbs.learningRateScheduler((epoch, lr) => { calls.push([epoch, lr]); return epoch < 2 ? lr : lr * 0.5; });
      const seen = [];
      const h = await m.fit(x, y, { epochs: 4, batchSize: 8, callbacks: [sched, { onEpochEnd: (e, logs) => seen.push(logs.learning_rate) }] });
      expect(calls).to.deep.equal([[0, 0.1], [1, 0.1], [2, 0.1], [3, 0.05]]);
      expect(h.history.learning_rate).to.deep.equal([0.1, 0.1, 0.05, 0.025]);
      expect(seen).to.deep.equal([0.1, 0.1, 0.05, 0.025]);
      expect(m.optimizer.learningRate).to.equal(0.025);
    });

    it('the native step uses the scheduled rate: rate 0 in epoch 1 leaves the trainable weights as they were', async () => {
      const { x, y } = data();
      const m = classifier({ lr: 0.1 });
      const kernels = [];
      await m.fit(x, y, {
        epochs: 3, batchSize: 8,
        callbacks: [cbs.learningRateScheduler((e) => (e === 1 ? 0 : 0.1)), { onEpochEnd: () => kernels.push(trainableOf(m)) }],
      });
      expect(kernels[1]).to.deep.equal(kernels[0]);
      expect(kernels[2]).to.not.deep.equal(kernels[1]);
    });

    it('a non-number, NaN, infinite or negative rate is a clear error; so is a schedule optimizer rate', async () => {
      expect(() => cbs.learningRateScheduler(0.1)).to.throw(TypeError, /function/);
      for (const [bad, type] of [['0.1', TypeError], [undefined, TypeError], [NaN, RangeError], [Infinity, RangeError], [-0.01, RangeError]]) {
        const err = await rejects(drive(cbs.learningRateScheduler(() => bad), [1]));
        expect(err, String(bad)).to.be.instanceOf(type);
        expect(err.message).to.match(/learningRateScheduler: schedule\(0, lr\) must return/);
      }
      const model = fakeModel();
      model.optimizer.learningRate = () => 0.1;
      expect(await rejects(drive(cbs.learningRateScheduler((e, lr) => lr), [1], { model }))).to.be.instanceOf(TypeError);
      // through fit the error rejects fit before any step
      const { x, y } = data();
      const m = classifier();
      const err = await rejects(m.fit(x, y, { callbacks: cbs.learningRateScheduler(() => -1) }));
      expect(err).to.be.instanceOf(RangeError);
      expect(m.optimizer.iterations).to.equal(0);
    });
  });

  describe('modelCheckpoint: filepath formatting (Python str.format, as Keras)', () => {
    const f = (t, v) => formatTemplate(t, v, ['epoch']);
    it('formats {epoch}, {epoch:02d} and log values with Python format specs', () => {
      expect(f('ckpt-{epoch:02d}-{val_loss:.2f}', { epoch: 3, val_loss: 0.693147 })).to.equal('ckpt-03-0.69');
      expect(f('{epoch}/{epoch:03d}/{epoch:>4}', { epoch: 12 })).to.equal('12/012/  12');
      // Python rounds exact binary ties half to even: '%.2f' % 0.125 == '0.12', 0.375 → '0.38'
      expect(f('{a:.2f} {b:.2f} {c:.2f}', { a: 0.125, b: 0.375, c: 2.675 })).to.equal('0.12 0.38 2.67');
      // unformatted floats print as Python's repr
      expect([0.5, 1, 1e-5, 123456.789, 1e16, 0.0001, -2.5e-7, NaN, Infinity].map(pyFloatRepr))
        .to.deep.equal(['0.5', '1.0', '1e-05', '123456.789', '1e+16', '0.0001', '-2.5e-07', 'nan', 'inf']);
      expect(f('{loss}', { loss: 1 })).to.equal('1.0');
      expect(f('{l:.3e}|{l2:g}|{l3:g}|{l4:g}|{a:.1%}', { l: 0.000123456, l2: 0.00001, l3: 1234567, l4: 100, a: 0.875 }))
        .to.equal('1.235e-04|1e-05|1.23457e+06|100|87.5%');
      expect(f('[{l:8.3f}][{l:<8.2f}][{l:+.1f}][{n:08.3f}][{l:*^9.1f}]', { l: 3.14159, n: -3.14159 }))
        .to.equal('[   3.142][3.14    ][+3.1][-003.142][***3.1***]');
      expect(f('{{epoch}}-{epoch}', { epoch: 1 })).to.equal('{epoch}-1');
      expect(f('{loss:.2f}', { loss: NaN })).to.equal('nan');
    });

    it('an unknown field, an unclosed brace or an unsupported spec is a RangeError', () => {
      expect(() => f('{val_acc}', { epoch: 1, loss: 0.5 })).to.throw(RangeError, /'\{val_acc\}'.*epoch, loss/);
      expect(() => f('{epoch', { epoch: 1 })).to.throw(RangeError, /Unclosed/);
      expect(() => f('a}b', {})).to.throw(RangeError, /Single '\}'/);
      expect(() => f('{loss:q}', { loss: 1 })).to.throw(RangeError, /Unsupported format spec/);
      expect(() => f('{loss:d}', { loss: 0.5 })).to.throw(RangeError, /integer/);
      // a malformed template fails when the callback is made
      expect(() => cbs.modelCheckpoint({ filepath: 'ckpt-{epoch:zz}' })).to.throw(RangeError);
      expect(() => cbs.modelCheckpoint({})).to.throw(TypeError, /filepath/);
    });
  });

  describe('modelCheckpoint: saving', () => {
    it('saves every epoch to the formatted directory, that epoch\'s weights, atomically and awaited', async () => {
      const dir = tmpdir();
      const { x, y } = data();
      const m = classifier();
      const s = scorer(m, [0, 0, 0]);
      const ck = cbs.modelCheckpoint({ filepath: path.join(dir, 'ep{epoch:02d}-{loss:.3f}') });
      const after = [];
      const h = await m.fit(x, y, {
        epochs: 3, batchSize: 8,
        callbacks: [s.cb, ck, { onEpochEnd: (e) => after.push(fs.existsSync(ck.saved[e])) }],
      });
      const names = h.history.loss.map((l, e) => `ep${String(e + 1).padStart(2, '0')}-${l.toFixed(3)}`);
      expect(ck.saved).to.deep.equal(names.map((n) => path.join(dir, n)));
      expect(fs.readdirSync(dir).sort()).to.deep.equal([...names].sort());
      expect(after).to.deep.equal([true, true, true]); // written before the next callback ran
      for (let e = 0; e < 3; e++) {
        expect(fs.readdirSync(ck.saved[e]).sort()).to.deep.equal(['model.json', 'weights.safetensors']); // no temp or backup files
        const loaded = await dn.loadModel(ck.saved[e]);
        expect(weightsOf(loaded)).to.deep.equal(s.snaps[e]);
      }
      fs.rmSync(dir, { recursive: true });
    });

    it('saveBestOnly: saves only on improvement (min / max), one path overwritten in place', async () => {
      const dir = tmpdir();
      const { x, y } = data();
      // min: 3 (None → save), 1 (save), 2 (no), 0.5 (save); max: only epoch 0's 3.
      const scores = [3, 1, 2, 0.5];
      const m = classifier();
      const s = scorer(m, scores);
      const best = cbs.modelCheckpoint({ filepath: path.join(dir, 'best-{epoch}'), monitor: 'score', mode: 'min', saveBestOnly: true });
      const same = cbs.modelCheckpoint({ filepath: path.join(dir, 'latest'), monitor: 'score', mode: 'min', saveBestOnly: true });
      const max = cbs.modelCheckpoint({ filepath: path.join(dir, 'max-{epoch}'), monitor: 'score', mode: 'max', saveBestOnly: true });
      await m.fit(x, y, { epochs: 4, batchSize: 8, callbacks: [s.cb, best, same, max] });
      expect(best.saved.map((p) => path.basename(p))).to.deep.equal(['best-1', 'best-2', 'best-4']);
      expect(max.saved.map((p) => path.basename(p))).to.deep.equal(['max-1']);
      expect(same.saved).to.have.length(3);
      expect(weightsOf(await dn.loadModel(path.join(dir, 'latest')))).to.deep.equal(s.snaps[3]);
      expect(weightsOf(await dn.loadModel(path.join(dir, 'max-1')))).to.deep.equal(s.snaps[0]);
      fs.rmSync(dir, { recursive: true });
    });

    it('saveBestOnly with an unknown monitor fails after the first epoch; without saveBestOnly the monitor is unused', async () => {
      const dir = tmpdir();
      const { x, y } = data();
      const m = classifier();
      const err = await rejects(m.fit(x, y, { epochs: 2, batchSize: 8, callbacks: cbs.modelCheckpoint({ filepath: path.join(dir, 'a'), saveBestOnly: true }) }));
      expect(err).to.be.instanceOf(RangeError);
      expect(err.message).to.match(/modelCheckpoint monitors 'val_loss'.*loss, learning_rate/);
      const ck = cbs.modelCheckpoint({ filepath: path.join(dir, 'b{epoch}') });
      await m.fit(x, y, { epochs: 2, batchSize: 8, callbacks: ck });
      expect(ck.saved.map((p) => path.basename(p))).to.deep.equal(['b1', 'b2']);
      fs.rmSync(dir, { recursive: true });
    });
  });

  describe('csvLogger', () => {
    it('header epoch,<sorted keys>, one row per epoch (0-based), floats as Python prints them, NA when missing', async () => {
      const dir = tmpdir();
      const file = path.join(dir, 'log.csv');
      const c = cbs.csvLogger({ filename: file });
      c.setModel(fakeModel());
      c.onTrainBegin();
      c.onEpochEnd(0, { loss: 0.5, acc: 1, val_loss: 1e-5, learning_rate: 0.01 });
      c.onEpochEnd(1, { loss: 0.25, acc: 0.75, learning_rate: 0.01 });
      expect(fs.readFileSync(file, 'utf8')).to.equal('epoch,acc,learning_rate,loss,val_loss\n0,1.0,0.01,0.5,1e-05\n1,0.75,0.01,0.25,NA\n');
      fs.rmSync(dir, { recursive: true });
    });

    it('through fit: a row per epoch written at its end; values read back equal the history', async () => {
      const dir = tmpdir();
      const file = path.join(dir, 'log.csv');
      const { x, y } = data();
      const m = classifier({ metrics: ['accuracy'] });
      const lines = [];
      const h = await m.fit(x, y, {
        epochs: 3, batchSize: 8, validationSplit: 0.25,
        callbacks: [cbs.csvLogger({ filename: file, separator: ';' }), { onEpochEnd: () => lines.push(fs.readFileSync(file, 'utf8').split('\n').length - 1) }],
      });
      expect(lines).to.deep.equal([2, 3, 4]); // header + the rows so far: flushed every epoch
      const rows = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => l.split(';'));
      expect(rows[0]).to.deep.equal(['epoch', 'acc', 'learning_rate', 'loss', 'val_acc', 'val_loss']);
      for (let e = 0; e < 3; e++) {
        expect(rows[e + 1].map(Number)).to.deep.equal([e, h.history.acc[e], h.history.learning_rate[e], h.history.loss[e], h.history.val_acc[e], h.history.val_loss[e]]);
      }
      fs.rmSync(dir, { recursive: true });
    });

    it('append adds rows under the existing header; the default replaces the file', async () => {
      const dir = tmpdir();
      const file = path.join(dir, 'log.csv');
      const { x, y } = data();
      const m = classifier();
      const count = () => fs.readFileSync(file, 'utf8').trimEnd().split('\n');
      await m.fit(x, y, { epochs: 2, batchSize: 8, callbacks: cbs.csvLogger({ filename: file, append: true }) }); // no file yet: header
      expect(count()).to.have.length(3);
      await m.fit(x, y, { epochs: 2, batchSize: 8, callbacks: cbs.csvLogger({ filename: file, append: true }) });
      const appended = count();
      expect(appended).to.have.length(5);
      expect(appended.filter((l) => l.startsWith('epoch'))).to.have.length(1);
      expect(appended.slice(1).map((l) => l.split(',')[0])).to.deep.equal(['0', '1', '0', '1']);
      await m.fit(x, y, { epochs: 2, batchSize: 8, callbacks: cbs.csvLogger({ filename: file }) });
      expect(count()).to.have.length(3);
      expect(() => cbs.csvLogger({ filename: file, separator: ';;' })).to.throw(RangeError, /one-character/);
      fs.rmSync(dir, { recursive: true });
    });
  });

  describe('terminateOnNaN', () => {
    // 2 → 4 tanh → 1, mean squared error; an enormous rate in epoch 2 makes a later batch's loss NaN.
    function diverging() {
      dn.setSeed(1);
      const m = dn.sequential({ layers: [dn.layers.dense({ units: 4, inputShape: [2], activation: 'tanh' }), dn.layers.dense({ units: 1 })] });
      m.compile({ optimizer: dn.optimizers.sgd({ learningRate: 0.05 }), loss: 'meanSquaredError' });
      const x = dn.tensor(Array.from({ length: 64 }, (_, i) => [Math.sin(i), Math.cos(3 * i)]));
      const y = dn.tensor(Array.from({ length: 64 }, (_, i) => [2 * Math.sin(i)]));
      const blowUp = { onEpochBegin: (e) => { m.optimizer.learningRate = e === 2 ? 1e30 : 0.05; } };
      return { m, x, y, blowUp };
    }

    async function capturingStderr(fn) {
      const write = process.stderr.write;
      let text = '';
      process.stderr.write = (s) => { text += s; return true; };
      try {
        return { result: await fn(), text };
      } finally {
        process.stderr.write = write;
      }
    }

    it('without it a non-finite loss rejects fit with ERR_TRAINING', async () => {
      const { m, x, y, blowUp } = diverging();
      const err = await rejects(m.fit(x, y, { epochs: 4, batchSize: 8, seed: 2, callbacks: blowUp }));
      expect(err).to.be.instanceOf(dn.DensenormError);
      expect(err.code).to.equal('ERR_TRAINING');
      expect(err.message).to.match(/epoch 2, batch \d+: the loss is not finite/);
    });

    for (const perBatch of [false, true]) {
      it(`ends fit cleanly: history up to the last whole epoch, onTrainEnd runs (${perBatch ? 'a hop per batch' : 'one native hop per epoch'})`, async () => {
        const { m, x, y, blowUp } = diverging();
        const tn = cbs.terminateOnNaN();
        const ends = [];
        let trainEnd = 0;
        const watch = { onEpochEnd: (e) => ends.push(e), onTrainEnd: () => { trainEnd++; } };
        if (perBatch) watch.onBatchEnd = () => {};
        // earlyStopping restores epoch 1's weights (the best loss) in onTrainEnd
        const es = cbs.earlyStopping({ monitor: 'loss', patience: 10, restoreBestWeights: true });
        const snaps = [];
        const { result: h, text } = await capturingStderr(() => m.fit(x, y, {
          epochs: 4, batchSize: 8, seed: 2, callbacks: [blowUp, { onEpochEnd: () => snaps.push(weightsOf(m)) }, tn, es, watch],
        }));
        expect(h.epoch).to.deep.equal([0, 1]);
        expect(h.history.loss).to.have.length(2);
        expect(ends).to.deep.equal([0, 1]);
        expect(trainEnd).to.equal(1);
        expect(tn.terminated.epoch).to.equal(2);
        expect(tn.terminated.batch).to.be.within(1, 7);
        expect(tn.terminated.message).to.match(/not finite/);
        expect(text).to.equal(`Epoch 3, batch ${tn.terminated.batch}: invalid loss, terminating training\n`);
        expect(es.bestEpoch).to.equal(1);
        expect(weightsOf(m)).to.deep.equal(snaps[1]);
        expect(m.isTraining).to.equal(false);
      });
    }

    it('the failing batch is the same on both fit paths; raiseError rejects as without it', async () => {
      const at = [];
      for (const perBatch of [false, true]) {
        const { m, x, y, blowUp } = diverging();
        const tn = cbs.terminateOnNaN();
        const cb = perBatch ? [blowUp, tn, { onBatchEnd: () => {} }] : [blowUp, tn];
        await capturingStderr(() => m.fit(x, y, { epochs: 4, batchSize: 8, seed: 2, callbacks: cb }));
        at.push(tn.terminated.batch);
      }
      expect(at[0]).to.equal(at[1]);
      const { m, x, y, blowUp } = diverging();
      const tn = cbs.terminateOnNaN({ raiseError: true });
      const err = await rejects(m.fit(x, y, { epochs: 4, batchSize: 8, seed: 2, callbacks: [blowUp, tn] }));
      expect(err.code).to.equal('ERR_TRAINING');
      expect(tn.terminated.epoch).to.equal(2);
    });

    it('only a non-finite loss counts (trainingError tells it from other step failures)', () => {
      expect(trainingError(0, 3, 'the loss is not finite (nan)', null).nonFiniteLoss).to.equal(true);
      expect(trainingError(0, 3, 'class id 7 out of range', null).nonFiniteLoss).to.equal(false);
      const tn = cbs.terminateOnNaN();
      expect(tn.onBatchEnd).to.equal(undefined); // so fit keeps its one native hop per epoch
    });
  });

  describe('Callback base class, setModel / setParams, the learning_rate log', () => {
    it('fit calls setModel and setParams before onTrainBegin; plain objects keep working', async () => {
      const { x, y } = data(40);
      const m = classifier({ metrics: ['accuracy'] });
      const order = [];
      class Probe extends dn.callbacks.Callback {
        onTrainBegin() { order.push(['begin', this.model === m, this.params]); }
      }
      let plain = 0;
      await m.fit(x, y, { epochs: 2, batchSize: 8, validationSplit: 0.25, callbacks: [new Probe(), { onEpochEnd: () => { plain++; } }] });
      expect(order).to.have.length(1);
      const [, sameModel, params] = order[0];
      expect(sameModel).to.equal(true);
      // 40 rows, validationSplit 0.25 → 30 training rows; batches of 8: 8, 8, 8, 6
      expect(params).to.deep.equal({
        epochs: 2, initialEpoch: 0, samples: 30, steps: 4, batchSize: 8, verbose: 0, doValidation: true,
        metrics: ['loss', 'acc', 'val_loss', 'val_acc', 'learning_rate'],
      });
      expect(plain).to.equal(2);
    });

    it('from a callback, model.save / setWeights / predict work; a save not awaited keeps that moment\'s weights', async () => {
      const dir = tmpdir();
      const { x, y } = data();
      const m = classifier();
      let pending;
      let snap0;
      let predicted;
      await m.fit(x, y, {
        epochs: 3, batchSize: 8,
        callbacks: { onEpochEnd: (e) => {
          if (e === 0) { snap0 = weightsOf(m); pending = m.save(dir); predicted = m.predict(x).shape; }
          if (e === 2) m.setWeights(snap0.map((w, i) => dn.tensor(Float32Array.from(w), m.getWeights()[i].shape)));
        } },
      });
      await pending;
      expect(predicted).to.deep.equal([48, 4]);
      expect(weightsOf(await dn.loadModel(dir))).to.deep.equal(snap0);
      expect(weightsOf(m)).to.deep.equal(snap0); // set at the end of the last epoch
      fs.rmSync(dir, { recursive: true });
    });

    it('epoch logs carry learning_rate, the rate set at epoch begin (a schedule\'s rate: test/schedules.test.mjs)', async () => {
      const { x, y } = data();
      const m = classifier({ lr: 0.02 });
      const h = await m.fit(x, y, { epochs: 2, batchSize: 8, callbacks: { onEpochBegin: (e) => { if (e === 1) m.optimizer.learningRate = 0.01; } } });
      expect(h.history.learning_rate).to.deep.equal([0.02, 0.01]);
    });
  });
});

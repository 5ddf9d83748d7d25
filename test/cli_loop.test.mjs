// densenorm train's training-loop flags: --l2, --early-stopping, --lr-schedule, --class-weight,
// --metrics. loopSettings is checked against the objects each flag should make; one CLI run checks
// they reach the saved model, the epoch lines and history.json.
import { expect } from 'chai';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './helpers.mjs';

const require = createRequire(import.meta.url);
const dn = require('../dist/index.js');
const { loopSettings, balancedClassWeight } = require('../dist/cli/train_options.js');

const ctx = (over = {}) => ({ baseRate: 0.01, epochs: 4, stepsPerEpoch: 10, validation: true, classify: true, streamed: false, yTrain: new Float32Array([0, 0, 0, 1]), classes: 2, ...over });
const settings = (flags, over) => loopSettings(flags, ctx(over));
const cliError = (fn, re) => {
  let e;
  try {
    fn();
  } catch (err) {
    e = err;
  }
  expect(e, 'expected a CLI usage error').to.be.an('error');
  expect(e.message).to.match(re);
};

describe('densenorm train: training-loop flags', () => {
  it('no flags: a constant rate, no callbacks, no weights, no extra metrics', () => {
    const s = settings({});
    expect(s).to.deep.include({ l2: 0, metrics: [], callbacks: [], classWeight: undefined, learningRate: 0.01, schedule: 'constant' });
  });

  it('--early-stopping N: earlyStopping on val_loss (loss without validation), patience N, restoring the best weights', () => {
    const [cb] = settings({ 'early-stopping': '3' }).callbacks;
    expect(cb).to.be.instanceOf(dn.EarlyStopping);
    expect([cb.monitor, cb.patience, cb.restoreBestWeights]).to.deep.equal(['val_loss', 3, true]);
    expect(settings({ 'early-stopping': '0' }, { validation: false }).callbacks[0].monitor).to.equal('loss');
    cliError(() => settings({ 'early-stopping': '-1' }), /--early-stopping/);
  });

  it('--lr-schedule: cosine over the run, exponential ×0.9 per epoch, step ÷10 at 50% and 75%, plateau halves', () => {
    // 4 epochs × 10 steps = 40 steps
    const cos = settings({ 'lr-schedule': 'cosine' }).learningRate;
    expect(cos(0)).to.be.closeTo(0.01, 1e-12);
    expect(cos(20)).to.be.closeTo(0.005, 1e-12); // 0.01 · (1 + cos(π/2)) / 2
    expect(cos(40)).to.be.closeTo(0, 1e-12);
    const exp = settings({ 'lr-schedule': 'exponential' }).learningRate;
    expect(exp(10)).to.be.closeTo(0.009, 1e-12);
    expect(exp(20)).to.be.closeTo(0.0081, 1e-12);
    const step = settings({ 'lr-schedule': 'step' }).learningRate;
    expect([step(0), step(20), step(21), step(30), step(31)].map((v) => +v.toPrecision(6))).to.deep.equal([0.01, 0.01, 0.001, 0.001, 0.0001]);
    const p = settings({ 'lr-schedule': 'plateau' });
    expect(p.learningRate).to.equal(0.01);
    expect(p.callbacks[0]).to.be.instanceOf(dn.ReduceLROnPlateau);
    expect([p.callbacks[0].monitor, p.callbacks[0].factor, p.callbacks[0].patience]).to.deep.equal(['val_loss', 0.5, 2]);
    cliError(() => settings({ 'lr-schedule': 'linear' }), /--lr-schedule expects/);
  });

  it('--class-weight balanced: n / (classes · n_c), as scikit-learn; only for classification in memory', () => {
    expect(balancedClassWeight(new Float32Array([0, 0, 0, 1]), 2)).to.deep.equal({ 0: 4 / 6, 1: 2 });
    expect(balancedClassWeight(new Float32Array([2, 2, 0]), 3)).to.deep.equal({ 0: 1.5, 2: 0.75 }); // class 1 absent
    expect(settings({ 'class-weight': 'balanced' }).classWeight).to.deep.equal({ 0: 4 / 6, 1: 2 });
    cliError(() => settings({ 'class-weight': 'inverse' }), /--class-weight expects balanced/);
    cliError(() => settings({ 'class-weight': 'balanced' }, { classify: false }), /regression/);
    cliError(() => settings({ 'class-weight': 'balanced' }, { streamed: true }), /in memory/);
  });

  it('--l2 and --metrics', () => {
    expect(settings({ l2: '0.001', metrics: 'auc, precision' })).to.deep.include({ l2: 0.001, metrics: ['auc', 'precision'] });
    cliError(() => settings({ l2: '-1' }), /--l2/);
  });

  describe('one run with every flag', function () {
    this.timeout(120000);
    let tmp;
    before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dn-cli-loop-')); });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const run = (args) => runCli(tmp, args);

    it('reaches the saved model, the epoch lines and history.json', async () => {
      const r = await run(['train', '--epochs', '3', '--layers', '32', '--seed', '5', '--l2', '0.0001', '--early-stopping', '5', '--lr-schedule', 'step',
        '--class-weight', 'balanced', '--metrics', 'auc,precision', '--out', 'm']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/epoch 1\/3 .* auc 0\.\d+ +val_auc 0\.\d+ +precision 0\.\d+ +val_precision 0\.\d+ +lr 0\.0010/);
      const h = JSON.parse(fs.readFileSync(path.join(tmp, 'm', 'history.json'), 'utf8'));
      expect(h).to.include.keys('auc', 'val_auc', 'precision', 'val_precision', 'learning_rate');
      // step: ÷10 from step 0.5 · 3 · steps on: the third epoch's rate is below the first's
      expect(h.learning_rate[2]).to.be.below(h.learning_rate[0]);
      const modelJson = JSON.parse(fs.readFileSync(path.join(tmp, 'm', 'model.json'), 'utf8'));
      expect(JSON.stringify(modelJson)).to.match(/"kernelRegularizer":\{"className":"L1L2","config":\{"l1":0,"l2":0\.0001/);
    });

    it('a bad --metrics name is one clear line and exit code 2', async () => {
      const r = await run(['train', '--epochs', '1', '--layers', '8', '--metrics', 'f1', '--out', 'bad']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/--metrics: Expected one of .*'auc'.* but received a string "f1"/);
    });
  });
});

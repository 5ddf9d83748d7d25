// The densenorm CLI, run as a child process (node bin/densenorm.js ...) on small CSV / JSONL
// files made here: training (classification, regression, MNIST default), --json and non-TTY
// output, saved model directories, evaluate, predict, info, error messages, Ctrl-C saving and
// a small `experiment` run.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from './reference.mjs';

const require = createRequire(import.meta.url);
const dn = require('../dist/index.js');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin', 'densenorm.js');

function run(args, { onStdout } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

let tmp;
const file = (name) => path.join(tmp, name);

function gauss(rand) {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

// Three well separated classes named by strings; quoted header, CRLF, blank lines.
function writeClassification(name, n, seed = 1) {
  const rand = rng(seed);
  const centers = { setosa: [3, 0, 1], versicolor: [-3, 3, 0], virginica: [0, -3, -1] };
  const names = Object.keys(centers);
  const lines = ['"sepal length","sepal width",petal,species'];
  for (let i = 0; i < n; i++) {
    const c = names[i % 3];
    const [a, b, p] = centers[c];
    lines.push(`${(a + 0.6 * gauss(rand)).toFixed(4)},${(b + 0.6 * gauss(rand)).toFixed(4)},${(p * 10 + gauss(rand)).toFixed(3)},"${c}"`);
    if (i % 50 === 7) lines.push('');
  }
  fs.writeFileSync(file(name), lines.join('\r\n') + '\r\n');
}

// y = 3a - 2b + 100 + noise (continuous target).
function regressionRows(n, seed = 2) {
  const rand = rng(seed);
  const rows = [];
  for (let i = 0; i < n; i++) {
    const a = gauss(rand) * 2;
    const b = gauss(rand) * 5 + 10;
    rows.push({ a, b, price: 3 * a - 2 * b + 100 + 0.1 * gauss(rand) });
  }
  return rows;
}

describe('densenorm CLI', function () {
  this.timeout(120000);

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'densenorm-cli-'));
    writeClassification('iris.csv', 300);
    writeClassification('iris-test.csv', 90, 7);
    const reg = regressionRows(400);
    fs.writeFileSync(file('houses.csv'), 'a,b,price\n' + reg.map((r) => `${r.a},${r.b},${r.price}`).join('\n') + '\n');
    fs.writeFileSync(file('houses.jsonl'), reg.map((r) => JSON.stringify(r)).join('\n') + '\n');
    fs.writeFileSync(file('empty.csv'), '');
    fs.writeFileSync(file('header-only.csv'), 'a,b,label\r\n');
    // The bad value is on line 5: line 2 holds a quoted field spanning two lines (CRLF), line 4 is blank.
    fs.writeFileSync(file('bad-value.csv'), 'x1,x2,label\r\n1,2,"a\r\nb"\r\n\r\n5,oops,a\r\n');
    fs.mkdirSync(file('not-a-model'));
    fs.writeFileSync(file('not-a-model/readme.txt'), 'hello');
  });

  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('train → evaluate → predict (classification, CSV)', () => {
    let trained;
    before(async () => {
      trained = await run(['train', '--data', 'iris.csv', '--layers', '16,8', '--epochs', '3', '--batch-size', '16', '--seed', '3', '--out', 'iris-model']);
    });

    it('exits 0 with one plain line per epoch when stdout is not a TTY', () => {
      expect(trained.code, trained.stderr).to.equal(0);
      const out = trained.stdout;
      expect(out).to.not.match(/\x1b|\r/);
      const epochLines = out.split('\n').filter((l) => /^epoch \d+\/3 /.test(l));
      expect(epochLines).to.have.length(3);
      for (const l of epochLines) expect(l).to.match(/loss \d+\.\d+ {2}acc [\d.]+% {2}val_loss \d+\.\d+ {2}val_acc [\d.]+% {2}[\d,]+ samples\/s/);
      expect(out).to.match(/classification, 3 classes \(setosa, versicolor, virginica\)/);
      expect(out).to.match(/Saved model to iris-model/);
      expect(out).to.match(/validation accuracy [\d.]+%/);
    });

    it('saves a model directory dn.loadModel reads, with the preprocessing beside it', async () => {
      const dir = file('iris-model');
      for (const f of ['model.json', 'weights.safetensors', 'preprocessing.json']) expect(fs.existsSync(path.join(dir, f)), f).to.equal(true);
      const model = await dn.loadModel(dir);
      expect(model.inputDim).to.equal(3);
      expect(model.outputDim).to.equal(3);
      const pre = JSON.parse(fs.readFileSync(path.join(dir, 'preprocessing.json'), 'utf8'));
      expect(pre.task).to.equal('classification');
      expect(pre.features).to.deep.equal(['sepal length', 'sepal width', 'petal']);
      expect(pre.classes).to.deep.equal(['setosa', 'versicolor', 'virginica']);
      expect(pre.mean).to.have.length(3);
      expect(pre.std.every((s) => s > 0)).to.equal(true);
      expect(pre.training.seed).to.equal(3);
    });

    it('evaluate prints loss and accuracy, and --json an object', async () => {
      const r = await run(['evaluate', '--model', 'iris-model', '--data', 'iris-test.csv']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/iris-test\.csv: 90 rows {2}loss \d+\.\d+ {2}accuracy [\d.]+%/);
      const j = await run(['evaluate', '--model', 'iris-model', '--data', 'iris-test.csv', '--json']);
      const o = JSON.parse(j.stdout);
      expect(o.rows).to.equal(90);
      expect(o.accuracy).to.be.greaterThan(0.9);
    });

    it('predict writes one "class,probability" CSV line per row, to stdout or --output', async () => {
      const r = await run(['predict', '--model', 'iris-model', '--data', 'iris-test.csv']);
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).to.equal('class,probability');
      expect(lines).to.have.length(91);
      for (const l of lines.slice(1)) {
        const [c, p] = l.split(',');
        expect(['setosa', 'versicolor', 'virginica']).to.include(c);
        expect(Number(p)).to.be.within(0, 1);
      }
      const o = await run(['predict', '--model', 'iris-model', '--data', 'iris-test.csv', '--output', 'pred.csv']);
      expect(o.code, o.stderr).to.equal(0);
      expect(fs.readFileSync(file('pred.csv'), 'utf8')).to.equal(r.stdout);
      expect(o.stderr).to.match(/Wrote 90 predictions to pred\.csv/);
    });

    it('info prints version, ISA, threads and the model summary', async () => {
      const r = await run(['info', '--model', 'iris-model']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.include(`densenorm ${dn.version}`);
      expect(r.stdout).to.match(new RegExp(`isa: +${dn.backend().isa}`));
      expect(r.stdout).to.match(/threads: +\d+/);
      expect(r.stdout).to.match(/Total params: \d+/);
      expect(r.stdout).to.match(/batch_normalization/);
      const j = JSON.parse((await run(['info', '--json'])).stdout);
      expect(j).to.include({ version: dn.version, isa: dn.backend().isa });
    });
  });

  describe('regression', () => {
    it('trains on CSV (MSE), then evaluate reports MSE, MAE and R², predict values', async () => {
      const t = await run(['train', '--data', 'houses.csv', '--label', 'price', '--layers', '32', '--epochs', '30', '--lr', '0.01', '--seed', '1', '--out', 'house-model']);
      expect(t.code, t.stderr).to.equal(0);
      expect(t.stdout).to.match(/regression/);
      expect(t.stdout).to.match(/epoch 30\/30 {2}mse \S+ {2}val_mse \S+ {2}val_r2 \S+/);
      const pre = JSON.parse(fs.readFileSync(file('house-model/preprocessing.json'), 'utf8'));
      expect(pre.task).to.equal('regression');
      expect(pre.target.mean).to.be.closeTo(80, 5);
      const e = await run(['evaluate', '--model', 'house-model', '--data', 'houses.csv', '--json']);
      expect(e.code, e.stderr).to.equal(0);
      const m = JSON.parse(e.stdout);
      expect(m.task).to.equal('regression');
      expect(m.rows).to.equal(400);
      expect(m.r2).to.be.greaterThan(0.9);
      expect(m.mae).to.be.lessThan(5);
      const h = await run(['evaluate', '--model', 'house-model', '--data', 'houses.csv']);
      expect(h.stdout).to.match(/mse \S+ {2}mae \S+ {2}r2 0\.9\d+/);
      const p = await run(['predict', '--model', 'house-model', '--data', 'houses.jsonl']);
      expect(p.code, p.stderr).to.equal(0);
      const lines = p.stdout.trim().split('\n');
      expect(lines[0]).to.equal('value');
      expect(lines).to.have.length(401);
      expect(Number(lines[1])).to.be.within(40, 130);
    });

    it('trains on JSON lines with --json: one JSON object per epoch, then a result', async () => {
      const r = await run(['train', '--data', 'houses.jsonl', '--layers', '8', '--epochs', '2', '--no-batch-norm', '--optimizer', 'sgd', '--lr', '0.01', '--momentum', '0.9', '--json', '--out', 'jsonl-model']);
      expect(r.code, r.stderr).to.equal(0);
      const objs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(objs.map((o) => o.type)).to.deep.equal(['epoch', 'epoch', 'result']);
      expect(objs[0]).to.include({ epoch: 1, epochs: 2, partial: false });
      expect(objs[0].mse).to.be.a('number');
      expect(objs[0].val_r2).to.be.a('number');
      expect(objs[2]).to.include({ interrupted: false, model_dir: 'jsonl-model', epochs_completed: 2 });
      const model = await dn.loadModel(file('jsonl-model'));
      expect(model.layers.some((l) => l.className === 'BatchNormalization')).to.equal(false);
    });
  });

  it('trains on the bundled MNIST by default and reports test accuracy', async () => {
    const r = await run(['train', '--epochs', '1', '--layers', '32', '--bn-position', 'after', '--out', 'mnist-model']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/MNIST \(bundled\): 7,200 train \/ 800 validation \/ 2,000 test rows/);
    expect(r.stdout).to.match(/test accuracy (\d+\.\d+)% {2}test loss/);
    expect(Number(/test accuracy (\d+\.\d+)%/.exec(r.stdout)[1])).to.be.greaterThan(80);
    const e = await run(['evaluate', '--model', 'mnist-model']);
    expect(e.stdout).to.match(/MNIST test split \(bundled\): 2,000 rows/);
  });

  describe('errors: one message on stderr, exit code ≠ 0, no stack trace', () => {
    const cases = [
      ['a missing file', ['train', '--data', 'nope.csv'], /nope\.csv: no such file/],
      ['an unknown column', ['train', '--data', 'iris.csv', '--label', 'colour'], /no column "colour".*the columns are: sepal length, sepal width, petal, species/],
      ['a non-numeric feature, with its line', ['train', '--data', 'bad-value.csv'], /bad-value\.csv line 5: column "x2" should be a number but has "oops"/],
      ['an empty file', ['train', '--data', 'empty.csv'], /empty\.csv: the file is empty/],
      ['a header without rows', ['train', '--data', 'header-only.csv'], /header-only\.csv: no data rows/],
      ['a directory that is not a model', ['evaluate', '--model', 'not-a-model', '--data', 'iris.csv'], /not-a-model is not a densenorm model directory/],
      ['a missing model directory', ['predict', '--model', 'gone', '--data', 'iris.csv'], /gone: no such model directory/],
      ['a feature column the model needs', ['predict', '--model', 'house-model', '--data', 'iris.csv'], /iris\.csv: no column "a" \(a feature the model was trained on\)/],
      ['an unknown flag', ['train', '--epoch', '3'], /Unknown option '--epoch'/],
      ['a bad flag value', ['train', '--epochs', 'many'], /--epochs expects an integer from 1 to 1000000, got "many"/],
      ['an unknown command', ['trian'], /unknown command "trian"/],
    ];
    for (const [what, args, re] of cases) {
      it(what, async () => {
        const r = await run(args);
        expect(r.code).to.not.equal(0);
        expect(r.stderr).to.match(re);
        expect(r.stderr.trim().split('\n')).to.have.length(1);
        expect(r.stderr).to.not.match(/\n\s+at /);
      });
    }

    it('usage errors exit 2, others 1; --verbose adds the stack trace', async () => {
      expect((await run(['train', '--epochs', '0'])).code).to.equal(2);
      expect((await run(['train', '--data', 'nope.csv'])).code).to.equal(1);
      const v = await run(['train', '--data', 'nope.csv', '--verbose']);
      expect(v.code).to.equal(1);
      expect(v.stderr).to.match(/\n\s+at /);
    });
  });

  it('Ctrl-C stops after the current batch and saves what was trained so far', async () => {
    let sent = false;
    const r = await run(['train', '--data', 'iris.csv', '--epochs', '100000', '--batch-size', '8', '--seed', '5', '--out', 'interrupted-model'], {
      onStdout(out, child) {
        if (!sent && /^epoch 1\/100000 /m.test(out)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).to.equal(true);
    expect(r.code, r.stderr).to.equal(130);
    expect(r.stderr).to.match(/Interrupted: stopping after the current batch/);
    expect(r.stdout).to.match(/Training interrupted in epoch \d+ after \d+\/\d+ batches .*saved in interrupted-model/);
    const model = await dn.loadModel(file('interrupted-model'));
    expect(model.inputDim).to.equal(3);
    const pre = JSON.parse(fs.readFileSync(file('interrupted-model/preprocessing.json'), 'utf8'));
    expect(pre.training.interrupted).to.equal(true);
    expect(pre.training.epochsCompleted).to.be.at.least(1);
    const e = await run(['evaluate', '--model', 'interrupted-model', '--data', 'iris-test.csv', '--json']);
    expect(e.code, e.stderr).to.equal(0);
    expect(JSON.parse(e.stdout).accuracy).to.be.a('number');
  });

  it('counts batches as fit plans them: 289 training rows in batches of 8 are 36 (the last takes 9 rows)', async () => {
    // 300 rows, validation split 0.037 -> 11 held out, 289 = 36 * 8 + 1 train
    let sent = false;
    const r = await run(['train', '--data', 'iris.csv', '--epochs', '100000', '--batch-size', '8', '--validation-split', '0.037', '--seed', '5', '--out', 'count-model'], {
      onStdout(out, child) {
        if (!sent && /^epoch 1\/100000 /m.test(out)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).to.equal(true);
    expect(r.code, r.stderr).to.equal(130);
    expect(r.stdout).to.match(/Training interrupted in epoch \d+ after \d+\/36 batches/);
  });

  it('experiment --steps runs all six trainings and writes curves.svg and results.json', async () => {
    const r = await run(['experiment', '--steps', '20', '--eval-every', '5', '--out', 'exp']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/condition +batch norm +lr +init +steps to 90% +final test acc +best test acc +ms\/step/);
    expect(r.stdout.split('\n').filter((l) => /^(baseline|high-lr|bad-init) +(yes|no) /.test(l))).to.have.length(6);
    expect(r.stdout).to.match(/o without batch norm {3}# with batch norm/);
    const svg = fs.readFileSync(file('exp/curves.svg'), 'utf8');
    expect(svg.startsWith('<svg')).to.equal(true);
    expect(svg.trim().endsWith('</svg>')).to.equal(true);
    for (const text of ['training steps', 'test accuracy', 'with batch norm', 'without batch norm', 'Higher learning rate', 'Badly scaled init']) expect(svg).to.include(text);
    expect(svg.match(/<polyline /g)).to.have.length(6);
    expect(svg.match(/class="axis"/g)).to.have.length(6);
    // Well-formed enough: every opened <g> and <svg> is closed, no raw '<' inside text.
    expect(svg.match(/<g[ >]/g).length).to.equal(svg.match(/<\/g>/g).length);
    const res = JSON.parse(fs.readFileSync(file('exp/results.json'), 'utf8'));
    expect(res.config).to.include({ batchSize: 60, steps: 20, architecture: '784-100-100-100-10 sigmoid' });
    expect(res.runs).to.have.length(6);
    expect(res.runs.map((x) => x.id)).to.deep.equal(['baseline', 'baseline+bn', 'high-lr', 'high-lr+bn', 'bad-init', 'bad-init+bn']);
    for (const run of res.runs) {
      expect(run.curve.step).to.deep.equal([0, 5, 10, 15, 20]);
      expect(run.finalTestAccuracy).to.be.within(0, 1);
      expect(run.msPerStep).to.be.greaterThan(0);
    }
    // Same initialization: every pair starts from the same test accuracy... of different nets, but
    // the no-BN runs share their initial weights exactly, so their step-0 accuracy is identical.
    expect(res.runs[0].curve.testAccuracy[0]).to.equal(res.runs[2].curve.testAccuracy[0]);
  });
});

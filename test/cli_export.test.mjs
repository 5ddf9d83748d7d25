// densenorm export (onnx | tfjs | torch) end to end, and evaluate / predict on TensorFlow.js model
// directories: a tfjs export of a trained model, and a model made by tfjs without preprocessing.json.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { dn, runCli } from './helpers.mjs';
import { loadOrt, maxAbsDiff, tmpDir } from './interop_helpers.mjs';
import { decodeSafetensorsTyped } from '../dist/io/safetensors.js';

const require = createRequire(import.meta.url);
const { ort, ortError } = loadOrt();
const tf = require('@tensorflow/tfjs');
tf.env().set('IS_TEST', true);

describe('densenorm export', function () {
  this.timeout(120000);
  let tmp;
  const f = (n) => path.join(tmp, n);
  before(async () => {
    tmp = tmpDir('cli-export');
    let s = 'a,b,c,label\n';
    for (let i = 0; i < 300; i++) {
      const a = Math.sin(i * 1.3), b = Math.cos(i * 0.7), c = ((i * 37) % 11) / 5;
      s += `${a.toFixed(4)},${b.toFixed(4)},${c.toFixed(4)},${a + b > c - 1 ? 'yes' : 'no'}\n`;
    }
    fs.writeFileSync(f('data.csv'), s);
    const r = await runCli(tmp, ['train', '--data', 'data.csv', '--label', 'label', '--layers', '8', '--epochs', '2', '--seed', '1', '--out', 'model']);
    expect(r.code, r.stderr).to.equal(0);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('is listed in densenorm --help and has its own --help', async () => {
    const r = await runCli(tmp, ['--help']);
    expect(r.stdout).to.match(/^ {2}export {6}a saved model as ONNX, TensorFlow\.js or a PyTorch state dict$/m);
    const h = await runCli(tmp, ['export', '--help']);
    expect(h.code).to.equal(0);
    expect(h.stdout).to.match(/--format onnx\|tfjs\|torch --out PATH/);
  });

  it('--format tfjs writes a tfjs directory that evaluate and predict accept, with the same results', async () => {
    const r = await runCli(tmp, ['export', '--model', 'model', '--format', 'tfjs', '--out', 'model-tfjs']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/Wrote TensorFlow\.js layers model to model-tfjs/);
    expect(fs.readdirSync(f('model-tfjs')).sort()).to.deep.equal(['model.json', 'preprocessing.json', 'weights.bin']);
    expect(JSON.parse(fs.readFileSync(f('model-tfjs/model.json'), 'utf8')).format).to.equal('layers-model');
    const e1 = await runCli(tmp, ['evaluate', '--model', 'model', '--data', 'data.csv', '--json']);
    const e2 = await runCli(tmp, ['evaluate', '--model', 'model-tfjs', '--data', 'data.csv', '--json']);
    expect(e2.code, e2.stderr).to.equal(0);
    const [j1, j2] = [JSON.parse(e1.stdout), JSON.parse(e2.stdout)];
    expect(j2.rows).to.equal(300);
    expect(j2.loss).to.be.closeTo(j1.loss, 1e-6);
    expect(j2.accuracy).to.equal(j1.accuracy);
    const p1 = await runCli(tmp, ['predict', '--model', 'model', '--data', 'data.csv']);
    const p2 = await runCli(tmp, ['predict', '--model', 'model-tfjs', '--data', 'data.csv']);
    expect(p2.code, p2.stderr).to.equal(0);
    expect(p2.stdout).to.equal(p1.stdout);
    expect(p2.stdout.split('\n').length).to.equal(302);
  });

  it('--format onnx writes one file that onnxruntime runs like predict (also --fold-batch-norm)', async function () {
    if (!ort) {
      console.log(`      skipped: onnxruntime-node does not load here (${ortError?.message})`);
      this.skip();
    }
    const model = await dn.loadModel(f('model'));
    const x = Float32Array.from({ length: 30 }, (_, i) => Math.sin(i));
    for (const fold of [false, true]) {
      const r = await runCli(tmp, ['export', '--model', 'model', '--format', 'onnx', '--out', 'm.onnx', ...(fold ? ['--fold-batch-norm'] : [])]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/Wrote ONNX model to m\.onnx\nInputs are standardized with the mean\/std in/);
      const s = await ort.InferenceSession.create(fs.readFileSync(f('m.onnx')));
      const out = await s.run({ input: new ort.Tensor('float32', x, [10, 3]) });
      expect(maxAbsDiff(out.output.data, model.predict(dn.tensor(x, [10, 3])).data)).to.be.below(1e-5);
    }
  });

  it('--format torch writes one safetensors state dict', async () => {
    const r = await runCli(tmp, ['export', '--model', 'model', '--format', 'torch', '--out', 'm.safetensors']);
    expect(r.code, r.stderr).to.equal(0);
    const { tensors, metadata } = decodeSafetensorsTyped(fs.readFileSync(f('m.safetensors')));
    expect(tensors.get('0.weight').shape).to.deep.equal([8, 3]);
    expect(JSON.parse(metadata['densenorm.modules'])[0]).to.deep.equal({ type: 'Linear', in_features: 3, out_features: 8, bias: false });
    const fresh = await dn.loadModel(f('model'));
    fresh.layers[0].setWeightValues([new Float32Array(24)]);
    await fresh.loadWeights(f('m.safetensors'), { format: 'torch' });
    const orig = await dn.loadModel(f('model'));
    expect(maxAbsDiff(fresh.predict([[1, 2, 3]]).data, orig.predict([[1, 2, 3]]).data)).to.equal(0);
  });

  it('evaluates and predicts with a model made by tfjs (no preprocessing.json: columns in order, unscaled)', async () => {
    const t = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [3], activation: 'relu' }), tf.layers.batchNormalization(), tf.layers.dense({ units: 2, activation: 'softmax' })] });
    const dir = f('from-tfjs');
    fs.mkdirSync(dir);
    await t.save(tf.io.withSaveHandler(async (a) => {
      fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(a.weightData));
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }], format: 'layers-model' }));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    fs.writeFileSync(f('raw.csv'), 'x1,x2,x3,y\n0.5,1,-1,0\n2,0,1,1\n-1,-1,3,1\n');
    const p = await runCli(tmp, ['predict', '--model', 'from-tfjs', '--data', 'raw.csv']);
    expect(p.code, p.stderr).to.equal(0);
    const probs = t.predict(tf.tensor2d([[0.5, 1, -1], [2, 0, 1], [-1, -1, 3]])).arraySync();
    const want = probs.map((r) => `${r[0] >= r[1] ? 0 : 1},${Math.max(...r).toPrecision(6)}`);
    const lines = p.stdout.trim().split('\n');
    expect(lines[0]).to.equal('class,probability');
    lines.slice(1).forEach((l, i) => {
      const [c, pr] = l.split(',');
      expect(c).to.equal(want[i].split(',')[0]);
      expect(Number(pr)).to.be.closeTo(Number(want[i].split(',')[1]), 1e-5);
    });
    const e = await runCli(tmp, ['evaluate', '--model', 'from-tfjs', '--data', 'raw.csv', '--label', 'y', '--json']);
    expect(e.code, e.stderr).to.equal(0);
    const j = JSON.parse(e.stdout);
    const ll = -(Math.log(probs[0][0]) + Math.log(probs[1][1]) + Math.log(probs[2][1])) / 3;
    expect(j.rows).to.equal(3);
    expect(j.loss).to.be.closeTo(ll, 1e-5);
    const info = await runCli(tmp, ['info', '--model', 'from-tfjs']);
    expect(info.code, info.stderr).to.equal(0);
    expect(info.stdout).to.match(/inputs: {4}3 features, unscaled \(no preprocessing\.json/);
    fs.writeFileSync(f('wide.csv'), 'a,b,c,d,e\n1,2,3,4,5\n');
    const bad = await runCli(tmp, ['predict', '--model', 'from-tfjs', '--data', 'wide.csv']);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/takes 3 features, but the file has 4 columns besides the label "e"/);
  });

  it('usage errors: missing or unknown --format, --fold-batch-norm without onnx, a missing model', async () => {
    let r = await runCli(tmp, ['export', '--model', 'model', '--out', 'x.onnx']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/--format onnx\|tfjs\|torch is required/);
    r = await runCli(tmp, ['export', '--model', 'model', '--format', 'keras', '--out', 'x']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/--format expects onnx \| tfjs \| torch, got "keras"/);
    r = await runCli(tmp, ['export', '--model', 'model', '--format', 'torch', '--fold-batch-norm', '--out', 'x']);
    expect(r.stderr).to.match(/--fold-batch-norm only goes with --format onnx/);
    r = await runCli(tmp, ['export', '--model', 'nope', '--format', 'onnx', '--out', 'x.onnx']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/nope/);
    expect(fs.existsSync(f('x.onnx'))).to.equal(false);
  });
});

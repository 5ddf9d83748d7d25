// TensorFlow.js layers models both ways, against the real @tensorflow/tfjs: models made by tfjs
// load and predict the same in densenorm; densenorm's tfjs export loads in tf.loadLayersModel and
// predicts the same; every layer configuration round-trips; converter shards and the Keras 2/3
// dialects load; unsupported layers are named.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { dn, isa, rejects } from './helpers.mjs';
import { CONFIGS, X, configModel, maxAbsDiff, mnistModel, tmpDir } from './interop_helpers.mjs';

const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs');
tf.env().set('IS_TEST', true); // no "install tfjs-node" banner

/** Saves a tfjs model the way tfjs-node's file:// handler does: model.json + one weights.bin. */
async function saveLikeTfjsNode(model, dir) {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (a) => {
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(a.weightData));
    const json = { modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }], format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy };
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
}

/** tf.loadLayersModel on a model directory (all manifest files concatenated in order, as tfjs does). */
async function loadInTfjs(dir) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const bytes = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p)))));
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
}

const tfPredict = (m, x) => m.predict(tf.tensor2d(x)).dataSync();

/** A tfjs model with every supported layer class and non-trivial batch-norm statistics. */
function tfjsModel() {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 6, inputShape: [3], useBias: false, kernelInitializer: tf.initializers.randomNormal({ seed: 1 }) }));
  m.add(tf.layers.batchNormalization({ epsilon: 0.01, momentum: 0.9 }));
  m.add(tf.layers.activation({ activation: 'relu' }));
  m.add(tf.layers.dropout({ rate: 0.25 }));
  m.add(tf.layers.dense({ units: 4, activation: 'tanh', kernelRegularizer: tf.regularizers.l2({ l2: 0.01 }) }));
  m.add(tf.layers.batchNormalization({ center: false }));
  m.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  for (const l of m.layers) {
    if (l.getClassName() !== 'BatchNormalization') continue;
    l.setWeights(l.getWeights().map((w, i) => tf.tensor(Float32Array.from({ length: w.size }, (_, j) => [1 + 0.1 * j, 0.2 * j - 0.3, 0.05 * j - 0.1, 0.4 + 0.1 * j][i + (l.getWeights().length === 3 ? 1 : 0)]), w.shape)));
  }
  return m;
}

describe(`tfjs layers format (isa=${isa}, @tensorflow/tfjs ${tf.version.tfjs})`, function () {
  this.timeout(60000);
  let tmp;
  beforeEach(() => {
    tmp = tmpDir('tfjs');
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('loads a model saved by tfjs (weights.bin) and predicts what tfjs predicts', async () => {
    const t = tfjsModel();
    await saveLikeTfjsNode(t, tmp);
    const m = await dn.loadModel(tmp);
    expect(m.layers.map((l) => l.className)).to.deep.equal(['Dense', 'BatchNormalization', 'Activation', 'Dropout', 'Dense', 'BatchNormalization', 'Dense']);
    expect(m.layers[1].epsilon).to.be.closeTo(0.01, 1e-9);
    expect(m.layers[1].momentum).to.be.closeTo(0.9, 1e-9);
    expect(m.layers[5].center).to.equal(false);
    expect(m.layers[4].kernelRegularizer.l2).to.be.closeTo(0.01, 1e-9);
    const d = maxAbsDiff(m.predict(X).data, tfPredict(t, X));
    console.log(`      max |densenorm - tfjs| = ${d.toExponential(2)}`);
    expect(d).to.be.below(1e-5);
    // the model.json path itself works too
    const again = await dn.loadModel(path.join(tmp, 'model.json'));
    expect(maxAbsDiff(again.predict(X).data, m.predict(X).data)).to.equal(0);
    // and so does a densenorm model.json's path
    const dir2 = path.join(tmp, 'densenorm');
    await m.save(dir2);
    expect(maxAbsDiff((await dn.loadModel(path.join(dir2, 'model.json'))).predict(X).data, m.predict(X).data)).to.equal(0);
  });

  it('loads converter-style shards (groupN-shardKofM.bin, layer-major order, nested model_config, InputLayer)', async () => {
    const t = tfjsModel();
    await saveLikeTfjsNode(t, tmp);
    const json = JSON.parse(fs.readFileSync(path.join(tmp, 'model.json'), 'utf8'));
    const bin = fs.readFileSync(path.join(tmp, 'weights.bin'));
    fs.rmSync(path.join(tmp, 'weights.bin'));
    // Layer-major order, as the Python converter writes; shards of 40 bytes split tensors across files.
    const specs = json.weightsManifest[0].weights;
    let off = 0;
    const withOff = specs.map((s) => {
      const n = s.shape.reduce((a, b) => a * b, 1) * 4;
      const r = { s, bytes: bin.subarray(off, off + n) };
      off += n;
      return r;
    });
    const layerOrder = json.modelTopology.config.layers.map((l) => l.config.name);
    withOff.sort((a, b) => layerOrder.indexOf(a.s.name.split('/')[0]) - layerOrder.indexOf(b.s.name.split('/')[0]));
    const data = Buffer.concat(withOff.map((w) => w.bytes));
    const paths = [];
    const shards = Math.ceil(data.length / 40);
    for (let k = 0; k < shards; k++) {
      const p = `group1-shard${k + 1}of${shards}.bin`;
      fs.writeFileSync(path.join(tmp, p), data.subarray(40 * k, 40 * (k + 1)));
      paths.push(p);
    }
    const layers = json.modelTopology.config.layers;
    const first = layers[0].config;
    const input = { class_name: 'InputLayer', config: { batch_input_shape: first.batch_input_shape, dtype: 'float32', sparse: false, ragged: false, name: 'dense_input' } };
    delete first.batch_input_shape;
    const converted = {
      format: 'layers-model',
      generatedBy: 'keras v2.9.0',
      convertedBy: 'TensorFlow.js Converter v3.19.0',
      modelTopology: { keras_version: '2.9.0', backend: 'tensorflow', model_config: { class_name: 'Sequential', config: { name: 'sequential', layers: [input, ...layers] } } },
      weightsManifest: [{ paths, weights: withOff.map((w) => w.s) }],
    };
    fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify(converted));
    expect(shards).to.be.greaterThan(3);
    const m = await dn.loadModel(tmp);
    expect(m.inputDim).to.equal(3);
    expect(maxAbsDiff(m.predict(X).data, tfPredict(t, X))).to.be.below(1e-5);
  });

  it('reads the Keras 3 dialect (batch_shape, DTypePolicy, module keys, axis as a list)', async () => {
    const dtype = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
    const json = {
      format: 'layers-model',
      modelTopology: {
        class_name: 'Sequential',
        config: {
          name: 'seq', trainable: true, dtype,
          layers: [
            { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 3], dtype: 'float32', sparse: false, name: 'input_layer' }, registered_name: null },
            { module: 'keras.layers', class_name: 'Dense', config: { name: 'dense', trainable: true, dtype, units: 2, activation: 'relu', use_bias: true, kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null } }, bias_initializer: { class_name: 'Zeros', config: {} }, kernel_regularizer: null, bias_regularizer: null, kernel_constraint: null, bias_constraint: null, quantization_config: null }, build_config: { input_shape: [null, 3] } },
            { module: 'keras.layers', class_name: 'BatchNormalization', config: { name: 'bn', dtype, axis: [1], momentum: 0.99, epsilon: 0.001, center: true, scale: true, synchronized: false } },
          ],
          build_input_shape: [null, 3],
        },
      },
      weightsManifest: [{ paths: ['w.bin'], weights: ['dense/kernel:[3,2]', 'dense/bias:[2]', 'bn/gamma:[2]', 'bn/beta:[2]', 'bn/moving_mean:[2]', 'bn/moving_variance:[2]'].map((s) => ({ name: s.split(':')[0], shape: JSON.parse(s.split(':')[1]), dtype: 'float32' })) }],
    };
    const vals = Float32Array.from([1, 2, 3, 4, 5, 6, 0.5, -0.5, 2, 1, 0, 1, 1, 2, 3, 4]);
    fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify(json));
    fs.writeFileSync(path.join(tmp, 'w.bin'), Buffer.from(vals.buffer));
    const m = await dn.loadModel(path.join(tmp, 'model.json'));
    const p = m.predict([[1, 0, -1]]).data;
    // dense: relu([1,0,-1]·K + b) = relu([1-5+0.5, 2-6-0.5]) = [0, 0]; bn: (0-[1,2])/sqrt([3,4]+1e-3)*[2,1]+[0,1]
    expect(p[0]).to.be.closeTo(((0 - 1) / Math.sqrt(3.001)) * 2 + 0, 1e-5);
    expect(p[1]).to.be.closeTo(((0 - 2) / Math.sqrt(4.001)) * 1 + 1, 1e-5);
  });

  for (const name of Object.keys(CONFIGS)) {
    it(`exports "${name}" so that tf.loadLayersModel predicts the same, and reads it back`, async () => {
      const m = configModel(name);
      await m.save(tmp, { format: 'tfjs' });
      expect(fs.readdirSync(tmp).sort()).to.deep.equal(['model.json', 'weights.bin']);
      const t = await loadInTfjs(tmp);
      const want = m.predict(X).data;
      expect(maxAbsDiff(tfPredict(t, X), want), 'tfjs').to.be.below(1e-5);
      const back = await dn.loadModel(tmp);
      expect(maxAbsDiff(back.predict(X).data, want), 'densenorm').to.equal(0);
      expect(back.layers.map((l) => l.getConfig())).to.deep.equal(m.layers.map((l) => l.getConfig()));
    });
  }

  it('round-trips the bundled-MNIST model through tfjs (densenorm → tfjs → densenorm) within 1e-5', async () => {
    const { model, xTest } = await mnistModel();
    await model.save(tmp, { format: 'tfjs' });
    const t = await loadInTfjs(tmp);
    const want = model.predict(xTest).data;
    const dTf = maxAbsDiff(t.predict(tf.tensor2d(xTest.data, xTest.shape)).dataSync(), want);
    const back = await dn.loadModel(tmp);
    const dBack = maxAbsDiff(back.predict(xTest).data, want);
    console.log(`      MNIST 200 rows: max |tfjs - densenorm| = ${dTf.toExponential(2)}, round trip ${dBack}`);
    expect(dTf).to.be.below(1e-5);
    expect(dBack).to.be.below(1e-5);
    // and a tfjs-trained-weights model saved by tfjs itself reads back the same
    const dir2 = path.join(tmp, 'from-tfjs');
    await saveLikeTfjsNode(t, dir2);
    expect(maxAbsDiff((await dn.loadModel(dir2)).predict(xTest).data, want)).to.be.below(1e-5);
  });

  it('skips optimizer weights saved with includeOptimizer (group "optimizer")', async () => {
    // (not tfjsModel(): tfjs cannot train a batch norm with center or scale off, tensorflow/tfjs#2868)
    const t = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [3] }), tf.layers.batchNormalization(), tf.layers.dense({ units: 3, activation: 'softmax' })] });
    t.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    await t.fit(tf.tensor2d(X), tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1], 'int32'), 3), { epochs: 2, batchSize: 5 });
    fs.mkdirSync(tmp, { recursive: true });
    await t.save(tf.io.withSaveHandler(async (a) => {
      expect(a.weightSpecs.some((s) => s.group === 'optimizer')).to.equal(true);
      fs.writeFileSync(path.join(tmp, 'weights.bin'), Buffer.from(a.weightData));
      fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify({ modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }], format: a.format, trainingConfig: a.trainingConfig }));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }), { includeOptimizer: true });
    const m = await dn.loadModel(tmp);
    expect(maxAbsDiff(m.predict(X).data, tfPredict(t, X))).to.be.below(1e-5);
  });

  it('layerNormalization both ways: a tfjs LayerNormalization model predicts the same in densenorm, and densenorm\'s in tfjs', async () => {
    const t = tf.sequential({ layers: [
      tf.layers.dense({ units: 6, inputShape: [3], kernelInitializer: tf.initializers.randomNormal({ seed: 2 }) }),
      tf.layers.layerNormalization({ epsilon: 0.01 }),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.dense({ units: 4 }),
      tf.layers.layerNormalization({ center: false }),
    ] });
    for (const l of t.layers) {
      if (l.getClassName() !== 'LayerNormalization') continue;
      l.setWeights(l.getWeights().map((w, i) => tf.tensor(Float32Array.from({ length: w.size }, (_, j) => (i === 0 ? 1 + 0.1 * j : 0.2 * j - 0.3)), w.shape)));
    }
    await saveLikeTfjsNode(t, tmp);
    const m = await dn.loadModel(tmp);
    expect(m.layers.map((l) => l.className)).to.deep.equal(['Dense', 'LayerNormalization', 'Activation', 'Dense', 'LayerNormalization']);
    expect(m.layers[1].epsilon).to.equal(0.01);
    expect(maxAbsDiff(m.predict(X).data, tfPredict(t, X))).to.be.below(1e-5);
    const out = path.join(tmp, 'back');
    await m.save(out, { format: 'tfjs' });
    const t2 = await loadInTfjs(out);
    expect(maxAbsDiff(tfPredict(t2, X), m.predict(X).data)).to.be.below(1e-5);
    // Keras 3's GroupNormalization (tfjs has none): the same file with the class renamed and groups set
    const json = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8'));
    Object.assign(json.modelTopology.config.layers[1], { class_name: 'GroupNormalization' });
    json.modelTopology.config.layers[1].config.groups = 3;
    fs.writeFileSync(path.join(out, 'model.json'), JSON.stringify(json));
    const g = await dn.loadModel(out);
    expect([g.layers[1].className, g.layers[1].groups]).to.deep.equal(['GroupNormalization', 3]);
    const same = dn.sequential({ layers: [dn.layers.dense({ units: 6, inputShape: [3] }), dn.layers.groupNormalization({ groups: 3, epsilon: 0.01 }), dn.layers.activation({ activation: 'relu' }), dn.layers.dense({ units: 4 }), dn.layers.layerNormalization({ center: false })] });
    same.setWeights(g.getWeights());
    expect(Array.from(g.predict(X).data)).to.deep.equal(Array.from(same.predict(X).data));
    const rms = dn.sequential({ layers: [dn.layers.dense({ units: 4, inputShape: [3] }), dn.layers.layerNormalization({ rmsScaling: true })] });
    expect((await rejects(rms.save(path.join(tmp, 'rms'), { format: 'tfjs' }))).message).to.match(/rmsScaling is not supported in the tfjs format/);
  });

  it('rejects unsupported layer classes by name, listing what is supported', async () => {
    const t = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] }), tf.layers.gaussianNoise({ stddev: 0.1 })] });
    await saveLikeTfjsNode(t, tmp);
    const e = await rejects(dn.loadModel(tmp));
    expect(e.code).to.equal('ERR_MODEL_FILE');
    expect(e.message).to.match(/layer class "GaussianNoise" is not supported \(supported: InputLayer, Dense, BatchNormalization, Activation, Dropout, LayerNormalization, GroupNormalization\)/);
    const t2 = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3], activation: 'elu' })] });
    const dir2 = path.join(tmp, 'elu');
    await saveLikeTfjsNode(t2, dir2);
    expect((await rejects(dn.loadModel(dir2))).message).to.match(/activation "elu" is not supported/);
  });

  it('reads tf.keras batch renormalization and virtual_batch_size; refuses to write them (tfjs has neither)', async () => {
    const bn = (name, extra) => ({ class_name: 'BatchNormalization', config: { name, trainable: true, dtype: 'float32', axis: [1], momentum: 0.99, epsilon: 0.001, center: true, scale: true, ...extra } });
    const json = {
      format: 'layers-model',
      modelTopology: { keras_version: '2.9.0', backend: 'tensorflow', model_config: { class_name: 'Sequential', config: { name: 's', layers: [
        { class_name: 'InputLayer', config: { batch_input_shape: [null, 2], dtype: 'float32', name: 'in' } },
        bn('rn', { renorm: true, renorm_clipping: { rmax: 3, rmin: 0.3, dmax: 5 }, renorm_momentum: 0.9 }),
        bn('ghost', { virtual_batch_size: 4 }),
      ] } } },
      weightsManifest: [{ paths: ['w.bin'], weights: [
        ...['gamma', 'beta', 'moving_mean', 'moving_variance', 'renorm_mean', 'renorm_stddev'].map((w) => ({ name: `rn/${w}`, shape: [2], dtype: 'float32' })),
        ...['gamma', 'beta', 'moving_mean', 'moving_variance'].map((w) => ({ name: `ghost/${w}`, shape: [2], dtype: 'float32' })),
      ] }],
    };
    const v = Float32Array.from([2, 1, 0.5, -0.5, 1, -1, 4, 0.25, 7, 7, 8, 8, 1, 1, 0, 0, 0, 0, 1, 1]);
    fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify(json));
    fs.writeFileSync(path.join(tmp, 'w.bin'), Buffer.from(v.buffer));
    const m = await dn.loadModel(tmp);
    expect(m.layers[0].getConfig()).to.deep.include({ renorm: true, renormMomentum: 0.9, renormClipping: { rmax: 3, rmin: 0.3, dmax: 5 } });
    expect(m.layers[1].virtualBatchSize).to.equal(4);
    const p = m.predict([[3, 1]]).data;
    const y0 = ((3 - 1) / Math.sqrt(4.001)) * 2 + 0.5;
    const y1 = ((1 + 1) / Math.sqrt(0.251)) * 1 - 0.5;
    expect(p[0]).to.be.closeTo(y0 / Math.sqrt(1.001), 1e-5);
    expect(p[1]).to.be.closeTo(y1 / Math.sqrt(1.001), 1e-5);
    let e = await rejects(m.save(path.join(tmp, 'out'), { format: 'tfjs' }));
    expect(e.message).to.equal('Layer "rn": renorm is not supported in the tfjs format (tfjs-layers has neither renorm nor virtual batches)');
    e = await rejects(m.save(path.join(tmp, 'out.safetensors'), { format: 'torch' }));
    expect(e.message).to.equal('Layer "rn": renorm is not supported in the torch format (torch.nn.BatchNorm1d has neither renorm nor virtual batches)');
    const ghost = dn.sequential({ layers: [dn.layers.batchNormalization({ inputShape: [2], virtualBatchSize: 2, name: 'g' })] });
    e = await rejects(ghost.save(path.join(tmp, 'out2'), { format: 'tfjs' }));
    expect(e.message).to.match(/Layer "g": virtualBatchSize is not supported in the tfjs format/);
  });

  it('refuses to write a cumulative-average batch norm (momentum null), which tfjs cannot express', async () => {
    const m = dn.sequential({ layers: [dn.layers.batchNormalization({ inputShape: [2], momentum: null })] });
    const e = await rejects(m.save(tmp, { format: 'tfjs' }));
    expect(e.message).to.match(/momentum null/);
  });
});

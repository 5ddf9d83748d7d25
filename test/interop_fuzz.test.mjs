// The tfjs and torch readers treat files as hostile, like the densenorm and safetensors readers:
// truncations, bit flips, huge declared sizes and paths outside the model directory give a
// DensenormError ERR_MODEL_FILE (never a crash, another error class or a huge allocation); and
// every writer rejects a layer class it cannot express by name.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { dn, isa, rejects } from './helpers.mjs';
import { configModel, tmpDir } from './interop_helpers.mjs';

async function expectFileError(p, re) {
  const e = await rejects(p);
  expect(e.name, e.stack).to.equal('DensenormError');
  expect(e.code, e.message).to.equal('ERR_MODEL_FILE');
  if (re) expect(e.message).to.match(re);
  return e;
}

/** Loads or fails with ERR_MODEL_FILE; anything else fails the property. */
async function loadsOrFileError(load) {
  try {
    await load();
  } catch (e) {
    if (e?.name !== 'DensenormError' || e.code !== 'ERR_MODEL_FILE') throw new Error(`unexpected ${e?.name}: ${e?.message}\n${e?.stack}`);
  }
}

describe(`interop readers on hostile files (isa=${isa})`, function () {
  this.timeout(120000);
  let tmp;
  let good; // model.json text and weights.bin bytes of a valid tfjs export
  const f = (n) => path.join(tmp, n);
  const writeTfjs = (json, bin = good.bin) => {
    fs.writeFileSync(f('model.json'), typeof json === 'string' ? json : JSON.stringify(json));
    if (bin !== undefined) fs.writeFileSync(f('weights.bin'), bin);
  };
  const goodJson = () => JSON.parse(good.json);

  beforeEach(async () => {
    tmp = tmpDir('fuzz');
    if (!good) {
      await configModel('no bias → BN → relu').save(tmp, { format: 'tfjs' });
      good = { json: fs.readFileSync(f('model.json'), 'utf8'), bin: fs.readFileSync(f('weights.bin')) };
    }
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('truncated weights.bin (every length) and extra bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: good.bin.length - 1 }), async (n) => {
      writeTfjs(good.json, good.bin.subarray(0, n));
      await expectFileError(dn.loadModel(tmp), /declares \d+ bytes of weights but its files \(weights\.bin\) hold/);
    }), { numRuns: 60 });
    writeTfjs(good.json, Buffer.concat([good.bin, Buffer.alloc(4)]));
    await expectFileError(dn.loadModel(tmp), /more than the \d+ bytes weightsManifest\[0\] declares/);
  });

  it('truncated or bit-flipped model.json loads or fails with ERR_MODEL_FILE', async () => {
    const bytes = Buffer.from(good.json);
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: bytes.length - 1 }), async (n) => {
      writeTfjs(bytes.subarray(0, n).toString('latin1'));
      await expectFileError(dn.loadModel(tmp));
    }), { numRuns: 60 });
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }), async (flips) => {
      const b = Buffer.from(bytes);
      for (const [i, bit] of flips) b[i] ^= 1 << bit;
      fs.writeFileSync(f('model.json'), b);
      fs.writeFileSync(f('weights.bin'), good.bin);
      await loadsOrFileError(() => dn.loadModel(tmp));
    }), { numRuns: 300 });
  });

  it('random bytes in weights.bin of the right size load (weights are plain floats)', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: good.bin.length, maxLength: good.bin.length }), async (b) => {
      writeTfjs(good.json, Buffer.from(b));
      await loadsOrFileError(() => dn.loadModel(tmp));
    }), { numRuns: 30 });
  });

  it('huge declared sizes are rejected before anything is read or allocated', async () => {
    const j = goodJson();
    j.weightsManifest[0].weights[0].shape = [2 ** 20, 2 ** 20];
    writeTfjs(j);
    await expectFileError(dn.loadModel(tmp), /more than 1073741824 values/);
    const j2 = goodJson();
    j2.modelTopology.config.layers[0].config.units = 2 ** 24;
    j2.modelTopology.config.layers[0].config.batch_input_shape = [null, 2 ** 24];
    writeTfjs(j2);
    await expectFileError(dn.loadModel(tmp), /would need \d+ weights \(more than the 1073741824 limit/);
    const j3 = goodJson();
    j3.modelTopology.config.layers[0].config.batch_input_shape = [null, 2 ** 40];
    writeTfjs(j3);
    await expectFileError(dn.loadModel(tmp), /expected a shape \[null, features\] with 1 to 16777216 features/);
    // a sparse 5 GB weights.bin is refused by its size, unread
    writeTfjs(good.json, Buffer.alloc(0));
    fs.truncateSync(f('weights.bin'), 5 * 2 ** 30);
    await expectFileError(dn.loadModel(tmp), /more than the \d+ bytes weightsManifest\[0\] declares/);
    // and a sparse 100 MB model.json by its size
    fs.writeFileSync(f('model.json'), '');
    fs.truncateSync(f('model.json'), 100 * 2 ** 20);
    await expectFileError(dn.loadModel(f('model.json')), /more than the 67108864-byte limit/);
  });

  it('manifest paths must stay inside the model directory; specs are checked', async () => {
    for (const p of ['../weights.bin', '/etc/passwd', 'a/../../x.bin', 'file:///etc/passwd', '']) {
      const j = goodJson();
      j.weightsManifest[0].paths = [p];
      writeTfjs(j);
      await expectFileError(dn.loadModel(tmp), /is not a relative path inside the model's directory/);
    }
    const cases = [
      [(j) => { j.weightsManifest[0].weights[1].dtype = 'int32'; }, /dtype "int32" is not supported \(only float32\)/],
      [(j) => { j.weightsManifest[0].weights[1].quantization = { dtype: 'uint8', scale: 1, min: 0 }; }, /quantized weights are not supported/],
      [(j) => { j.weightsManifest[0].weights[1].name = j.weightsManifest[0].weights[0].name; }, /duplicate weight name/],
      [(j) => { j.weightsManifest[0].weights[0].shape = [-1, 5]; }, /invalid shape/],
      [(j) => { j.weightsManifest[0].weights[0].name = 'zzz/kernel'; }, /missing tensor|unexpected tensor/],
      [(j) => { j.weightsManifest = {}; }, /weightsManifest must be an array/],
      [(j) => { j.weightsManifest.push({ paths: ['weights.bin'], weights: [{ name: 'x/y', shape: [1e6], dtype: 'float32' }] }); }, /declares \d+ weights but the architecture has \d+/],
      [(j) => { j.modelTopology.class_name = 'Model'; }, /model class "Model" is not supported \(only Sequential models\)/],
      [(j) => { j.modelTopology.config.layers[1].class_name = 'Conv2D'; }, /layer class "Conv2D" is not supported \(supported: InputLayer, Dense, BatchNormalization, Activation, Dropout, LayerNormalization, GroupNormalization\)/],
      [(j) => { j.modelTopology.config.layers[0].config.kernel_constraint = { class_name: 'MaxNorm', config: {} }; }, /"kernel_constraint" is set/],
      [(j) => { j.format = 'graph-model'; }, /format "graph-model" is not supported/],
      [(j) => { delete j.modelTopology.config.layers[0].config.batch_input_shape; }, /input size is unknown/],
    ];
    for (const [edit, re] of cases) {
      const j = goodJson();
      edit(j);
      writeTfjs(j);
      await expectFileError(dn.loadModel(tmp), re);
    }
    const j = goodJson();
    j.weightsManifest[0].paths = ['missing.bin'];
    writeTfjs(j);
    await expectFileError(dn.loadModel(tmp), /missing\.bin: cannot read weights \(ENOENT\)/);
  });

  it('torch files: truncations and bit flips fail with ERR_MODEL_FILE, never change the model', async () => {
    const m = configModel('center off');
    const file = f('m.safetensors');
    await m.save(file, { format: 'torch' });
    const bytes = fs.readFileSync(file);
    const target = configModel('center off', 8);
    const before = target.getWeights().map((t) => Array.from(t.data));
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: bytes.length - 1 }), async (n) => {
      fs.writeFileSync(file, bytes.subarray(0, n));
      await expectFileError(target.loadWeights(file, { format: 'torch' }));
    }), { numRuns: 80 });
    expect(target.getWeights().map((t) => Array.from(t.data))).to.deep.equal(before);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.nat(8 + headerLen - 1), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 3 }), async (flips) => {
      const b = Buffer.from(bytes);
      for (const [i, bit] of flips) b[i] ^= 1 << bit;
      fs.writeFileSync(file, b);
      await loadsOrFileError(() => target.loadWeights(file, { format: 'torch' }));
    }), { numRuns: 300 });
    fs.writeFileSync(file, Buffer.alloc(0));
    fs.truncateSync(file, 3 * 2 ** 30);
    await expectFileError(target.loadWeights(file, { format: 'torch' }), /more than the \d+ bytes this model's \d+ weights can take/);
    await expectFileError(target.loadWeights(f('absent.safetensors'), { format: 'torch' }), /ENOENT/);
  });

  it('every writer names a layer class it does not support (e.g. one registered later)', async () => {
    class Doubler extends dn.Layer {
      constructor(args = {}) {
        super('Doubler', 'doubler', args, 'doubler args');
      }
      weightSpecs() { return []; }
      outputDim(d) { return d; }
      getConfig() { return this.baseConfig(); }
      toOps() { return [{ op: 'activation', activation: 'linear' }]; }
    }
    const m = dn.sequential({ layers: [dn.layers.dense({ units: 2, inputShape: [3] }), new Doubler()] });
    for (const [format, name] of [['tfjs', 'tfjs'], ['onnx', 'ONNX'], ['torch', 'torch']]) {
      const e = await rejects(m.save(f(`out-${format}`), { format }));
      expect(e.message).to.equal(`Layer class "Doubler" is not supported in the ${name} format (supported: Dense, BatchNormalization, Activation, Dropout${format === 'tfjs' ? ', LayerNormalization' : ''})`);
    }
    // the normalization layers that landed after these writers (tfjs has LayerNormalization)
    for (const [layer, cls, formats] of [[dn.layers.layerNormalization(), 'LayerNormalization', ['onnx', 'torch']], [dn.layers.groupNormalization({ groups: 2 }), 'GroupNormalization', ['tfjs', 'onnx', 'torch']]]) {
      const n = dn.sequential({ layers: [dn.layers.dense({ units: 4, inputShape: [3] }), layer] });
      for (const format of formats) {
        const name = { tfjs: 'tfjs', onnx: 'ONNX', torch: 'torch' }[format];
        const e = await rejects(n.save(f(`out-${format}`), { format }));
        expect(e.message).to.equal(`Layer class "${cls}" is not supported in the ${name} format (supported: Dense, BatchNormalization, Activation, Dropout${format === 'tfjs' ? ', LayerNormalization' : ''})`);
      }
    }
    expect(fs.readdirSync(tmp)).to.deep.equal([]);
  });
});

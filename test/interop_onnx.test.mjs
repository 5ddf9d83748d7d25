// ONNX export against onnxruntime-node: every layer configuration, with and without folded batch
// norm, runs with outputs equal to predict (1e-5) at any batch size; the layer's epsilon is used.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { dn, isa } from './helpers.mjs';
import { CONFIGS, X, configModel, loadOrt, maxAbsDiff, mnistModel, pythonEnv, tmpDir } from './interop_helpers.mjs';

const { ort, ortError } = loadOrt();

async function runOnnx(bytes, x) {
  const session = await ort.InferenceSession.create(bytes);
  const rows = x.length ?? x.shape[0];
  const data = Array.isArray(x) ? Float32Array.from(x.flat()) : x.data;
  const cols = data.length / rows;
  const out = await session.run({ input: new ort.Tensor('float32', data, [rows, cols]) });
  expect(session.inputNames).to.deep.equal(['input']);
  expect(session.outputNames).to.deep.equal(['output']);
  return out.output;
}

describe(`ONNX export (isa=${isa})`, function () {
  this.timeout(60000);
  before(function () {
    if (!ort) {
      console.log(`      skipped: onnxruntime-node does not load here (${ortError?.message})`);
      this.skip();
    }
  });

  for (const name of Object.keys(CONFIGS)) {
    for (const foldBatchNorm of [false, true]) {
      it(`"${name}"${foldBatchNorm ? ' with foldBatchNorm' : ''}: onnxruntime equals predict`, async () => {
        const m = configModel(name);
        const bytes = dn.io.toOnnx(m, { foldBatchNorm });
        expect(bytes).to.be.instanceOf(Uint8Array);
        const out = await runOnnx(bytes, X);
        expect(out.dims).to.deep.equal([X.length, m.outputDim]);
        expect(maxAbsDiff(out.data, m.predict(X).data)).to.be.below(1e-5);
      });
    }
  }

  it('has a dynamic batch dimension (1 and 300 rows from one file)', async () => {
    const m = configModel('no bias → BN → relu');
    const bytes = dn.io.toOnnx(m);
    const big = Array.from({ length: 300 }, (_, i) => [Math.sin(i), Math.cos(i), (i % 7) - 3]);
    expect(maxAbsDiff((await runOnnx(bytes, [X[0]])).data, m.predict([X[0]]).data)).to.be.below(1e-5);
    expect(maxAbsDiff((await runOnnx(bytes, big)).data, m.predict(big).data)).to.be.below(1e-5);
  });

  it('batch renormalization and ghost batch norm export as plain BatchNormalization (the same at inference)', async () => {
    dn.setSeed(4);
    const m = dn.sequential({ layers: [
      dn.layers.dense({ units: 4, inputShape: [3] }),
      dn.layers.batchNormalization({ renorm: true, renormClipping: { rmax: 3, dmax: 5 } }),
      dn.layers.dense({ units: 4, activation: 'relu' }),
      dn.layers.batchNormalization({ virtualBatchSize: 2 }),
    ] });
    m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const x = Array.from({ length: 8 }, (_, i) => [Math.sin(i), i / 4, -1 + (i % 3)]);
    await m.fit(x, x.map((r) => [r[0], r[1], r[2], 1]), { epochs: 3, batchSize: 4 });
    for (const fold of [false, true]) expect(maxAbsDiff((await runOnnx(dn.io.toOnnx(m, { foldBatchNorm: fold }), x)).data, m.predict(x).data)).to.be.below(1e-5);
  });

  it('a model of dropout only is one Identity', async () => {
    const m = dn.sequential({ layers: [dn.layers.dropout({ rate: 0.5, inputShape: [3] })] });
    expect(maxAbsDiff((await runOnnx(dn.io.toOnnx(m), X)).data, Float32Array.from(X.flat()))).to.equal(0);
  });

  it("writes the layer's own epsilon (0.5 here, not ONNX's default 1e-5)", async () => {
    dn.setSeed(3);
    const m = dn.sequential({ layers: [dn.layers.batchNormalization({ inputShape: [3], epsilon: 0.5 })] });
    m.layers[0].setWeightValues([new Float32Array([1, 1, 1]), new Float32Array(3), new Float32Array(3), new Float32Array([0.01, 0.02, 0.03])]);
    const out = await runOnnx(dn.io.toOnnx(m), X);
    expect(out.data[0]).to.be.closeTo(0.5 / Math.sqrt(0.51), 1e-6);
    expect(maxAbsDiff(out.data, m.predict(X).data)).to.be.below(1e-6);
  });

  it('save(path, { format: "onnx" }) writes one file; the MNIST model matches predict within 1e-5', async () => {
    const tmp = tmpDir('onnx');
    try {
      const { model, xTest } = await mnistModel();
      const file = path.join(tmp, 'sub', 'mnist.onnx');
      await model.save(file, { format: 'onnx' });
      expect(fs.statSync(file).isFile()).to.equal(true);
      const want = model.predict(xTest).data;
      const d = maxAbsDiff((await runOnnx(fs.readFileSync(file), xTest)).data, want);
      await model.save(file, { format: 'onnx', foldBatchNorm: true });
      const dFold = maxAbsDiff((await runOnnx(fs.readFileSync(file), xTest)).data, want);
      console.log(`      MNIST 200 rows: max |onnxruntime - predict| = ${d.toExponential(2)}, folded ${dFold.toExponential(2)}`);
      expect(d).to.be.below(1e-5);
      expect(dFold).to.be.below(1e-5);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('passes onnx.checker (full_check) and strict shape inference where /usr/bin/python3 has onnx', async function () {
    const probe = fs.existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { env: pythonEnv() }).status === 0;
    if (!probe) {
      console.log('      skipped: /usr/bin/python3 cannot import onnx (apt-get install python3-onnx)');
      this.skip();
    }
    const tmp = tmpDir('onnx-check');
    try {
      const files = Object.keys(CONFIGS).flatMap((name, i) => [false, true].map((fold) => {
        const file = path.join(tmp, `${i}-${fold}.onnx`);
        fs.writeFileSync(file, dn.io.toOnnx(configModel(name), { foldBatchNorm: fold }));
        return file;
      }));
      const script = `
import json, sys, onnx
out = []
for f in sys.argv[1:]:
    m = onnx.load(f)
    onnx.checker.check_model(m, full_check=True)
    onnx.shape_inference.infer_shapes(m, strict_mode=True)
    out.append([m.ir_version, m.opset_import[0].version, m.graph.input[0].type.tensor_type.shape.dim[0].dim_param])
print(json.dumps(out))
`;
      const r = spawnSync('/usr/bin/python3', ['-c', script, ...files], { encoding: 'utf8', env: pythonEnv(), timeout: 60000 });
      expect(r.status, r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout)).to.deep.equal(files.map(() => [8, 17, 'batch']));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('checks its options and names unsupported pieces', async () => {
    const m = configModel('dense only, bias');
    expect(() => dn.io.toOnnx(m, { fold: true })).to.throw(RangeError, /fold/);
    expect(() => dn.io.toOnnx(m, { foldBatchNorm: 1 })).to.throw(TypeError);
    let e;
    try {
      await m.save('/tmp/x', { format: 'tfjs', foldBatchNorm: true });
    } catch (err) {
      e = err;
    }
    expect(e).to.be.instanceOf(RangeError);
    expect(() => dn.io.toOnnx(dn.sequential({ layers: [dn.layers.dense({ units: 2 })] }))).to.throw(/input size is unknown/);
  });
});

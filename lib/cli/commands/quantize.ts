/** densenorm quantize: a trained model as an int8 inference model (model.quantize), calibrated on a data file's rows. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as dn from '../../index';
import { flag, OptionSpec, parseCommandArgs, str } from '../args';
import { featureChunks, openTable } from '../data';
import { CliError, usageError } from '../errors';
import { loadModelDir, PREPROCESSING_FILE, rawFeatures } from '../model_dir';

export const QUANTIZE_OPTIONS: OptionSpec = {
  model: { type: 'string', short: 'm' },
  data: { type: 'string', short: 'd' },
  out: { type: 'string', short: 'o' },
  rows: { type: 'string' },
  json: { type: 'boolean' },
};

export const QUANTIZE_HELP = `Usage: densenorm quantize --model DIR [--data FILE] --out DIR [--rows N] [--json]

Writes an int8 inference copy of the model in DIR to --out: batch norm folded into the Dense
layers, per-channel int8 weights, activation scales calibrated on the first --rows rows of FILE
(default 1000; CSV or JSON lines with the model's feature columns, preprocessed as in training).
Without --data, a model trained on the bundled MNIST is calibrated on its training digits and
both models are evaluated on the 2,000 test digits. densenorm evaluate and predict read the
result; so does dn.loadModel.`;

export async function quantize(argv: string[]): Promise<number> {
  const values = parseCommandArgs('quantize', argv, QUANTIZE_OPTIONS);
  if (flag(values, 'help')) {
    console.log(QUANTIZE_HELP);
    return 0;
  }
  const dir = str(values, 'model');
  const out = str(values, 'out');
  const file = str(values, 'data');
  if (dir === undefined) throw usageError('densenorm quantize: --model DIR is required');
  if (out === undefined) throw usageError('densenorm quantize: --out DIR is required');
  if (path.resolve(out) === path.resolve(dir)) throw usageError('densenorm quantize: --out must differ from --model');
  const rowsText = str(values, 'rows') ?? '1000';
  const want = Number(rowsText);
  if (!Number.isInteger(want) || want < 1) throw usageError(`densenorm quantize: --rows must be a positive integer, got "${rowsText}"`);
  const { model, pre } = await loadModelDir(dir);
  if (!(model instanceof dn.Sequential)) throw new CliError(`${dir}: is already an int8 model`);
  const inDim = model.inputDim!;
  let calib: Float32Array;
  let mnist: ReturnType<typeof dn.loadMnist> | undefined;
  if (file === undefined) {
    if (pre.source !== 'mnist') throw usageError(`densenorm quantize: --data FILE is required (the model was trained on ${pre.source})`);
    mnist = dn.loadMnist();
    calib = mnist.xTrain.data.slice(0, Math.min(want, mnist.xTrain.shape[0]) * inDim);
  } else {
    const table = await openTable(file);
    rawFeatures(pre, table.header, undefined, inDim, file);
    const parts: Float32Array[] = [];
    let rows = 0;
    for await (const c of featureChunks(table, pre.features, pre.mean, pre.std, undefined)) {
      const take = Math.min(c.rows, want - rows);
      parts.push(c.x.subarray(0, take * inDim));
      rows += take;
      if (rows >= want) break;
    }
    if (rows === 0) throw new CliError(`${file}: no data rows to calibrate on`);
    calib = new Float32Array(rows * inDim);
    let o = 0;
    for (const p of parts) {
      calib.set(p, o);
      o += p.length;
    }
  }
  let q: dn.QuantizedModel;
  try {
    q = model.quantize({ calibrationData: dn.tensor(calib, [calib.length / inDim, inDim]) });
  } catch (e) {
    throw new CliError(`densenorm quantize: ${(e as Error).message}`);
  }
  await q.save(out);
  const preFile = path.join(dir, PREPROCESSING_FILE);
  await fs.promises.copyFile(preFile, path.join(out, PREPROCESSING_FILE)).catch(() => undefined);
  const report: Record<string, unknown> = { out, path: q.path, calibrationRows: calib.length / inDim };
  const size = (d: string): number => fs.statSync(path.join(d, 'weights.safetensors')).size;
  report.weightsBytes = size(out);
  report.fp32WeightsBytes = size(dir);
  if (mnist) {
    const labels = dn.tensor(Float32Array.from(mnist.labelsTest), [mnist.labelsTest.length, 1]);
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    q.compile({ loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    report.fp32TestAccuracy = model.evaluate(mnist.xTest, labels).accuracy;
    report.int8TestAccuracy = q.evaluate(mnist.xTest, labels).accuracy;
  }
  if (flag(values, 'json')) {
    console.log(JSON.stringify(report));
    return 0;
  }
  console.log(`Wrote int8 model to ${out} (${q.path} kernels, calibrated on ${report.calibrationRows} rows)`);
  console.log(`weights:   ${report.weightsBytes} bytes (fp32: ${report.fp32WeightsBytes})`);
  if (mnist) {
    const pct = (v: unknown): string => `${((v as number) * 100).toFixed(2)}%`;
    console.log(`MNIST test accuracy: fp32 ${pct(report.fp32TestAccuracy)}, int8 ${pct(report.int8TestAccuracy)}`);
  }
  return 0;
}

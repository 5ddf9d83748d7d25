/** densenorm evaluate: loss and accuracy (classification) or MSE, MAE and R² (regression), streamed. */
import * as dn from '../../index';
import { flag, OptionSpec, parseCommandArgs, str } from '../args';
import { classKey, featureChunks, openTable } from '../data';
import { CliError, usageError } from '../errors';
import { RegressionAccumulator } from '../metrics';
import { loadModelDir, rawFeatures } from '../model_dir';
import { fmtInt, fmtMetric } from '../progress';

export const EVALUATE_OPTIONS: OptionSpec = {
  model: { type: 'string', short: 'm' },
  data: { type: 'string', short: 'd' },
  label: { type: 'string', short: 'l' },
  json: { type: 'boolean' },
};

export const EVALUATE_HELP = `Usage: densenorm evaluate --model DIR [--data FILE] [--label COLUMN] [--json]

Prints loss and accuracy (classifiers) or MSE, MAE and R² (regressors) of a model written by
densenorm train, on a CSV / JSON-lines file read as a stream. The label column defaults to the
one the model was trained with. DIR may also be a TensorFlow.js layers model: without a
preprocessing.json its features are the file's other columns in order, unscaled, and its classes
0..k-1 (a single non-softmax output is a regressor). Without --data, a model trained on the bundled MNIST is
evaluated on the 2,000 bundled test digits.`;

export async function evaluate(argv: string[]): Promise<number> {
  const values = parseCommandArgs('evaluate', argv, EVALUATE_OPTIONS);
  if (flag(values, 'help')) {
    console.log(EVALUATE_HELP);
    return 0;
  }
  const dir = str(values, 'model');
  if (dir === undefined) throw usageError('densenorm evaluate: --model DIR is required');
  const file = str(values, 'data');
  const { model, pre } = await loadModelDir(dir);
  const classify = pre.task === 'classification';
  if (classify) model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const json = flag(values, 'json');
  let rows = 0;
  let lossSum = 0;
  let correct = 0;
  const reg = new RegressionAccumulator();
  let source: string;
  if (file === undefined) {
    if (pre.source !== 'mnist') throw usageError(`densenorm evaluate: --data FILE is required (the model was trained on ${pre.source})`);
    const m = dn.loadMnist();
    const r = model.evaluate(m.xTest, dn.tensor(Float32Array.from(m.labelsTest), [m.labelsTest.length, 1]));
    rows = m.labelsTest.length;
    lossSum = r.loss * rows;
    correct = (r.accuracy ?? 0) * rows;
    source = 'MNIST test split (bundled)';
  } else {
    const table = await openTable(file);
    rawFeatures(pre, table.header, str(values, 'label'), model.inputDim!, file);
    if (pre.raw && !pre.label) throw usageError('densenorm evaluate: --label COLUMN is required for a model without preprocessing.json');
    const label = str(values, 'label') ?? pre.label;
    const classIds = new Map((pre.classes ?? []).map((c, i) => [c, i]));
    for await (const c of featureChunks(table, pre.features, pre.mean, pre.std, label)) {
      const y = new Float32Array(c.rows);
      for (let i = 0; i < c.rows; i++) {
        const l = c.labels[i];
        if (l === undefined) throw new CliError(`${file} line ${c.lines[i]}: the label column "${label}" is empty`);
        if (classify) {
          const id = classIds.get(classKey(l, pre.numericClasses === true && !Number.isNaN(Number(l))));
          if (id === undefined) throw new CliError(`${file} line ${c.lines[i]}: label ${JSON.stringify(l)} is not one of the model's classes (${pre.classes!.join(', ')})`);
          y[i] = id;
        } else {
          const v = Number(l);
          if (!Number.isFinite(v)) throw new CliError(`${file} line ${c.lines[i]}: column "${label}" should be a number but has ${JSON.stringify(l)}`);
          y[i] = v;
        }
      }
      const x = dn.tensor(c.x, [c.rows, pre.features.length]);
      if (classify) {
        const r = model.evaluate(x, dn.tensor(y, [c.rows, 1]));
        lossSum += r.loss * c.rows;
        correct += (r.accuracy ?? 0) * c.rows;
      } else {
        const p = model.predict(x).data;
        const t = pre.target!;
        for (let i = 0; i < c.rows; i++) reg.add(p[i] * t.std + t.mean, y[i]);
      }
      rows += c.rows;
    }
    source = file;
  }
  if (classify) {
    const loss = lossSum / rows;
    const accuracy = correct / rows;
    if (json) console.log(JSON.stringify({ task: 'classification', rows, loss, accuracy }));
    else console.log(`${source}: ${fmtInt(rows)} rows  loss ${fmtMetric(loss)}  accuracy ${(accuracy * 100).toFixed(2)}%`);
  } else {
    const m = reg.result();
    if (json) console.log(JSON.stringify({ task: 'regression', rows, ...m }));
    else console.log(`${source}: ${fmtInt(rows)} rows  mse ${fmtMetric(m.mse)}  mae ${fmtMetric(m.mae)}  r2 ${fmtMetric(m.r2)}`);
  }
  return 0;
}

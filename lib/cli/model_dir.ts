/**
 * What the CLI keeps beside a saved model: preprocessing.json (feature names and the
 * standardization statistics of the training split, the label and its classes, the target
 * scaling for regression, and how the model was trained). The library's model.json and
 * weights.safetensors are untouched, so dn.loadModel(dir) still reads the directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as dn from '../index';
import { writeFileAtomic } from '../io/atomic';
import { CliError } from './errors';
import { Task } from './data';

export const PREPROCESSING_FILE = 'preprocessing.json';
export const PREPROCESSING_FORMAT = 'densenorm-cli-preprocessing';

export interface Preprocessing {
  format: typeof PREPROCESSING_FORMAT;
  formatVersion: 1;
  task: Task;
  /** 'mnist' for the bundled digits, else the training file's name. */
  source: string;
  features: string[];
  mean: number[];
  std: number[];
  label: string;
  classes?: string[];
  numericClasses?: boolean;
  /** Regression: the model predicts (y - mean) / std. */
  target?: { mean: number; std: number };
  training?: Record<string, unknown>;
  /**
   * Set for a model from another runtime without preprocessing.json (a TensorFlow.js directory):
   * the features are the data file's columns besides the label, in file order, unscaled.
   */
  raw?: boolean;
}

/** Whether dir holds a TensorFlow.js layers model (model.json with modelTopology). */
function isTfjsDir(dir: string): boolean {
  try {
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
    return typeof json === 'object' && json !== null && 'modelTopology' in json;
  } catch {
    return false;
  }
}

/**
 * Preprocessing for a foreign model without preprocessing.json: identity scaling; a single output
 * without softmax is a regressor, anything else a classifier with classes 0..k-1. The features
 * are filled in by rawFeatures once the data file's header is known.
 */
function rawPreprocessing(model: dn.Sequential): Preprocessing {
  const k = model.outputDim!;
  const last = model.layers[model.layers.length - 1] as dn.Layer & { activation?: string };
  const task: Task = k === 1 && last.activation !== 'softmax' ? 'regression' : 'classification';
  return {
    format: PREPROCESSING_FORMAT,
    formatVersion: 1,
    task,
    source: 'a model without preprocessing.json',
    features: [],
    mean: [],
    std: [],
    label: '',
    ...(task === 'classification' ? { classes: Array.from({ length: k }, (_, i) => String(i)), numericClasses: true } : { target: { mean: 0, std: 1 } }),
    raw: true,
  };
}

/** For a raw model: the header's columns besides the label are the features, unscaled. */
export function rawFeatures(pre: Preprocessing, header: readonly string[], label: string | undefined, inputDim: number, file: string): void {
  if (!pre.raw) return;
  const lab = label ?? (header.length === inputDim + 1 ? header[header.length - 1] : undefined);
  const features = header.filter((h) => h !== lab);
  if (features.length !== inputDim) {
    throw new CliError(`${file}: the model (no ${PREPROCESSING_FILE}) takes ${inputDim} features, but the file has ${features.length} columns besides ${lab === undefined ? 'no label' : `the label "${lab}"`}`);
  }
  pre.features = features;
  pre.mean = features.map(() => 0);
  pre.std = features.map(() => 1);
  pre.label = lab ?? '';
}

export async function saveModelDir(model: dn.Sequential, pre: Preprocessing, dir: string): Promise<void> {
  await model.save(dir);
  await writeFileAtomic(path.join(dir, PREPROCESSING_FILE), JSON.stringify(pre, null, 1) + '\n');
}

function isNumArray(v: unknown, n: number): v is number[] {
  return Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/** Loads a model directory written by `densenorm train` (model + preprocessing). */
export async function loadModelDir(dir: string): Promise<{ model: dn.Sequential | dn.QuantizedModel; pre: Preprocessing }> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(dir);
  } catch {
    throw new CliError(`${dir}: no such model directory`);
  }
  if (!st.isDirectory()) throw new CliError(`${dir}: is a file, expected a model directory (written by densenorm train --out DIR)`);
  let model: dn.Sequential | dn.QuantizedModel;
  try {
    model = await dn.loadModel(dir);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const file = path.join(dir, PREPROCESSING_FILE);
  let pre: Preprocessing;
  try {
    pre = JSON.parse(await fs.promises.readFile(file, 'utf8')) as Preprocessing;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && isTfjsDir(dir) && model instanceof dn.Sequential) return { model, pre: rawPreprocessing(model) };
    throw new CliError(
      code === 'ENOENT'
        ? `${dir}: a densenorm model, but without ${PREPROCESSING_FILE}; the CLI only reads models written by densenorm train`
        : `${file}: cannot read (${code ?? (e as Error).message})`,
    );
  }
  const inDim = model.inputDim!;
  const outDim = model.outputDim!;
  const bad = (what: string): never => {
    throw new CliError(`${file}: ${what}`);
  };
  if (!pre || pre.format !== PREPROCESSING_FORMAT) bad(`not a densenorm CLI preprocessing file`);
  if (pre.task !== 'classification' && pre.task !== 'regression') bad(`unknown task ${JSON.stringify(pre.task)}`);
  if (!Array.isArray(pre.features) || pre.features.length !== inDim || !pre.features.every((f) => typeof f === 'string')) {
    bad(`expected ${inDim} feature names (the model's input size)`);
  }
  if (pre.raw) bad('"raw" is set by densenorm for models without this file');
  if (!isNumArray(pre.mean, inDim) || !isNumArray(pre.std, inDim) || pre.std.some((s) => s <= 0)) bad('invalid mean/std');
  if (pre.task === 'classification' && (!Array.isArray(pre.classes) || pre.classes.length !== outDim)) bad(`expected ${outDim} class names`);
  if (pre.task === 'regression' && (outDim !== 1 || !pre.target || !(pre.target.std > 0))) bad('invalid regression target scaling');
  return { model, pre };
}

export interface Architecture {
  inputDim: number;
  hidden: number[];
  activation: dn.ActivationName;
  batchNorm: boolean;
  bnPosition: 'before' | 'after';
  outputs: number;
  task: Task;
  /** Rate of a dropout layer after each hidden block; 0 or undefined: none. */
  dropout?: number;
  /** L2 penalty on every Dense kernel; 0 or undefined: none. */
  l2?: number;
}

/**
 * Dense layers with batch norm before the nonlinearity (Dense without bias → BN → activation,
 * as Ioffe & Szegedy) or after it (Dense+activation → BN), then Dropout when asked; softmax or linear output.
 */
export function buildModel(a: Architecture): dn.Sequential {
  const model = dn.sequential();
  let first = true;
  const inputShape = (): { inputShape?: [number] } => {
    if (!first) return {};
    first = false;
    return { inputShape: [a.inputDim] };
  };
  const reg = a.l2 ? { kernelRegularizer: dn.regularizers.l2({ l2: a.l2 }) } : {};
  for (const units of a.hidden) {
    if (!a.batchNorm) {
      model.add(dn.layers.dense({ units, activation: a.activation, ...reg, ...inputShape() }));
    } else if (a.bnPosition === 'before') {
      model.add(dn.layers.dense({ units, useBias: false, ...reg, ...inputShape() }));
      model.add(dn.layers.batchNormalization());
      model.add(dn.layers.activation({ activation: a.activation }));
    } else {
      model.add(dn.layers.dense({ units, activation: a.activation, ...reg, ...inputShape() }));
      model.add(dn.layers.batchNormalization());
    }
    if (a.dropout) model.add(dn.layers.dropout({ rate: a.dropout }));
  }
  model.add(dn.layers.dense({ units: a.outputs, activation: a.task === 'classification' ? 'softmax' : 'linear', ...reg, ...inputShape() }));
  return model;
}

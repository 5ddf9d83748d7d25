/** Checks of what callers hand a model: finite inputs, targets the loss can read, batch sizes the workspace can hold. */
import type { Layer } from '../layers/layer';
import { MAX_WORKSPACE_VALUES } from '../limits';
import type { LossName } from '../losses';
import { native } from '../native';
import { Tensor, TensorLike, toTensor2D } from '../tensor';
import { checkObject, checkPositiveInt, checkUnknownKeys, describe, typeError } from '../validate';

/** Rows per native inference call when the caller gives no batchSize. */
export const PREDICT_CHUNK = 1024;

/** RangeError at the first NaN or ±Infinity; the scan is native since it runs on every batch. */
export function checkFinite(data: Float32Array, argName: string): void {
  const i = native.firstNonFinite(data);
  if (i >= 0) {
    throw new RangeError(`Expected finite values for ${argName} but received ${describe(data[i])} at index ${i}`);
  }
}

/** Targets as the native loss reads them: [rows, outputs], or [rows] class ids for the sparse loss. */
export function targetTensor(y: TensorLike, rows: number, loss: LossName, out: number, argName = 'y'): Float32Array {
  if (loss === 'sparseCategoricalCrossentropy') {
    const t = toTensor2D(y, argName, 1);
    if (t.shape[0] !== rows) throw new RangeError(`Expected ${rows} rows (as many as x) for ${argName} but received ${t.shape[0]}`);
    for (let i = 0; i < t.data.length; i++) {
      const v = t.data[i];
      if (!Number.isInteger(v) || v < 0 || v >= out) {
        throw new RangeError(`Expected class ids in [0, ${out}) for ${argName} but received ${describe(v)} at row ${i}`);
      }
    }
    return t.data;
  }
  const t = toTensor2D(y, argName, out);
  if (t.shape[0] !== rows) throw new RangeError(`Expected ${rows} rows (as many as x) for ${argName} but received ${t.shape[0]}`);
  checkFinite(t.data, argName);
  return t.data;
}

/**
 * fit's per-row loss weights, as Keras: sampleWeight ([rows] or [rows, 1], finite, ≥ 0), or
 * classWeight ({ class: weight }; a row's class is its class id, the argmax of a one-hot row, or
 * the rounded value of a single-column target; classes absent weigh 1). Both at once is an error;
 * neither gives undefined (every row weighs 1, and the native loss skips the weighting).
 */
export function sampleWeights(
  o: { sampleWeight?: unknown; classWeight?: unknown },
  y: Float32Array,
  rows: number,
  outDim: number,
  loss: LossName,
): Float32Array | undefined {
  if (o.sampleWeight !== undefined && o.classWeight !== undefined) {
    throw new TypeError('Expected sampleWeight or classWeight for fit args but received both (Keras accepts one)');
  }
  if (o.sampleWeight !== undefined) {
    const t = toTensor2D(o.sampleWeight as TensorLike, 'sampleWeight', 1);
    if (t.shape[0] !== rows) throw new RangeError(`Expected ${rows} rows (as many as x) for sampleWeight but received ${t.shape[0]}`);
    checkFinite(t.data, 'sampleWeight');
    const neg = t.data.findIndex((v) => v < 0);
    if (neg >= 0) throw new RangeError(`Expected weights >= 0 for sampleWeight but received ${describe(t.data[neg])} at row ${neg}`);
    return t.data;
  }
  if (o.classWeight === undefined) return undefined;
  const cw = checkObject('classWeight', o.classWeight);
  const classes = loss === 'sparseCategoricalCrossentropy' || outDim === 1 ? Math.max(outDim, 2) : outDim;
  const table = new Float32Array(classes).fill(1);
  for (const [k, v] of Object.entries(cw)) {
    const c = Number(k);
    if (!Number.isInteger(c) || c < 0 || c >= classes) throw new RangeError(`Expected class ids in [0, ${classes}) as classWeight keys but received ${describe(k)}`);
    if (typeof v !== 'number') throw typeError('a number', `classWeight[${k}]`, v);
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`Expected a finite weight >= 0 for classWeight[${k}] but received ${describe(v)}`);
    table[c] = v;
  }
  const w = new Float32Array(rows);
  const perRow = y.length / rows;
  for (let i = 0; i < rows; i++) {
    let c: number;
    if (perRow === 1) c = Math.round(y[i]);
    else {
      c = 0;
      for (let j = 1; j < perRow; j++) if (y[i * perRow + j] > y[i * perRow + c]) c = j;
    }
    w[i] = table[Math.min(Math.max(c, 0), classes - 1)];
  }
  return w;
}

/** Most rows one native call may take: the workspace is rows × the widest layer. */
export function maxRowsPerCall(layers: readonly Layer[], inputDim: number | undefined): number {
  let width = inputDim ?? 1;
  let dim = inputDim;
  for (const l of layers) {
    if (dim === undefined) break;
    dim = l.outputDim(dim);
    width = Math.max(width, dim);
  }
  return Math.max(1, Math.floor(MAX_WORKSPACE_VALUES / width));
}

/** RangeError when a training batch of `rows` would need more than the workspace limit. */
export function checkTrainRows(maxRows: number, rows: number, argName: string): void {
  if (rows > maxRows) {
    throw new RangeError(
      `Expected at most ${maxRows} rows per training step for this model (rows × widest layer <= ${MAX_WORKSPACE_VALUES} workspace values) for ${argName} but received ${rows}`,
    );
  }
}

/** Rows per native call for inference: the requested batchSize, capped by the workspace limit. */
export function inferenceChunk(args: unknown, what: string, maxRows: number): number {
  const a = checkObject(`${what} args`, args);
  checkUnknownKeys(`${what} args`, a, ['batchSize']);
  const chunk = a.batchSize !== undefined ? checkPositiveInt('batchSize', a.batchSize) : PREDICT_CHUNK;
  return Math.min(chunk, maxRows);
}

/** setWeights' values, checked against every weight of the layers (same order and shapes as getWeights). */
export function weightValues(layers: readonly Layer[], weights: TensorLike[]): Float32Array[] {
  if (!Array.isArray(weights)) throw typeError('an array of tensors', 'weights', weights);
  const all = layers.flatMap((l) => l.weights.map((w) => ({ l, w })));
  if (weights.length !== all.length) {
    throw new RangeError(`Expected ${all.length} tensors for weights but received ${weights.length}`);
  }
  const values: Float32Array[] = weights.map((t, i) => {
    const { w, l } = all[i];
    const data = t instanceof Tensor ? t.data : toTensor2D(t, `weights[${i}]`).data;
    if (t instanceof Tensor && t.shape.join(',') !== w.shape.join(',')) {
      throw new RangeError(`Expected shape [${w.shape}] for weights[${i}] (${l.name}/${w.name}) but received [${t.shape}]`);
    }
    if (data.length !== w.value.length) {
      throw new RangeError(`Expected ${w.value.length} values (shape [${w.shape}]) for weights[${i}] (${l.name}/${w.name}) but received ${data.length}`);
    }
    return data;
  });
  return values;
}

/** fit's training rows and held-out rows. */
export interface HeldOut {
  /** Training rows: the first rows of x. */
  rows: number;
  valX?: Float32Array;
  valY?: Float32Array;
  valRows: number;
}

/** validationData as given (checked like x and y), else the last validationSplit fraction of x and y (as Keras). */
export function holdOut(
  o: { validationData?: unknown; validationSplit: number },
  xt: Tensor,
  y: Float32Array,
  inDim: number,
  outDim: number,
  loss: LossName,
): HeldOut {
  let rows = xt.shape[0];
  if (o.validationData !== undefined) {
    if (!Array.isArray(o.validationData) || o.validationData.length !== 2) {
      throw typeError('[xVal, yVal]', 'validationData', o.validationData);
    }
    const vx = toTensor2D(o.validationData[0] as TensorLike, 'validationData[0]', inDim);
    checkFinite(vx.data, 'validationData[0]');
    const valRows = vx.shape[0];
    return { rows, valX: vx.data, valY: targetTensor(o.validationData[1] as TensorLike, valRows, loss, outDim, 'validationData[1]'), valRows };
  }
  if (o.validationSplit > 0) {
    const valRows = Math.floor(rows * o.validationSplit);
    if (valRows < 1 || valRows >= rows) {
      throw new RangeError(`Expected a validationSplit leaving rows on both sides for validationSplit but received ${o.validationSplit} of ${rows} rows`);
    }
    const yPerRow = y.length / rows;
    rows -= valRows;
    return { rows, valX: xt.data.subarray(rows * inDim), valY: y.subarray(rows * yPerRow), valRows };
  }
  return { rows, valRows: 0 };
}

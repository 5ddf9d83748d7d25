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

/** compile's metrics: whether they ask for accuracy ('accuracy' or 'acc', the only metric). */
export function wantsAccuracy(metrics: unknown): boolean {
  let accuracy = false;
  if (metrics !== undefined) {
    const ms = typeof metrics === 'string' ? [metrics] : metrics;
    if (!Array.isArray(ms)) throw typeError("an array of metric names (['accuracy'])", 'metrics', metrics);
    for (const m of ms) {
      if (m === 'accuracy' || m === 'acc') accuracy = true;
      else throw new RangeError(`Expected "accuracy" or "acc" for metrics but received ${describe(m)}`);
    }
  }
  return accuracy;
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

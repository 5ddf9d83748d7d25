/**
 * fitDataset's loop (tfjs-layers' model.fitDataset): batches pulled one at a time from an (async)
 * iterable of { xs, ys }, one optimizer step each through the same step, epoch loop, logs and
 * History as fit, so only the batch in hand is held.
 */
import type { TensorLike } from '../tensor';
import { checkObject, checkPositiveInt, checkUnknownKeys, describe, typeError } from '../validate';
import { MetricSums, NativeMetric } from '../metrics';
import { callEach } from './callback_api';
import { Callbacks, EpochTotals, FitOptions, History, StepContext, ValidationResult, epochTotals, parseFitArgs, stepBatch, trainEpochs } from './training';

/** One batch a dataset yields: features [rows, inputs] and targets as fit's y. */
export interface DatasetBatch {
  xs: TensorLike;
  ys: TensorLike;
}

/** Any iterable or async iterable of batches (an array, a generator, a tf.data-like object). */
export type Dataset = AsyncIterable<DatasetBatch> | Iterable<DatasetBatch>;

export interface FitDatasetArgs {
  /** Passes over the dataset. Default 1. */
  epochs?: number;
  /**
   * Batches per epoch. Default: until the dataset's iterator is done, with a fresh iterator each
   * epoch. Given: one iterator continues across epochs (tfjs), and training stops, with a warning,
   * when it runs out.
   */
  batchesPerEpoch?: number;
  /** Evaluated after every epoch (inference mode): an [x, y] pair, or a dataset of batches read in full. */
  validationData?: [TensorLike, TensorLike] | Dataset;
  /** Callbacks (an object, or a list of them), as fit's. */
  callbacks?: Callbacks | Callbacks[];
  /** Epoch to start counting from. Default 0. */
  initialEpoch?: number;
  /** 0 silent (default), 1 one line per epoch on stderr. */
  verbose?: number;
  /** Stops after the current batch when aborted. */
  signal?: AbortSignal;
}

export interface FitDatasetOptions extends Pick<FitOptions, 'epochs' | 'initialEpoch' | 'callbacks' | 'verbose' | 'signal'> {
  batchesPerEpoch?: number;
  validationData?: [TensorLike, TensorLike] | Dataset;
}

const FIT_DATASET_KEYS = ['epochs', 'batchesPerEpoch', 'validationData', 'callbacks', 'initialEpoch', 'verbose', 'signal'];

type AnyIterator = AsyncIterator<unknown> | Iterator<unknown>;

export function isDataset(v: unknown): v is Dataset {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return false;
  const o = v as Record<symbol, unknown>;
  return typeof o[Symbol.asyncIterator] === 'function' || typeof o[Symbol.iterator] === 'function';
}

/** A new iteration of the dataset (its async iterator when it has one). */
export function openIterator(dataset: Dataset, argName: string): AnyIterator {
  const o = dataset as unknown as Record<symbol, (() => AnyIterator) | undefined>;
  const f = o[Symbol.asyncIterator] ?? o[Symbol.iterator];
  const it = f?.call(dataset);
  if (it === null || typeof it !== 'object' || typeof (it as AnyIterator).next !== 'function') {
    throw typeError('an (async) iterable whose iterator has next()', argName, it);
  }
  return it;
}

/** validationData as [x, y] (an array of two that are not { xs, ys } batches), not a dataset. */
export function isValidationPair(v: unknown): v is [TensorLike, TensorLike] {
  const isBatch = (b: unknown): boolean => b !== null && typeof b === 'object' && 'xs' in b;
  return Array.isArray(v) && v.length === 2 && !isBatch(v[0]) && !isBatch(v[1]);
}

export function parseFitDatasetArgs(dataset: unknown, args: FitDatasetArgs): FitDatasetOptions {
  if (!isDataset(dataset)) throw typeError('an (async) iterable of { xs, ys } batches', 'dataset', dataset);
  const a = checkObject('fitDataset args', args) as FitDatasetArgs;
  checkUnknownKeys('fitDataset args', a as Record<string, unknown>, FIT_DATASET_KEYS);
  const common = parseFitArgs({ epochs: a.epochs, initialEpoch: a.initialEpoch, callbacks: a.callbacks, verbose: a.verbose, signal: a.signal });
  const batchesPerEpoch = a.batchesPerEpoch === undefined ? undefined : checkPositiveInt('batchesPerEpoch', a.batchesPerEpoch);
  const v = a.validationData;
  if (v !== undefined && !isValidationPair(v) && !isDataset(v)) {
    throw typeError('[xVal, yVal] or a dataset of { xs, ys } batches', 'validationData', v);
  }
  const { epochs, initialEpoch, callbacks, verbose, signal } = common;
  return { epochs, initialEpoch, callbacks, verbose, signal, batchesPerEpoch, validationData: v };
}

/** A yielded value as { xs, ys }, or a TypeError naming the batch. */
export function batchParts(value: unknown, where: string): DatasetBatch {
  if (value === null || typeof value !== 'object' || !('xs' in value) || !('ys' in value)) {
    throw typeError('a batch { xs, ys }', where, value);
  }
  return value as DatasetBatch;
}

/** A batch checked and converted by the model: rows and the arrays the native step reads. */
export interface StepBatch {
  x: Float32Array;
  n: number;
  y: Float32Array;
}

export interface DatasetFit extends StepContext {
  dataset: Dataset;
  o: FitDatasetOptions;
  /** Checks and converts a yielded value; errors name `where` (e.g. "dataset batch 3 (epoch 0)"). */
  batch(value: unknown, where: string): StepBatch;
  /** Validation after each epoch, if any. */
  validate?: () => Promise<ValidationResult>;
  /** Handed to each callback's setModel. */
  model?: unknown;
}

/** fitDataset's epochs over the dataset's batches. */
export async function fitDatasetLoop(m: DatasetFit): Promise<History> {
  const { o } = m;
  const per = o.batchesPerEpoch;
  const shared = per !== undefined ? openIterator(m.dataset, 'dataset') : undefined;
  let ranOut = false;
  const stopRequested = (): boolean => ranOut || m.stopRequested();
  const runEpoch = async (epoch: number): Promise<EpochTotals | undefined> => {
    if (ranOut) return undefined;
    const it = shared ?? openIterator(m.dataset, 'dataset');
    const t: EpochTotals = epochTotals(m.metrics);
    let finished = false;
    try {
      for (let b = 0; per === undefined || b < per; b++) {
        if (m.stopRequested()) break;
        const r = await it.next();
        if (r.done) {
          if (per !== undefined) {
            ranOut = true;
            console.warn(
              `fitDataset: the dataset ran out of data after ${b} batch${b === 1 ? '' : 'es'} of epoch ${epoch} (batchesPerEpoch ${per}); ` +
                `training stops. A dataset given batchesPerEpoch should yield at least batchesPerEpoch × epochs = ${per * o.epochs} batches.`,
            );
          } else finished = true;
          break;
        }
        const { x, n, y } = m.batch(r.value, `dataset batch ${b} (epoch ${epoch})`);
        await callEach(m, (cb) => cb.onBatchBegin?.(b));
        await stepBatch(m, epoch, b, x, n, y, t);
      }
    } finally {
      // A fresh iterator per epoch is closed when the epoch ends early (stop, error): its file or stream is released.
      if (!shared && !finished) await it.return?.();
    }
    if (t.batches === 0) {
      if (ranOut || m.stopRequested()) return undefined;
      const again = epoch > o.initialEpoch
        ? '; an iterator (e.g. a generator object) is used up after one pass: pass an iterable that starts over on every [Symbol.asyncIterator]() call, or give batchesPerEpoch'
        : '';
      throw new RangeError(`Expected at least one batch per epoch for dataset but received none in epoch ${epoch}${again}`);
    }
    return t;
  };
  return trainEpochs({ ...m, stopRequested }, o, { runEpoch, accuracy: m.accuracy, validate: m.validate, model: m.model });
}

/** Loss and accuracy over every batch of a validation dataset (inference mode), weighted by rows. */
export async function evaluateDataset(
  dataset: Dataset,
  evaluate: (value: unknown, where: string) => { loss: number; correct: number; count: number; n: number; metrics?: Float64Array },
  metrics: readonly NativeMetric[] = [],
): Promise<ValidationResult> {
  const it = openIterator(dataset, 'validationData');
  let loss = 0;
  let correct = 0;
  let count = 0;
  let rows = 0;
  const sums = new MetricSums(metrics);
  for (let b = 0; ; b++) {
    const r = await it.next();
    if (r.done) break;
    const e = evaluate(r.value, `validationData batch ${b}`);
    loss += e.loss * e.n;
    correct += e.correct;
    count += e.count;
    rows += e.n;
    sums.add(e.metrics);
  }
  if (rows === 0) throw new RangeError(`Expected at least one batch for validationData but received ${describe(dataset)} yielding none`);
  return { loss: loss / rows, acc: count > 0 ? correct / count : NaN, metrics: sums.values() };
}

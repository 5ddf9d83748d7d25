/**
 * fit's batch loop: the batch plan of an epoch and one epoch of training steps, run either natively
 * in one hop (no callback looks at single batches) or batch by batch with the callbacks.
 */
import { DensenormError } from '../errors';
import { BatchNormalization } from '../layers/batch_normalization';
import type { Layer } from '../layers/layer';
import { NativeNet, StepResult, native } from '../native';
import type { Optimizer } from '../optimizers/optimizer';
import type { TensorLike } from '../tensor';
import { checkBoolean, checkNonNegInt, checkNumber, checkObject, checkPositiveInt, checkUnknownKeys, typeError } from '../validate';

/** Values passed to callbacks; `acc` only when compiled with metrics: ['accuracy']. */
export interface Logs {
  loss: number;
  acc?: number;
  val_loss?: number;
  val_acc?: number;
  batch?: number;
  size?: number;
  [key: string]: number | undefined;
}

export interface Callbacks {
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  /**
   * true: onBatchEnd only watches (a progress bar, a log): it is fed from the native loop as
   * batches finish, with the same logs, while training goes on without pausing for it, so fit
   * keeps its one-hop-per-epoch speed. A stopTraining it sets takes effect at the next batch the
   * loop starts. Such a callback may not have onBatchBegin.
   */
  observesBatches?: boolean;
}

export interface FitArgs {
  /** Passes over the data. Default 1. */
  epochs?: number;
  /** Rows per training step. Default 32. */
  batchSize?: number;
  /** Shuffle rows every epoch. Default true. */
  shuffle?: boolean;
  /** Held-out data evaluated after every epoch (inference mode). */
  validationData?: [TensorLike, TensorLike];
  /** Fraction of rows, taken from the END before shuffling (as Keras), held out for validation. */
  validationSplit?: number;
  /** Seed for shuffling; default: drawn from the global generator (dn.setSeed). */
  seed?: number;
  /** Epoch to start counting from. Default 0. */
  initialEpoch?: number;
  /** Callbacks (an object, or a list of them). */
  callbacks?: Callbacks | Callbacks[];
  /** Stops after the current batch when aborted. */
  signal?: AbortSignal;
  /** 0 silent (default here), 1 one line per epoch on stderr. */
  verbose?: number;
}

export interface History {
  epoch: number[];
  history: { loss: number[]; acc?: number[]; val_loss?: number[]; val_acc?: number[]; [k: string]: number[] | undefined };
}

/** FitArgs checked, with their defaults filled in. */
export interface FitOptions {
  epochs: number;
  batchSize: number;
  shuffle: boolean;
  initialEpoch: number;
  validationSplit: number;
  validationData?: unknown;
  seed?: number;
  callbacks: Callbacks[];
  signal?: AbortSignal;
  verbose?: number;
}

const CALLBACK_KEYS = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'];
const FIT_KEYS = ['epochs', 'batchSize', 'shuffle', 'validationData', 'validationSplit', 'seed', 'initialEpoch', 'callbacks', 'signal', 'verbose'];

export function parseFitArgs(args: FitArgs): FitOptions {
  const a = checkObject('fit args', args) as FitArgs;
  checkUnknownKeys('fit args', a as Record<string, unknown>, FIT_KEYS);
  const epochs = a.epochs === undefined ? 1 : checkPositiveInt('epochs', a.epochs);
  const batchSize = a.batchSize === undefined ? 32 : checkPositiveInt('batchSize', a.batchSize);
  const shuffle = a.shuffle === undefined ? true : checkBoolean('shuffle', a.shuffle);
  const initialEpoch = a.initialEpoch === undefined ? 0 : checkNonNegInt('initialEpoch', a.initialEpoch);
  const validationSplit = a.validationSplit === undefined ? 0 : checkNumber('validationSplit', a.validationSplit, { min: 0, max: 1, maxExclusive: true });
  const seed = a.seed === undefined ? undefined : checkNonNegInt('seed', a.seed);
  const callbacks = a.callbacks === undefined ? [] : Array.isArray(a.callbacks) ? a.callbacks : [a.callbacks];
  for (const cb of callbacks) {
    if (cb === null || typeof cb !== 'object') throw typeError('an object of callback functions', 'callbacks', cb);
    for (const k of CALLBACK_KEYS) {
      const f = (cb as Record<string, unknown>)[k];
      if (f !== undefined && typeof f !== 'function') throw typeError('a function', `callbacks.${k}`, f);
    }
    const c = cb as Callbacks;
    if (c.observesBatches !== undefined && typeof c.observesBatches !== 'boolean') throw typeError('a boolean', 'callbacks.observesBatches', c.observesBatches);
    if (c.observesBatches && c.onBatchBegin) {
      throw new TypeError('Expected no onBatchBegin on a callback with observesBatches: true (it watches batches after they ran) but received one');
    }
  }
  return { epochs, batchSize, shuffle, initialEpoch, validationSplit, validationData: a.validationData, seed, callbacks, signal: a.signal, verbose: a.verbose };
}

/** An empty History with the keys fit will fill. */
function newHistory(accuracy: boolean, validation: boolean): History {
  const history: History = { epoch: [], history: { loss: [] } };
  if (accuracy) history.history.acc = [];
  if (validation) {
    history.history.val_loss = [];
    if (accuracy) history.history.val_acc = [];
  }
  return history;
}

/** Appends an epoch's logs to the history. */
function recordEpoch(history: History, epoch: number, logs: Logs): void {
  history.epoch.push(epoch);
  for (const k of Object.keys(logs)) {
    const v = logs[k];
    if (v !== undefined) (history.history[k] ??= []).push(v);
  }
}

/** "loss=0.1234 acc=0.9000": the verbose epoch line. */
function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${(v as number).toFixed(4)}`)
    .join(' ');
}

/** How an epoch's rows split into batches: consecutive runs of the (shuffled) row order. */
export interface BatchPlan {
  readonly rows: number;
  readonly batchSize: number;
  /** Number of batches. */
  readonly batches: number;
  /** Rows in the largest batch (batchSize + 1 when a trailing row was folded in). */
  readonly maxSize: number;
  /** First row (position in the order) of batch i. */
  startOf(i: number): number;
  /** Rows in batch i. */
  sizeOf(i: number): number;
}

/**
 * Batches of batchSize rows and a shorter last one. With foldTrailingRow, a last batch of a single
 * row (which batch normalization cannot normalize) joins the batch before it.
 */
export function planBatches(rows: number, batchSize: number, foldTrailingRow = true): BatchPlan {
  checkNonNegInt('rows', rows);
  checkPositiveInt('batchSize', batchSize);
  let batches = Math.ceil(rows / batchSize);
  let last = rows - (batches - 1) * batchSize;
  if (foldTrailingRow && batches > 1 && last === 1) {
    batches--;
    last = batchSize + 1;
  }
  return {
    rows,
    batchSize,
    batches,
    maxSize: batches === 0 ? 0 : Math.max(last, batches > 1 ? batchSize : 0),
    startOf: (i) => i * batchSize,
    sizeOf: (i) => (i < batches - 1 ? batchSize : last),
  };
}

/** Whether training computes batch statistics: then every batch needs at least 2 rows. */
export function hasTrainableBatchNorm(layers: readonly Layer[]): boolean {
  return layers.some((l) => l instanceof BatchNormalization && l.trainable);
}

/** The error for a failed training step; the native step checks the loss before it writes anything. */
export function trainingError(epoch: number, batch: number, message: string, cause: unknown): DensenormError {
  return new DensenormError(
    `Training failed at epoch ${epoch}, batch ${batch}: ${message}; the weights are left as they were before this batch`,
    'ERR_TRAINING',
    { cause },
  );
}

/** What runEpoch needs; made once per fit by epochRun(). */
export interface EpochRunArgs {
  /** Training rows, [rows, inDim] row-major. */
  x: Float32Array;
  /** Targets, yPerRow values per row. */
  y: Float32Array;
  inDim: number;
  yPerRow: number;
  /** Row order, shuffled in place between epochs by the caller. */
  order: Int32Array;
  plan: BatchPlan;
  optimizer: Optimizer;
  accuracy: boolean;
  /** The native graph, asked for before each hop: a callback may have changed the model. */
  net(): NativeNet;
  /** Read by the native loop before each batch; the caller sets it to 1 to stop. */
  stop: Int32Array;
  /** Whether to stop before the next batch (stopTraining or an aborted signal). */
  stopRequested(): boolean;
  callbacks: readonly Callbacks[];
}

export interface EpochRun extends EpochRunArgs {
  /** Whether a callback looks at single batches, so batches go one native call each. */
  readonly perBatch: boolean;
  readonly bounds: Int32Array;
  readonly batchOut: Float64Array;
  readonly bx: Float32Array;
  readonly by: Float32Array;
}

/** Sums over the batches an epoch ran (all of them unless stopped). */
export interface EpochTotals {
  /** Σ batch loss × batch rows. */
  lossSum: number;
  correct: number;
  count: number;
  batches: number;
  /** Rows trained on. */
  rows: number;
}

/** What one training step with its callbacks needs (fit's epoch run, or fitDataset's). */
export interface StepContext {
  optimizer: Optimizer;
  accuracy: boolean;
  net(): NativeNet;
  callbacks: readonly Callbacks[];
}

/**
 * Batch b of an epoch as one native step, onBatchEnd after it (onBatchBegin is the caller's, before
 * it gathers the rows); adds the step to t. Shared by fit's per-batch path and fitDataset.
 */
export async function stepBatch(c: StepContext, epoch: number, b: number, x: Float32Array, n: number, y: Float32Array, t: EpochTotals): Promise<void> {
  const net = c.net();
  net.setLearningRate(c.optimizer.learningRate);
  let res: StepResult;
  try {
    res = await net.trainStepAsync(x, n, y, c.optimizer.iterations + 1);
  } catch (e) {
    throw trainingError(epoch, b, (e as Error).message, e);
  }
  c.optimizer.iterations++;
  t.lossSum += res.loss * n;
  t.correct += res.correct;
  t.count += res.count;
  t.batches++;
  t.rows += n;
  const logs: Logs = { batch: b, size: n, loss: res.loss };
  if (c.accuracy) logs.acc = res.count > 0 ? res.correct / res.count : NaN;
  for (const cb of c.callbacks) await cb.onBatchEnd?.(b, logs);
}

/** The buffers of an epoch, sized for its plan: bounds for the native loop, or one batch's rows. */
export function epochRun(args: EpochRunArgs): EpochRun {
  const { plan } = args;
  const perBatch = args.callbacks.some((cb) => !cb.observesBatches && (cb.onBatchBegin !== undefined || cb.onBatchEnd !== undefined));
  const bounds = new Int32Array(perBatch ? 0 : 2 * plan.batches);
  for (let b = 0; b < bounds.length / 2; b++) {
    bounds[2 * b] = plan.startOf(b);
    bounds[2 * b + 1] = plan.sizeOf(b);
  }
  return {
    ...args,
    perBatch,
    bounds,
    batchOut: new Float64Array(perBatch ? 0 : 3 * plan.batches),
    bx: new Float32Array(perBatch ? plan.maxSize * args.inDim : 0),
    by: new Float32Array(perBatch ? plan.maxSize * args.yPerRow : 0),
  };
}

/** One epoch of training steps over run.order; throws trainingError at a failing step. */
export async function runEpoch(run: EpochRun, epoch: number): Promise<EpochTotals> {
  return run.perBatch ? runBatches(run, epoch) : runNativeEpoch(run, epoch);
}

/**
 * The epoch's batches natively in one hop off the event loop (same batches, same order, same
 * steps), saving a JS round trip per batch, which costs a small model as much as its step.
 */
async function runNativeEpoch(run: EpochRun, epoch: number): Promise<EpochTotals> {
  const { plan, bounds, batchOut, optimizer } = run;
  const net = run.net();
  net.setLearningRate(optimizer.learningRate);
  run.stop[0] = run.stopRequested() ? 1 : 0;
  const watch = batchWatchers(run);
  const r = await net.trainBatchesAsync(run.x, run.y, run.yPerRow, run.order, bounds, optimizer.iterations + 1, run.stop, batchOut, watch?.progress);
  if (watch) await watch.flush(r.done);
  const t: EpochTotals = { lossSum: 0, correct: 0, count: 0, batches: r.done, rows: 0 };
  for (let b = 0; b < r.done; b++) {
    t.rows += plan.sizeOf(b);
    t.lossSum += batchOut[3 * b] * plan.sizeOf(b);
    t.correct += batchOut[3 * b + 1];
    t.count += batchOut[3 * b + 2];
  }
  optimizer.iterations += r.done;
  if (r.error !== undefined) throw trainingError(epoch, r.done, r.error, new Error(r.error));
  return t;
}

/**
 * The onBatchEnd calls of observesBatches callbacks during a native epoch: batches reported done
 * get their logs from batchOut, in order, each call awaited before the next; flush delivers the
 * rest once the epoch's hop has returned and waits for all of them (the first error is thrown).
 */
function batchWatchers(run: EpochRun): { progress(done: number): void; flush(done: number): Promise<void> } | undefined {
  const watchers = run.callbacks.filter((cb) => cb.observesBatches && cb.onBatchEnd);
  if (watchers.length === 0) return undefined;
  let told = 0;
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown;
  const tell = (done: number): void => {
    for (; told < done; told++) {
      const b = told;
      const n = run.plan.sizeOf(b);
      const logs: Logs = { batch: b, size: n, loss: run.batchOut[3 * b] };
      if (run.accuracy) logs.acc = run.batchOut[3 * b + 2] > 0 ? run.batchOut[3 * b + 1] / run.batchOut[3 * b + 2] : NaN;
      for (const cb of watchers) {
        chain = chain.then(() => cb.onBatchEnd!(b, { ...logs })).catch((e) => {
          failure ??= e;
        });
      }
    }
  };
  return {
    progress: tell,
    async flush(done: number) {
      tell(done);
      await chain;
      if (failure !== undefined) throw failure;
    },
  };
}

/** Batch by batch, with onBatchBegin / onBatchEnd around each native step. */
async function runBatches(run: EpochRun, epoch: number): Promise<EpochTotals> {
  const { plan, callbacks, bx, by, inDim, yPerRow } = run;
  const t: EpochTotals = { lossSum: 0, correct: 0, count: 0, batches: 0, rows: 0 };
  for (let b = 0; b < plan.batches; b++) {
    if (run.stopRequested()) break; // set before this batch (as the native loop does)
    const n = plan.sizeOf(b);
    for (const cb of callbacks) await cb.onBatchBegin?.(b);
    // Gathered natively: a typed-array view per row costs a large share of a small model's step.
    native.gatherRows(run.x, inDim, run.order, plan.startOf(b), n, bx);
    native.gatherRows(run.y, yPerRow, run.order, plan.startOf(b), n, by);
    await stepBatch(run, epoch, b, bx.subarray(0, n * inDim), n, by.subarray(0, n * yPerRow), t);
    if (run.stopRequested()) break;
  }
  return t;
}

/** What trainEpochs needs: how to run one epoch, and what to report after it. */
export interface EpochsArgs {
  /** One epoch of steps; undefined when the data ran out before it began (training ends). */
  runEpoch(epoch: number): Promise<EpochTotals | undefined>;
  /** Whether to stop after this epoch (stopTraining or an aborted signal). */
  stopRequested(): boolean;
  /** The divisor of the epoch loss (fit: the training rows); default: the rows the epoch ran. */
  rows?: number;
  accuracy: boolean;
  /** Loss and accuracy on the held-out rows after each epoch, if any. */
  validate?: () => { loss: number; acc: number } | Promise<{ loss: number; acc: number }>;
}

/** The epochs of fit and fitDataset: callbacks, runEpoch, validation, history and the verbose line. */
export async function trainEpochs(o: Pick<FitOptions, 'epochs' | 'initialEpoch' | 'callbacks' | 'verbose'>, e: EpochsArgs): Promise<History> {
  const history = newHistory(e.accuracy, e.validate !== undefined);
  for (const cb of o.callbacks) await cb.onTrainBegin?.();
  for (let epoch = o.initialEpoch; epoch < o.initialEpoch + o.epochs; epoch++) {
    for (const cb of o.callbacks) await cb.onEpochBegin?.(epoch);
    const t = await e.runEpoch(epoch);
    if (t === undefined) break;
    const logs: Logs = { loss: t.lossSum / (e.rows ?? t.rows) };
    if (e.accuracy) logs.acc = t.correct / t.count;
    if (e.validate) {
      const v = await e.validate();
      logs.val_loss = v.loss;
      if (e.accuracy) logs.val_acc = v.acc;
    }
    recordEpoch(history, epoch, logs);
    if (o.verbose) process.stderr.write(`Epoch ${epoch + 1}/${o.initialEpoch + o.epochs} ${formatLogs(logs)}\n`);
    for (const cb of o.callbacks) await cb.onEpochEnd?.(epoch, logs);
    if (e.stopRequested()) break;
  }
  for (const cb of o.callbacks) await cb.onTrainEnd?.();
  return history;
}

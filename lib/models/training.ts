/**
 * fit's batch loop: the batch plan of an epoch and one epoch of training steps, run either natively
 * in one hop (no callback looks at single batches) or batch by batch with the callbacks.
 */
import { DensenormError } from '../errors';
import { BatchNormalization } from '../layers/batch_normalization';
import type { Layer } from '../layers/layer';
import { NativeNet, StepResult, native } from '../native';
import type { Optimizer } from '../optimizers/optimizer';
import { MetricSums, NativeMetric } from '../metrics';
import type { TensorLike } from '../tensor';
import { Callbacks, FitParams, Logs, callEach } from './callback_api';
import { checkBoolean, checkNonNegInt, checkNumber, checkObject, checkPositiveInt, checkUnknownKeys, describe, typeError } from '../validate';

export type { Callbacks, FitParams, Logs } from './callback_api';

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
  /** Per-row loss weights [rows] (Keras: loss = Σ wᵢ·lossᵢ / batch); not with classWeight. */
  sampleWeight?: TensorLike;
  /** { class: weight } turned into per-row loss weights (absent classes weigh 1); not with sampleWeight. */
  classWeight?: Record<number, number>;
}

export interface History {
  epoch: number[];
  history: { loss: number[]; acc?: number[]; val_loss?: number[]; val_acc?: number[]; learning_rate?: number[]; [k: string]: number[] | undefined };
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
  sampleWeight?: unknown;
  classWeight?: unknown;
}

const CALLBACK_KEYS = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd', 'setModel', 'setParams', 'onNonFiniteLoss'];
const FIT_KEYS = ['epochs', 'batchSize', 'shuffle', 'validationData', 'validationSplit', 'seed', 'initialEpoch', 'callbacks', 'signal', 'verbose', 'sampleWeight', 'classWeight'];

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
  return {
    epochs, batchSize, shuffle, initialEpoch, validationSplit, validationData: a.validationData, seed, callbacks, signal: a.signal, verbose: a.verbose,
    sampleWeight: a.sampleWeight, classWeight: a.classWeight,
  };
}

/** An empty History with the keys fit will fill. */
function newHistory(accuracy: boolean, validation: boolean): History {
  const history: History = { epoch: [], history: { loss: [] } };
  if (accuracy) history.history.acc = [];
  if (validation) {
    history.history.val_loss = [];
    if (accuracy) history.history.val_acc = [];
  }
  history.history.learning_rate = [];
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

export { BatchPlan, planBatches } from './batch_plan';
import type { BatchPlan } from './batch_plan';

/** Whether training computes batch statistics: then every batch needs at least 2 rows. */
export function hasTrainableBatchNorm(layers: readonly Layer[]): boolean {
  return layers.some((l) => l instanceof BatchNormalization && l.trainable);
}

/** A failed training step's error, with where it failed and whether the loss was non-finite. */
export interface TrainingError extends DensenormError {
  readonly epoch: number;
  readonly batch: number;
  /** The loss was NaN or ±Infinity (rather than e.g. an invalid class id). */
  readonly nonFiniteLoss: boolean;
}

/** The error for a failed training step; the native step checks the loss before it writes anything. */
export function trainingError(epoch: number, batch: number, message: string, cause: unknown): TrainingError {
  const err = new DensenormError(
    `Training failed at epoch ${epoch}, batch ${batch}: ${message}; the weights are left as they were before this batch`,
    'ERR_TRAINING',
    { cause },
  );
  // cpp/core/loss.cc: Status::Training("the loss is not finite (...)").
  return Object.assign(err, { epoch, batch, nonFiniteLoss: /loss is not finite/.test(message) });
}

/** The learning rate when it is a plain number, which `who` may then overwrite; a TypeError otherwise. */
export function plainLearningRate(optimizer: Optimizer | undefined, who: string): number {
  if (optimizer === undefined) throw new Error(`${who} needs a compiled model (model.compile({ optimizer, loss }))`);
  const lr = (optimizer.learningRateSchedule ?? optimizer.learningRate) as unknown;
  if (typeof lr !== 'number') {
    throw new TypeError(
      `${who} sets optimizer.learningRate, which must then be a plain number, but it is ${describe(lr)}; a learning-rate schedule and ${who} cannot be combined`,
    );
  }
  return lr;
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
  /** The core's metrics the net accumulates (compile's metrics). */
  metrics: readonly NativeMetric[];
  /** Per-row loss weights of x's rows, or undefined (all 1). */
  sampleWeight?: Float32Array;
  /** The native graph, asked for before each hop: a callback may have changed the model. */
  net(): NativeNet;
  /** Read by the native loop before each batch; the caller sets it to 1 to stop. */
  stop: Int32Array;
  /** Whether to stop before the next batch (stopTraining or an aborted signal). */
  stopRequested(): boolean;
  callbacks: readonly Callbacks[];
  /** Told true while callbacks run (no native step is in flight then), false after. */
  callbackWindow?(open: boolean): void;
}

export interface EpochRun extends EpochRunArgs {
  /** Whether a callback looks at single batches, so batches go one native call each. */
  readonly perBatch: boolean;
  readonly bounds: Int32Array;
  readonly batchOut: Float64Array;
  readonly bx: Float32Array;
  readonly by: Float32Array;
  readonly bw?: Float32Array;
  /** Doubles per batch in batchOut: loss, correct, count, the metric states. */
  readonly stride: number;
}

/** Sums over the batches an epoch ran (all of them unless stopped). */
export interface EpochTotals {
  /** Σ batch loss × batch rows. */
  lossSum: number;
  correct: number;
  count: number;
  batches: number;
  /** Rows the epoch ran (fitDataset's loss divisor). */
  rows: number;
  metrics: MetricSums;
}

/** What one training step needs (fit's per-batch path and fitDataset). */
export type StepContext = Pick<EpochRunArgs, 'net' | 'optimizer' | 'accuracy' | 'metrics' | 'callbacks' | 'callbackWindow' | 'stopRequested'>;

/** Empty totals for an epoch. */
export function epochTotals(metrics: readonly NativeMetric[]): EpochTotals {
  return { lossSum: 0, correct: 0, count: 0, batches: 0, rows: 0, metrics: new MetricSums(metrics) };
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
  const stride = 3 + args.metrics.reduce((n, m) => n + m.size, 0);
  return {
    ...args,
    perBatch,
    bounds,
    stride,
    batchOut: new Float64Array(perBatch ? 0 : stride * plan.batches),
    bx: new Float32Array(perBatch ? plan.maxSize * args.inDim : 0),
    by: new Float32Array(perBatch ? plan.maxSize * args.yPerRow : 0),
    bw: perBatch && args.sampleWeight ? new Float32Array(plan.maxSize) : undefined,
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
  // A schedule's rate of each step, set natively before it (the rate is checked here, before any step).
  let rates: Float32Array | undefined;
  if (optimizer.learningRateSchedule) {
    rates = new Float32Array(plan.batches);
    for (let b = 0; b < plan.batches; b++) rates[b] = optimizer.rateAt(optimizer.iterations + b);
  }
  run.stop[0] = run.stopRequested() ? 1 : 0;
  const watch = batchWatchers(run);
  const r = await net.trainBatchesAsync(run.x, run.y, run.yPerRow, run.order, bounds, optimizer.iterations + 1, run.stop, batchOut,
    { progress: watch?.progress, sampleWeight: run.sampleWeight, rates });
  if (watch) await watch.flush(r.done);
  const t = epochTotals(run.metrics);
  t.batches = r.done;
  const k = run.stride;
  for (let b = 0; b < r.done; b++) {
    t.rows += plan.sizeOf(b);
    t.lossSum += batchOut[k * b] * plan.sizeOf(b);
    t.correct += batchOut[k * b + 1];
    t.count += batchOut[k * b + 2];
    t.metrics.add(batchOut, k * b + 3);
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
  const k = run.stride;
  const sums = new MetricSums(run.metrics);
  const tell = (done: number): void => {
    for (; told < done; told++) {
      const b = told;
      const n = run.plan.sizeOf(b);
      const logs: Logs = { batch: b, size: n, loss: run.batchOut[k * b] };
      if (run.accuracy) logs.acc = run.batchOut[k * b + 2] > 0 ? run.batchOut[k * b + 1] / run.batchOut[k * b + 2] : NaN;
      sums.add(run.batchOut, k * b + 3);
      Object.assign(logs, sums.values());
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
  const { plan, bx, by, bw, inDim, yPerRow } = run;
  const t = epochTotals(run.metrics);
  for (let b = 0; b < plan.batches; b++) {
    if (run.stopRequested()) break; // set before this batch (as the native loop does)
    const n = plan.sizeOf(b);
    await callEach(run, (cb) => cb.onBatchBegin?.(b));
    // Gathered natively: a typed-array view per row costs a large share of a small model's step.
    native.gatherRows(run.x, inDim, run.order, plan.startOf(b), n, bx);
    native.gatherRows(run.y, yPerRow, run.order, plan.startOf(b), n, by);
    if (bw && run.sampleWeight) native.gatherRows(run.sampleWeight, 1, run.order, plan.startOf(b), n, bw);
    await stepBatch(run, epoch, b, bx.subarray(0, n * inDim), n, by.subarray(0, n * yPerRow), t, bw?.subarray(0, n));
    if (run.stopRequested()) break;
  }
  return t;
}

/**
 * Batch b of an epoch as one native step, onBatchEnd after it (onBatchBegin is the caller's,
 * before it gathers the rows); adds the step to t. Shared by fit's per-batch path and fitDataset.
 */
export async function stepBatch(
  c: StepContext, epoch: number, b: number, x: Float32Array, n: number, y: Float32Array, t: EpochTotals, w?: Float32Array,
): Promise<void> {
  const net = c.net();
  net.setLearningRate(c.optimizer.learningRate); // a schedule's at this step
  let res: StepResult;
  try {
    res = await net.trainStepAsync(x, n, y, c.optimizer.iterations + 1, w);
  } catch (e) {
    throw trainingError(epoch, b, (e as Error).message, e);
  }
  c.optimizer.iterations++;
  t.lossSum += res.loss * n;
  t.correct += res.correct;
  t.count += res.count;
  t.batches++;
  t.rows += n;
  t.metrics.add(res.metrics);
  const logs: Logs = { batch: b, size: n, loss: res.loss };
  if (c.accuracy) logs.acc = res.count > 0 ? res.correct / res.count : NaN;
  Object.assign(logs, t.metrics.values());
  await callEach(c, (cb) => cb.onBatchEnd?.(b, logs));
}

/** What trainEpochs needs beyond the step context. */
export interface EpochsArgs {
  /** One epoch of steps; undefined when the data ran out before it began (training ends). */
  runEpoch(epoch: number): Promise<EpochTotals | undefined>;
  /** The divisor of the epoch loss (fit: the training rows); default: the rows the epoch ran. */
  rows?: number;
  /** Steps per epoch, for callbacks' params (undefined when unknown, as fitDataset's). */
  steps?: number;
  batchSize?: number;
  accuracy: boolean;
  /** Loss, accuracy and metrics on the held-out rows after each epoch, if any. */
  validate?: () => ValidationResult | Promise<ValidationResult>;
  /** Handed to each callback's setModel. */
  model?: unknown;
}

/** The keys of fit's epoch logs, in their order. */
function logKeys(accuracy: boolean, validation: boolean, metrics: readonly NativeMetric[]): string[] {
  const train = [...(accuracy ? ['loss', 'acc'] : ['loss']), ...metrics.map((m) => m.key)];
  return [...train, ...(validation ? train.map((k) => `val_${k}`) : []), 'learning_rate'];
}

export interface ValidationResult {
  loss: number;
  acc: number;
  metrics: Record<string, number>;
}

/** Whether a callback asks fit to end cleanly on this failed step (TerminateOnNaN). */
async function endsOnNonFinite(run: StepContext, err: unknown): Promise<boolean> {
  const t = err as Partial<TrainingError>;
  if (!(err instanceof DensenormError) || !t.nonFiniteLoss) return false;
  let end = false;
  await callEach(run, async (cb) => {
    if (cb.onNonFiniteLoss && (await cb.onNonFiniteLoss(t.epoch!, t.batch!, err))) end = true;
  });
  return end;
}

/** The epochs of fit and fitDataset: callbacks, runEpoch, validation, history and the verbose line. */
export async function trainEpochs(
  run: StepContext, o: Pick<FitOptions, 'epochs' | 'initialEpoch' | 'callbacks' | 'verbose'>, e: EpochsArgs,
): Promise<History> {
  const history = newHistory(e.accuracy, e.validate !== undefined);
  const params: FitParams = {
    epochs: o.initialEpoch + o.epochs, // as Keras and tfjs: the epoch index fit runs up to
    initialEpoch: o.initialEpoch,
    samples: e.rows,
    steps: e.steps,
    batchSize: e.batchSize,
    verbose: o.verbose ?? 0,
    doValidation: e.validate !== undefined,
    metrics: logKeys(e.accuracy, e.validate !== undefined, run.metrics),
  };
  for (const cb of o.callbacks) {
    cb.setModel?.(e.model);
    cb.setParams?.(params);
  }
  await callEach(run, (cb) => cb.onTrainBegin?.());
  for (let epoch = o.initialEpoch; epoch < o.initialEpoch + o.epochs; epoch++) {
    await callEach(run, (cb) => cb.onEpochBegin?.(epoch));
    // Read after onEpochBegin, where a learningRateScheduler sets it.
    const learningRate = run.optimizer.learningRate; // a schedule's at the current step
    let t: EpochTotals | undefined;
    try {
      t = await e.runEpoch(epoch);
    } catch (err) {
      if (await endsOnNonFinite(run, err)) break;
      throw err;
    }
    if (t === undefined) break;
    const logs: Logs = { loss: t.lossSum / (e.rows ?? t.rows) };
    if (e.accuracy) logs.acc = t.correct / t.count;
    Object.assign(logs, t.metrics.values());
    if (e.validate) {
      const v = await e.validate();
      logs.val_loss = v.loss;
      if (e.accuracy) logs.val_acc = v.acc;
      for (const [key, value] of Object.entries(v.metrics)) logs[`val_${key}`] = value;
    }
    logs.learning_rate = learningRate;
    recordEpoch(history, epoch, logs);
    if (o.verbose) process.stderr.write(`Epoch ${epoch + 1}/${o.initialEpoch + o.epochs} ${formatLogs(logs)}\n`);
    await callEach(run, (cb) => cb.onEpochEnd?.(epoch, logs));
    if (run.stopRequested()) break;
  }
  await callEach(run, (cb) => cb.onTrainEnd?.());
  return history;
}

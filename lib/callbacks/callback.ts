/**
 * The Callback base class (tfjs's BaseCallback, Keras's Callback) and what the built-in callbacks
 * share: the model they act on, and the monitor logic of Keras 3's MonitorCallback.
 */
import type { Callbacks, FitParams, Logs } from '../models/callback_api';
import type { Optimizer } from '../optimizers/optimizer';
import type { Tensor, TensorLike } from '../tensor';
import { checkNumber, checkObject, checkString, checkUnknownKeys, rangeError } from '../validate';

/** What callbacks use of a model (a structural type: Sequential has it all). */
export interface CallbackModel {
  stopTraining: boolean;
  readonly optimizer: Optimizer | undefined;
  getWeights(): Tensor[];
  setWeights(weights: TensorLike[]): void;
  save(dir: string): Promise<void>;
}

/**
 * Base class of the built-in callbacks; extend it for your own (plain objects with onEpochEnd etc.
 * work too). fit calls setModel and setParams before onTrainBegin.
 */
export class Callback implements Callbacks {
  model: CallbackModel | undefined = undefined;
  params: FitParams | undefined = undefined;

  setModel(model: unknown): void {
    this.model = model as CallbackModel;
  }

  setParams(params: FitParams): void {
    this.params = params;
  }

  /** The model fit handed over; an error when the callback is driven outside fit without one. */
  protected requireModel(who: string): CallbackModel {
    if (this.model === undefined) throw new Error(`${who} has no model: pass it to fit({ callbacks }) or call setModel(model) first`);
    return this.model;
  }
}

export type MonitorMode = 'auto' | 'min' | 'max';

export function checkMode(mode: unknown): MonitorMode {
  if (mode === undefined) return 'auto';
  if (mode !== 'auto' && mode !== 'min' && mode !== 'max') throw rangeError("'auto', 'min' or 'max'", 'mode', mode);
  return mode;
}

// Keras 3 asks the compiled metric's _direction; densenorm decides from the name, with the same
// answers for the metrics Keras knows ('up': accuracies, AUC, precision, recall, F-scores, IoU, R²;
// 'down': losses and errors). A name containing 'acc' or 'auc' is 'up', as in Keras 2 and tfjs.
const UP = /acc|auc|precision|recall|f1|fbeta|fmeasure|iou|r2_score|correlation/i;
const DOWN = /loss|error|crossentropy|^mae$|^mse$|^rmse$|^mape$|^msle$|hinge|poisson|kl_divergence|logcosh/i;

/**
 * Whether larger values of `monitor` are better. mode 'auto' decides from the name without the
 * `val_` prefix: 'loss' and error metrics are min, accuracy-like metrics max; any other name is a
 * RangeError asking for mode 'min' or 'max' (Keras 3 raises ValueError there).
 */
export function maximizes(monitor: string, mode: MonitorMode, who: string): boolean {
  if (mode !== 'auto') return mode === 'max';
  const name = monitor.startsWith('val_') ? monitor.slice(4) : monitor;
  if (name === 'loss') return false;
  if (UP.test(name)) return true;
  if (DOWN.test(name)) return false;
  throw new RangeError(
    `${who} cannot tell whether monitor '${monitor}' should be minimized or maximized; pass mode: 'min' or mode: 'max'`,
  );
}

/** The monitored value of these logs; an unknown key is an error naming the keys that exist. */
export function monitorValue(logs: Logs | undefined, monitor: string, who: string): number {
  const v = logs?.[monitor];
  if (typeof v !== 'number') {
    const keys = Object.keys(logs ?? {}).filter((k) => typeof logs?.[k] === 'number');
    throw new RangeError(
      `${who} monitors '${monitor}', which is not in the epoch logs; the logs have: ${keys.join(', ') || '(none)'}` +
        (monitor.startsWith('val_') ? ' (val_ keys need validationData or validationSplit)' : ''),
    );
  }
  return v;
}

/**
 * Keras's improvement test with `minDelta` (made positive): min mode `current < best − minDelta`,
 * max mode `current > best + minDelta`; no best yet (undefined) is always an improvement.
 */
export function isImprovement(current: number, best: number | undefined, minDelta: number, max: boolean): boolean {
  if (best === undefined) return true;
  return max ? current - minDelta > best : current + minDelta < best;
}

/** The args object of a callback factory, its unknown keys rejected. */
export function callbackArgs(who: string, args: unknown, keys: string[]): Record<string, unknown> {
  const a = checkObject(`${who} args`, args ?? {});
  checkUnknownKeys(`${who} args`, a, keys);
  return a;
}

export function checkMonitor(v: unknown): string {
  return v === undefined ? 'val_loss' : checkString('monitor', v);
}

/** A finite number >= 0. */
export function checkNonNeg(name: string, v: unknown, dflt: number): number {
  return v === undefined ? dflt : checkNumber(name, v, { min: 0 });
}

/** EarlyStopping, Keras 3 semantics (keras/src/callbacks/early_stopping.py). */
import type { Logs } from '../models/training';
import type { Tensor } from '../tensor';
import { checkBoolean, checkNonNegInt, checkNumber } from '../validate';
import { Callback, MonitorMode, callbackArgs, checkMode, checkMonitor, isImprovement, maximizes, monitorValue } from './callback';

export interface EarlyStoppingArgs {
  /** Log key watched. Default 'val_loss'. */
  monitor?: string;
  /** Smallest change that counts as an improvement (its absolute value is used). Default 0. */
  minDelta?: number;
  /** Epochs without improvement before stopping. Default 0. */
  patience?: number;
  /** 'auto' (from the monitor's name), 'min' or 'max'. Default 'auto'. */
  mode?: MonitorMode;
  /** wait only resets on epochs that also beat this value. Default none. */
  baseline?: number;
  /** At the end of training, set the weights of the best epoch (also when it did not stop early). Default false. */
  restoreBestWeights?: boolean;
  /** Epochs (0-based index) before this one are not watched at all. Default 0. */
  startFromEpoch?: number;
}

const KEYS = ['monitor', 'minDelta', 'patience', 'mode', 'baseline', 'restoreBestWeights', 'startFromEpoch'];

/**
 * At each epoch end (epoch ≥ startFromEpoch): wait += 1; an improvement over the best
 * (min: current < best − minDelta; max: current > best + minDelta; the first watched epoch always
 * is one) makes it the best and resets wait to 0 if there is no baseline or it also improves on the
 * baseline; otherwise when wait ≥ patience and epoch > 0, training stops (stoppedEpoch = epoch).
 */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly mode: MonitorMode;
  readonly baseline: number | undefined;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  /** Epochs since the last improvement (Keras's `wait`). */
  wait = 0;
  /** The epoch at which it stopped training, 0 when it did not (as Keras). */
  stoppedEpoch = 0;
  /** Best monitored value so far; undefined before the first watched epoch. */
  best: number | undefined = undefined;
  /** Epoch of the best value (0-based). */
  bestEpoch = 0;
  /** Weights at the end of the best epoch, when restoreBestWeights. */
  bestWeights: Tensor[] | undefined = undefined;
  private max: boolean | undefined = undefined;

  constructor(args: EarlyStoppingArgs = {}) {
    super();
    const a = callbackArgs('earlyStopping', args, KEYS);
    this.monitor = checkMonitor(a.monitor);
    this.minDelta = Math.abs(a.minDelta === undefined ? 0 : checkNumber('minDelta', a.minDelta));
    this.patience = a.patience === undefined ? 0 : checkNonNegInt('patience', a.patience);
    this.mode = checkMode(a.mode);
    this.baseline = a.baseline === undefined || a.baseline === null ? undefined : checkNumber('baseline', a.baseline);
    this.restoreBestWeights = a.restoreBestWeights === undefined ? false : checkBoolean('restoreBestWeights', a.restoreBestWeights);
    this.startFromEpoch = a.startFromEpoch === undefined ? 0 : checkNonNegInt('startFromEpoch', a.startFromEpoch);
  }

  onTrainBegin(): void {
    // Reset, so one instance can be reused across fits (Keras ≥ 3.15 also resets best).
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = undefined;
    this.bestEpoch = 0;
    this.bestWeights = undefined;
  }

  onEpochEnd(epoch: number, logs?: Logs): void {
    // Checked on every epoch, also before startFromEpoch: an unknown monitor fails at once.
    const current = monitorValue(logs, this.monitor, 'earlyStopping');
    this.max ??= maximizes(this.monitor, this.mode, 'earlyStopping');
    if (epoch < this.startFromEpoch) return;
    if (this.restoreBestWeights && this.bestWeights === undefined) {
      this.bestWeights = this.requireModel('earlyStopping').getWeights();
      this.bestEpoch = epoch;
    }
    this.wait += 1;
    if (isImprovement(current, this.best, this.minDelta, this.max)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.bestWeights = this.requireModel('earlyStopping').getWeights();
      if (this.baseline === undefined || isImprovement(current, this.baseline, this.minDelta, this.max)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.requireModel('earlyStopping').stopTraining = true;
    }
  }

  onTrainEnd(): void {
    if (this.restoreBestWeights && this.bestWeights !== undefined) this.requireModel('earlyStopping').setWeights(this.bestWeights);
  }
}

export function earlyStopping(args?: EarlyStoppingArgs): EarlyStopping {
  return new EarlyStopping(args);
}

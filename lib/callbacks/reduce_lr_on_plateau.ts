/** ReduceLROnPlateau, Keras 3 semantics (keras/src/callbacks/reduce_lr_on_plateau.py). */
import { Logs, plainLearningRate } from '../models/training';
import { checkNonNegInt, checkNumber } from '../validate';
import { Callback, MonitorMode, callbackArgs, checkMode, checkMonitor, checkNonNeg, isImprovement, maximizes, monitorValue } from './callback';

export interface ReduceLROnPlateauArgs {
  /** Log key watched. Default 'val_loss'. */
  monitor?: string;
  /** new rate = rate · factor; must be < 1. Default 0.1. */
  factor?: number;
  /** Epochs without improvement before a reduction. Default 10. */
  patience?: number;
  /** Smallest change that counts as an improvement (absolute). Default 1e-4. */
  minDelta?: number;
  /** Epochs after a reduction during which no epoch counts towards patience. Default 0. */
  cooldown?: number;
  /** Floor of the learning rate. Default 0. */
  minLr?: number;
  /** 'auto' (from the monitor's name), 'min' or 'max'. Default 'auto'. */
  mode?: MonitorMode;
}

const KEYS = ['monitor', 'factor', 'patience', 'minDelta', 'cooldown', 'minLr', 'mode'];
const WHO = 'reduceLROnPlateau';

/**
 * At each epoch end: in cooldown (cooldownCounter > 0) → cooldownCounter −= 1, wait = 0; then an
 * improvement (min: current < best − minDelta; max: current > best + minDelta) → best = current,
 * wait = 0; else, if no longer in cooldown, wait += 1, and when wait ≥ patience and
 * float32(lr) > float32(minLr): lr = max(lr · factor, minLr), cooldownCounter = cooldown, wait = 0.
 */
export class ReduceLROnPlateau extends Callback {
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  readonly mode: MonitorMode;
  wait = 0;
  cooldownCounter = 0;
  best: number | undefined = undefined;
  private max: boolean | undefined = undefined;

  constructor(args: ReduceLROnPlateauArgs = {}) {
    super();
    const a = callbackArgs(WHO, args, KEYS);
    this.monitor = checkMonitor(a.monitor);
    this.factor = a.factor === undefined ? 0.1 : checkNumber('factor', a.factor, { min: 0 });
    if (this.factor >= 1) throw new RangeError(`${WHO} does not support a factor >= 1 (received ${this.factor}): the rate would never fall`);
    this.patience = a.patience === undefined ? 10 : checkNonNegInt('patience', a.patience);
    this.minDelta = Math.abs(a.minDelta === undefined ? 1e-4 : checkNumber('minDelta', a.minDelta));
    this.cooldown = a.cooldown === undefined ? 0 : checkNonNegInt('cooldown', a.cooldown);
    this.minLr = checkNonNeg('minLr', a.minLr, 0);
    this.mode = checkMode(a.mode);
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.cooldownCounter = 0;
    this.best = undefined;
    // Fails before the first epoch rather than after it.
    plainLearningRate(this.requireModel(WHO).optimizer, WHO);
  }

  private inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  onEpochEnd(_epoch: number, logs?: Logs): void {
    const current = monitorValue(logs, this.monitor, WHO);
    this.max ??= maximizes(this.monitor, this.mode, WHO);
    if (this.inCooldown()) {
      this.cooldownCounter -= 1;
      this.wait = 0;
    }
    if (isImprovement(current, this.best, this.minDelta, this.max)) {
      this.best = current;
      this.wait = 0;
    } else if (!this.inCooldown()) {
      this.wait += 1;
      if (this.wait >= this.patience) {
        const optimizer = this.requireModel(WHO).optimizer!;
        const oldLr = plainLearningRate(optimizer, WHO);
        // Keras compares in float32, the dtype of its learning-rate variable.
        if (Math.fround(oldLr) > Math.fround(this.minLr)) {
          optimizer.learningRate = Math.max(oldLr * this.factor, this.minLr);
          this.cooldownCounter = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }
}

export function reduceLROnPlateau(args?: ReduceLROnPlateauArgs): ReduceLROnPlateau {
  return new ReduceLROnPlateau(args);
}

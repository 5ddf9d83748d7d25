/**
 * Optimizers describe the update rule; the update itself runs natively, fused over all
 * parameters in one pass per training step. State (velocity, moments) lives here, keyed by the
 * parameter array, so it survives a rebuild of the native graph (e.g. after freezing a layer).
 */
import { OPTIMIZER_CODES, NativeOptimizerSpec } from '../native';
import { checkNumber, checkNonNegInt, describe, typeError } from '../validate';
import { LearningRateSchedule, isSchedule, serialize } from './schedules';

export type OptimizerName = keyof typeof OPTIMIZER_CODES;

/** Arguments every optimizer takes (Keras names). */
export interface OptimizerCommonArgs {
  /** Step size, >= 0 (0 leaves the weights as they are), or a schedule (dn.schedules.*) of the step. */
  learningRate?: number | LearningRateSchedule;
  /** Clip each gradient tensor to this L2 norm (> 0) before the update. Default none. */
  clipnorm?: number;
  /** Clip all gradients together to this L2 norm (> 0) before the update. Default none. */
  globalClipnorm?: number;
  /** Clip each gradient element to [-clipvalue, clipvalue] (> 0) before the update. Default none. */
  clipvalue?: number;
}

/** Keys of OptimizerCommonArgs, for checkUnknownKeys in subclasses. */
export const COMMON_OPTIMIZER_KEYS: readonly string[] = ['learningRate', 'clipnorm', 'globalClipnorm', 'clipvalue'];

const CLIP_KEYS = ['clipnorm', 'globalClipnorm', 'clipvalue'] as const;
type ClipKey = (typeof CLIP_KEYS)[number];

/** A learning rate the native step accepts: finite and >= 0. */
function checkRate(argName: string, v: unknown): number {
  return checkNumber(argName, v, { min: 0 });
}

export abstract class Optimizer {
  /** 'sgd' | 'adam' | 'rmsprop' */
  abstract readonly name: OptimizerName;
  /** Steps taken so far (Adam's bias correction and schedules use it). */
  iterations = 0;
  readonly clipnorm?: number;
  readonly globalClipnorm?: number;
  readonly clipvalue?: number;
  private rate = 0;
  private schedule?: LearningRateSchedule;
  private readonly state = new WeakMap<Float32Array, Float32Array[]>();

  /** args: the subclass's checked options bag (its own keys plus COMMON_OPTIMIZER_KEYS). */
  protected constructor(args: Record<string, unknown>, defaultLearningRate: number) {
    this.learningRate = (args.learningRate ?? defaultLearningRate) as number | LearningRateSchedule;
    const set: ClipKey[] = [];
    for (const k of CLIP_KEYS) {
      const v = args[k];
      if (v === undefined || v === null) continue;
      (this as { [key in ClipKey]?: number })[k] = checkNumber(k, v, { min: 0, minExclusive: true });
      set.push(k);
    }
    if (set.length > 1) {
      throw new RangeError(`Expected at most one of clipnorm, globalClipnorm and clipvalue for optimizer args but received ${set.join(' and ')}`);
    }
  }

  /**
   * The learning rate of the next step: the number given, or the schedule at `iterations` (as
   * Keras's `optimizer.learning_rate`). Set a number (e.g. from a callback) or a schedule; a
   * number cannot replace a schedule (TypeError, as Keras).
   */
  get learningRate(): number {
    return this.rateAt(this.iterations);
  }

  set learningRate(v: number | LearningRateSchedule) {
    if (isSchedule(v)) {
      this.schedule = v;
      return;
    }
    if (typeof v !== 'number') throw typeError('a number >= 0 or a learning-rate schedule (dn.schedules.*)', 'learningRate', v);
    if (this.schedule) {
      throw new TypeError(`Expected a learning-rate schedule for learningRate (this optimizer was created with a ${this.schedule.className} schedule, so its rate is not settable) but received ${describe(v)}`);
    }
    this.rate = checkRate('learningRate', v);
  }

  /** The schedule given as learningRate, if any. */
  get learningRateSchedule(): LearningRateSchedule | undefined {
    return this.schedule;
  }

  /** The learning rate at optimizer step `step` (0-based, before the update). */
  rateAt(step: number): number {
    if (!this.schedule) return this.rate;
    const r = this.schedule(checkNonNegInt('step', step));
    return checkRate(`learningRate (the ${this.schedule.className} schedule at step ${step})`, r);
  }

  /** How many state arrays each parameter needs. */
  protected abstract stateCount(): number;

  /** The state arrays for one parameter, created zeroed on first use. */
  stateFor(param: Float32Array): Float32Array[] {
    let s = this.state.get(param);
    if (!s) {
      s = Array.from({ length: this.stateCount() }, () => new Float32Array(param.length));
      this.state.set(param, s);
    }
    return s;
  }

  /** The native description of the rule (the learning rate of the next step; fit sets each step's). */
  abstract nativeSpec(): NativeOptimizerSpec;

  abstract getConfig(): Record<string, unknown>;

  /** The native spec's common part: learning rate and clipping (0: off). */
  protected commonSpec(): Pick<NativeOptimizerSpec, 'learningRate' | 'clipnorm' | 'globalClipnorm' | 'clipvalue'> {
    return { learningRate: this.learningRate, clipnorm: this.clipnorm ?? 0, globalClipnorm: this.globalClipnorm ?? 0, clipvalue: this.clipvalue ?? 0 };
  }

  /** getConfig's common part: learningRate (a number or the schedule's {className, config}) and the clipping set. */
  protected commonConfig(): Record<string, unknown> {
    const c: Record<string, unknown> = { learningRate: this.schedule ? serialize(this.schedule) : this.rate };
    for (const k of CLIP_KEYS) if (this[k] !== undefined) c[k] = this[k];
    return c;
  }
}

/**
 * Learning-rate schedules with Keras 3's formulas (keras/src/optimizers/schedules), usable wherever
 * an optimizer takes a `learningRate` number. A schedule is a function of the optimizer step
 * (`optimizer.iterations`, the count before the update, as Keras's `__call__`), evaluated in float64
 * and handed to the native step as float32.
 */
import {
  checkBoolean,
  checkNonNegInt,
  checkNumber,
  checkObject,
  checkUnknownKeys,
  isPlainObject,
  oneOfText,
  rangeError,
  typeError,
} from '../validate';

/** A schedule's class name, as Keras names it. */
export type ScheduleClassName =
  | 'ExponentialDecay'
  | 'PiecewiseConstantDecay'
  | 'CosineDecay'
  | 'PolynomialDecay'
  | 'InverseTimeDecay';

/** The serialized form, `{className, config}` (tfjs's camelCase of Keras's `{class_name, config}`). */
export interface ScheduleConfig {
  className: string;
  config: Record<string, unknown>;
}

/** A learning rate as a function of the step: `schedule(step) → rate`. */
export interface LearningRateSchedule {
  (step: number): number;
  readonly className: string;
  /** The constructor arguments (camelCase), with defaults filled in. */
  getConfig(): Record<string, unknown>;
}

export interface ExponentialDecayArgs {
  /** Rate at step 0. Required. */
  initialLearningRate: number;
  /** Steps per decay period (> 0). Required. */
  decaySteps: number;
  /** Factor per period (>= 0). Required. */
  decayRate: number;
  /** Decay in whole periods (floor(step / decaySteps)). Default false. */
  staircase?: boolean;
}

export interface PiecewiseConstantDecayArgs {
  /** Increasing step boundaries. Required. */
  boundaries: number[];
  /** One more rate than boundaries: values[i] for boundaries[i-1] < step <= boundaries[i]. Required. */
  values: number[];
}

export interface CosineDecayArgs {
  /** Rate at step 0 (the warmup's start when warmupTarget is given). Required. */
  initialLearningRate: number;
  /** Steps of the cosine decay (> 0). Required. */
  decaySteps: number;
  /** Floor of the decay as a fraction of its start rate, in [0, 1]. Default 0. */
  alpha?: number;
  /** Rate reached by a linear warmup; without it there is no warmup. Default none. */
  warmupTarget?: number;
  /** Steps of the linear warmup (only with warmupTarget). Default 0. */
  warmupSteps?: number;
}

export interface PolynomialDecayArgs {
  /** Rate at step 0. Required. */
  initialLearningRate: number;
  /** Steps to reach endLearningRate (> 0). Required. */
  decaySteps: number;
  /** Rate after decaySteps. Default 1e-4. */
  endLearningRate?: number;
  /** Exponent of the decay (>= 0). Default 1. */
  power?: number;
  /** Restart after decaySteps with a longer period instead of staying at the end rate. Default false. */
  cycle?: boolean;
}

export interface InverseTimeDecayArgs {
  /** Rate at step 0. Required. */
  initialLearningRate: number;
  /** Steps per decay period (> 0). Required. */
  decaySteps: number;
  /** Factor of the period count in the denominator (>= 0). Required. */
  decayRate: number;
  /** Decay in whole periods (floor(step / decaySteps)). Default false. */
  staircase?: boolean;
}

function make(className: ScheduleClassName, config: Record<string, unknown>, f: (step: number) => number): LearningRateSchedule {
  const schedule = (step: number): number => f(checkNonNegInt('step', step));
  // A fresh copy each call (arrays too), so a caller cannot change the schedule through it.
  const getConfig = (): Record<string, unknown> =>
    Object.fromEntries(Object.entries(config).map(([k, v]) => [k, Array.isArray(v) ? v.slice() : v]));
  return Object.assign(schedule, { className, getConfig });
}

const rate = (name: string, v: unknown): number => checkNumber(name, v, { min: 0 });
const steps = (name: string, v: unknown): number => checkNumber(name, v, { min: 0, minExclusive: true });

/** lr0 · decayRate^(step / decaySteps), the exponent floored when staircase. */
export function exponentialDecay(args: ExponentialDecayArgs): LearningRateSchedule {
  if (args === undefined) throw typeError('an object like { initialLearningRate, decaySteps, decayRate }', 'exponentialDecay args', args);
  const a = checkObject('exponentialDecay args', args);
  checkUnknownKeys('exponentialDecay args', a, ['initialLearningRate', 'decaySteps', 'decayRate', 'staircase']);
  const lr0 = rate('initialLearningRate', a.initialLearningRate);
  const d = steps('decaySteps', a.decaySteps);
  const r = rate('decayRate', a.decayRate);
  const staircase = checkBoolean('staircase', a.staircase ?? false);
  return make('ExponentialDecay', { initialLearningRate: lr0, decaySteps: d, decayRate: r, staircase }, (s) => {
    const p = staircase ? Math.floor(s / d) : s / d;
    return lr0 * Math.pow(r, p);
  });
}

/** values[0] for step <= boundaries[0], values[i] for boundaries[i-1] < step <= boundaries[i], values[n] after. */
export function piecewiseConstantDecay(args: PiecewiseConstantDecayArgs): LearningRateSchedule {
  if (args === undefined) throw typeError('an object like { boundaries, values }', 'piecewiseConstantDecay args', args);
  const a = checkObject('piecewiseConstantDecay args', args);
  checkUnknownKeys('piecewiseConstantDecay args', a, ['boundaries', 'values']);
  if (!Array.isArray(a.boundaries)) throw typeError('an array of increasing steps', 'boundaries', a.boundaries);
  if (!Array.isArray(a.values)) throw typeError('an array of learning rates', 'values', a.values);
  const boundaries = a.boundaries.map((b, i) => checkNumber(`boundaries[${i}]`, b, { min: 0 }));
  for (let i = 1; i < boundaries.length; i++) {
    if (!(boundaries[i] > boundaries[i - 1])) throw rangeError(`a number > boundaries[${i - 1}] (${boundaries[i - 1]})`, `boundaries[${i}]`, boundaries[i]);
  }
  if (a.values.length !== boundaries.length + 1) {
    throw rangeError(`an array of ${boundaries.length + 1} rates (one more than boundaries)`, 'values', a.values);
  }
  const values = a.values.map((v, i) => rate(`values[${i}]`, v));
  return make('PiecewiseConstantDecay', { boundaries, values }, (s) => {
    let i = 0;
    while (i < boundaries.length && s > boundaries[i]) i++;
    return values[i];
  });
}

/** Cosine decay from lr0 (or, after a linear warmup, from warmupTarget) to alpha of it over decaySteps. */
export function cosineDecay(args: CosineDecayArgs): LearningRateSchedule {
  if (args === undefined) throw typeError('an object like { initialLearningRate, decaySteps }', 'cosineDecay args', args);
  const a = checkObject('cosineDecay args', args);
  checkUnknownKeys('cosineDecay args', a, ['initialLearningRate', 'decaySteps', 'alpha', 'warmupTarget', 'warmupSteps']);
  const lr0 = rate('initialLearningRate', a.initialLearningRate);
  const d = steps('decaySteps', a.decaySteps);
  const alpha = checkNumber('alpha', a.alpha ?? 0, { min: 0, max: 1 });
  const target = a.warmupTarget === undefined || a.warmupTarget === null ? undefined : rate('warmupTarget', a.warmupTarget);
  const w = checkNonNegInt('warmupSteps', a.warmupSteps ?? 0);
  const decay = (s: number, from: number): number => from * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * (s / d))) + alpha);
  const config: Record<string, unknown> = { initialLearningRate: lr0, decaySteps: d, alpha, warmupSteps: w };
  if (target !== undefined) config.warmupTarget = target;
  return make('CosineDecay', config, (step) => {
    if (target === undefined) return decay(Math.min(step, d), lr0);
    const s = Math.min(step, d + w);
    return s < w ? (target - lr0) * (s / w) + lr0 : decay(s - w, target);
  });
}

/** (lr0 − end)·(1 − s/D)^power + end with s = min(step, D), or with cycle D·ceil(step/D) for D. */
export function polynomialDecay(args: PolynomialDecayArgs): LearningRateSchedule {
  if (args === undefined) throw typeError('an object like { initialLearningRate, decaySteps }', 'polynomialDecay args', args);
  const a = checkObject('polynomialDecay args', args);
  checkUnknownKeys('polynomialDecay args', a, ['initialLearningRate', 'decaySteps', 'endLearningRate', 'power', 'cycle']);
  const lr0 = rate('initialLearningRate', a.initialLearningRate);
  const d = steps('decaySteps', a.decaySteps);
  const end = rate('endLearningRate', a.endLearningRate ?? 1e-4);
  const power = checkNumber('power', a.power ?? 1, { min: 0 });
  const cycle = checkBoolean('cycle', a.cycle ?? false);
  return make('PolynomialDecay', { initialLearningRate: lr0, decaySteps: d, endLearningRate: end, power, cycle }, (step) => {
    let s = step;
    let D = d;
    if (cycle) D = d * (step === 0 ? 1 : Math.ceil(step / d));
    else s = Math.min(step, d);
    return (lr0 - end) * Math.pow(1 - s / D, power) + end;
  });
}

/** lr0 / (1 + decayRate · step / decaySteps), the quotient floored when staircase. */
export function inverseTimeDecay(args: InverseTimeDecayArgs): LearningRateSchedule {
  if (args === undefined) throw typeError('an object like { initialLearningRate, decaySteps, decayRate }', 'inverseTimeDecay args', args);
  const a = checkObject('inverseTimeDecay args', args);
  checkUnknownKeys('inverseTimeDecay args', a, ['initialLearningRate', 'decaySteps', 'decayRate', 'staircase']);
  const lr0 = rate('initialLearningRate', a.initialLearningRate);
  const d = steps('decaySteps', a.decaySteps);
  const r = rate('decayRate', a.decayRate);
  const staircase = checkBoolean('staircase', a.staircase ?? false);
  return make('InverseTimeDecay', { initialLearningRate: lr0, decaySteps: d, decayRate: r, staircase }, (s) => {
    const p = staircase ? Math.floor(s / d) : s / d;
    return lr0 / (1 + r * p);
  });
}

const FACTORIES: Record<ScheduleClassName, (args: never) => LearningRateSchedule> = {
  ExponentialDecay: exponentialDecay,
  PiecewiseConstantDecay: piecewiseConstantDecay,
  CosineDecay: cosineDecay,
  PolynomialDecay: polynomialDecay,
  InverseTimeDecay: inverseTimeDecay,
};

/** Whether v is a schedule: a function with className and getConfig (dn.schedules' or a custom one). */
export function isSchedule(v: unknown): v is LearningRateSchedule {
  return typeof v === 'function' && typeof (v as Partial<LearningRateSchedule>).getConfig === 'function';
}

/** `{className, config}` of a schedule: what an optimizer's getConfig holds as its learningRate. */
export function serialize(schedule: LearningRateSchedule): ScheduleConfig {
  if (!isSchedule(schedule)) throw typeError('a learning-rate schedule (dn.schedules.*)', 'schedule', schedule);
  return { className: schedule.className, config: schedule.getConfig() };
}

/** The schedule of a serialize() output. */
export function deserialize(config: ScheduleConfig): LearningRateSchedule {
  if (!isPlainObject(config)) throw typeError('an object like { className, config }', 'schedule config', config);
  const names = Object.keys(FACTORIES);
  const f = FACTORIES[config.className as ScheduleClassName];
  if (f === undefined) throw rangeError(oneOfText(names), 'schedule config.className', config.className);
  return f(checkObject('schedule config.config', config.config) as never);
}

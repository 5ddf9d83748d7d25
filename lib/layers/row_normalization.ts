/**
 * What layer and group normalization share: statistics per row (over all features, or over each
 * of `groups` contiguous groups of them), in training and inference alike, then a learned
 * per-feature scale gamma and offset beta. No moving statistics, so batches of any size work.
 */
import { getInitializer, Initializer, InitializerSpec } from '../initializers';
import { getRegularizer, Regularizer, RegularizerSpec } from '../regularizers';
import type { NativeOp } from '../native';
import { checkBoolean, checkNumber, checkObject, checkUnknownKeys, rangeError, typeError } from '../validate';
import { BASE_LAYER_KEYS, Layer, LayerArgs, OpContext, WeightSpec } from './layer';

export interface RowNormalizationArgs extends LayerArgs {
  /** Feature axis: only -1 (or 1, the same axis for [batch, features]). Default -1. */
  axis?: number;
  /** Added to the variance before the square root; must be > 0. Default 1e-3 (Keras). */
  epsilon?: number;
  /** Whether to add the learned offset beta. Default true. */
  center?: boolean;
  /** Whether to multiply by the learned scale gamma. Default true. */
  scale?: boolean;
  /** Initializer for gamma. Default 'ones'. */
  gammaInitializer?: InitializerSpec;
  /** Initializer for beta. Default 'zeros'. */
  betaInitializer?: InitializerSpec;
  /** Penalty on gamma added to the loss. Default none. */
  gammaRegularizer?: RegularizerSpec | null;
  /** Penalty on beta added to the loss. Default none. */
  betaRegularizer?: RegularizerSpec | null;
}

export const ROW_NORM_KEYS: readonly string[] = [
  ...BASE_LAYER_KEYS,
  'axis',
  'epsilon',
  'center',
  'scale',
  'gammaInitializer',
  'betaInitializer',
  'gammaRegularizer',
  'betaRegularizer',
];

/** The checked arguments, in the order the constructor needs them before super(). */
export interface RowNormalizationParts {
  epsilon: number;
  center: boolean;
  scale: boolean;
  gammaInitializer: Initializer;
  betaInitializer: Initializer;
  gammaRegularizer?: Regularizer;
  betaRegularizer?: Regularizer;
}

export function checkRowNormalizationArgs(
  argName: string,
  args: unknown,
  keys: readonly string[],
): { a: Record<string, unknown>; parts: RowNormalizationParts } {
  const a = checkObject(argName, args ?? {});
  checkUnknownKeys(argName, a, keys);
  if (a.axis !== undefined) {
    if (typeof a.axis !== 'number') throw typeError('-1 or 1 (the feature axis)', 'axis', a.axis);
    if (a.axis !== -1 && a.axis !== 1) throw rangeError('-1 or 1 (the feature axis)', 'axis', a.axis);
  }
  const epsilon = a.epsilon === undefined ? 1e-3 : checkNumber('epsilon', a.epsilon, { min: 0, minExclusive: true });
  if (Math.fround(epsilon) <= 0 || !Number.isFinite(Math.fround(epsilon))) {
    throw rangeError('a number > 0 that float32 can represent (>= 1.4e-45 and <= 3.4e38)', 'epsilon', epsilon);
  }
  const init = (key: string, def: InitializerSpec): Initializer => getInitializer((a[key] ?? def) as InitializerSpec, key);
  return {
    a,
    parts: {
      epsilon,
      center: a.center === undefined ? true : checkBoolean('center', a.center),
      scale: a.scale === undefined ? true : checkBoolean('scale', a.scale),
      gammaInitializer: init('gammaInitializer', 'ones'),
      betaInitializer: init('betaInitializer', 'zeros'),
      gammaRegularizer: getRegularizer(a.gammaRegularizer, 'gammaRegularizer'),
      betaRegularizer: getRegularizer(a.betaRegularizer, 'betaRegularizer'),
    },
  };
}

export abstract class RowNormalization extends Layer {
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly gammaInitializer: Initializer;
  readonly betaInitializer: Initializer;
  readonly gammaRegularizer?: Regularizer;
  readonly betaRegularizer?: Regularizer;

  protected constructor(className: string, prefix: string, a: Record<string, unknown>, argName: string, p: RowNormalizationParts) {
    super(className, prefix, a as LayerArgs, argName);
    this.epsilon = p.epsilon;
    this.center = p.center;
    this.scale = p.scale;
    this.gammaInitializer = p.gammaInitializer;
    this.betaInitializer = p.betaInitializer;
    this.gammaRegularizer = p.gammaRegularizer;
    this.betaRegularizer = p.betaRegularizer;
  }

  /** Whether gamma / beta exist (RMS scaling keeps gamma and drops beta). */
  protected hasGamma(): boolean {
    return this.scale;
  }
  protected hasBeta(): boolean {
    return this.center;
  }

  protected weightSpecs(inputDim: number): WeightSpec[] {
    const shape = [inputDim];
    const specs: WeightSpec[] = [];
    if (this.hasGamma()) specs.push({ name: 'gamma', shape, trainable: true, init: () => this.gammaInitializer.init(shape, inputDim, inputDim) });
    if (this.hasBeta()) specs.push({ name: 'beta', shape, trainable: true, init: () => this.betaInitializer.init(shape, inputDim, inputDim) });
    return specs;
  }

  outputDim(inputDim: number): number {
    return inputDim;
  }

  /** The op's own attributes (groups, rms). */
  protected abstract opAttributes(): NativeOp;

  toOps(ctx?: OpContext): NativeOp[] {
    const op: NativeOp = { ...this.opAttributes(), epsilon: this.epsilon };
    if (ctx) {
      const gamma = this.weightValue('gamma');
      const beta = this.weightValue('beta');
      Object.assign(op, { gamma, beta });
      if (this.trainable && gamma) op.gradGamma = ctx.grad(gamma, this.gammaRegularizer);
      if (this.trainable && beta) op.gradBeta = ctx.grad(beta, this.betaRegularizer);
    }
    return [op];
  }

  protected rowNormConfig(): Record<string, unknown> {
    return {
      ...this.baseConfig(),
      axis: -1,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      gammaInitializer: { ...this.gammaInitializer.config },
      betaInitializer: { ...this.betaInitializer.config },
      ...(this.gammaRegularizer ? { gammaRegularizer: this.gammaRegularizer.toJSON() } : {}),
      ...(this.betaRegularizer ? { betaRegularizer: this.betaRegularizer.toJSON() } : {}),
    };
  }
}

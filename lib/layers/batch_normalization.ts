/**
 * Batch normalization over the feature axis of [batch, features] inputs.
 * Moving statistics follow the Keras convention (see getConfig().momentumConvention).
 */
import { getInitializer, Initializer, InitializerSpec } from '../initializers';
import { checkBoolean, checkNumber, checkObject, checkOneOf, checkUnknownKeys, rangeError, typeError } from '../validate';
import type { NativeOp } from '../native';
import { BASE_LAYER_KEYS, Layer, LayerArgs, OpContext, WeightSpec } from './layer';
import { registerClass } from './serialization';

export interface BatchNormalizationLayerArgs extends LayerArgs {
  /** Feature axis. Only -1 or 1 (the same axis for [batch, features]); default -1. */
  axis?: number;
  /**
   * Moving-average momentum in [0, 1), Keras convention:
   * moving = momentum * moving + (1 - momentum) * batchStat. Default 0.99.
   * null selects a cumulative average over all batches seen (PyTorch momentum=None).
   */
  momentum?: number | null;
  /** Added to the variance before the square root; must be > 0. Default 1e-3. */
  epsilon?: number;
  /** Whether to add the learned offset beta. Default true. */
  center?: boolean;
  /** Whether to multiply by the learned scale gamma. Default true; can be false when a linear/relu layer follows. */
  scale?: boolean;
  /** Initializer for gamma. Default 'ones'. */
  gammaInitializer?: InitializerSpec;
  /** Initializer for beta. Default 'zeros'. */
  betaInitializer?: InitializerSpec;
  /** Initializer for the moving mean. Default 'zeros'. */
  movingMeanInitializer?: InitializerSpec;
  /** Initializer for the moving variance. Default 'ones'. */
  movingVarianceInitializer?: InitializerSpec;
}

const BN_KEYS: readonly string[] = [
  ...BASE_LAYER_KEYS,
  'axis',
  'momentum',
  'epsilon',
  'center',
  'scale',
  'gammaInitializer',
  'betaInitializer',
  'movingMeanInitializer',
  'movingVarianceInitializer',
];

export class BatchNormalization extends Layer {
  /** The name model.json stores for this class. */
  static readonly className = 'BatchNormalization';

  readonly axis: -1 | 1;
  /** null = cumulative moving average. */
  readonly momentum: number | null;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly gammaInitializer: Initializer;
  readonly betaInitializer: Initializer;
  readonly movingMeanInitializer: Initializer;
  readonly movingVarianceInitializer: Initializer;
  /**
   * Batches folded into the moving statistics, used by the cumulative average
   * (momentum null). Length-1 array so the native core can increment it in place.
   */
  readonly numBatchesTracked = new Float64Array(1);

  constructor(args: BatchNormalizationLayerArgs = {}) {
    const a = checkObject('batchNormalization args', args);
    checkUnknownKeys('batchNormalization args', a, BN_KEYS);
    // Validate before super() so a rejected layer does not consume an auto-generated name.
    let axis: -1 | 1 = -1;
    if (a.axis !== undefined) {
      if (typeof a.axis !== 'number') throw typeError('-1 or 1 (the feature axis)', 'axis', a.axis);
      if (a.axis !== -1 && a.axis !== 1) throw rangeError('-1 or 1 (the feature axis)', 'axis', a.axis);
      axis = a.axis;
    }
    let momentum: number | null;
    if (a.momentum === null) momentum = null;
    else if (a.momentum === undefined) momentum = 0.99;
    else momentum = checkNumber('momentum', a.momentum, { min: 0, max: 1, maxExclusive: true });
    const epsilon = a.epsilon === undefined ? 1e-3 : checkNumber('epsilon', a.epsilon, { min: 0, minExclusive: true });
    // The core computes in float32: an epsilon that rounds to 0 there would divide by zero.
    if (Math.fround(epsilon) <= 0 || !Number.isFinite(Math.fround(epsilon))) {
      throw rangeError('a number > 0 that float32 can represent (>= 1.4e-45 and <= 3.4e38)', 'epsilon', epsilon);
    }
    const center = a.center === undefined ? true : checkBoolean('center', a.center);
    const scale = a.scale === undefined ? true : checkBoolean('scale', a.scale);
    const init = (key: string, def: InitializerSpec): Initializer =>
      getInitializer((a[key] ?? def) as InitializerSpec, key);
    const gammaInitializer = init('gammaInitializer', 'ones');
    const betaInitializer = init('betaInitializer', 'zeros');
    const movingMeanInitializer = init('movingMeanInitializer', 'zeros');
    const movingVarianceInitializer = init('movingVarianceInitializer', 'ones');
    super(BatchNormalization.className, 'batch_normalization', a as LayerArgs, 'batchNormalization args');
    this.axis = axis;
    this.momentum = momentum;
    this.epsilon = epsilon;
    this.center = center;
    this.scale = scale;
    this.gammaInitializer = gammaInitializer;
    this.betaInitializer = betaInitializer;
    this.movingMeanInitializer = movingMeanInitializer;
    this.movingVarianceInitializer = movingVarianceInitializer;
  }

  protected weightSpecs(inputDim: number): WeightSpec[] {
    const shape = [inputDim];
    const make = (name: string, ini: Initializer, trainable: boolean): WeightSpec => ({
      name,
      shape,
      trainable,
      init: () => ini.init(shape, inputDim, inputDim),
    });
    const specs: WeightSpec[] = [];
    if (this.scale) specs.push(make('gamma', this.gammaInitializer, true));
    if (this.center) specs.push(make('beta', this.betaInitializer, true));
    specs.push(make('moving_mean', this.movingMeanInitializer, false));
    specs.push(make('moving_variance', this.movingVarianceInitializer, false));
    return specs;
  }

  protected onBuilt(): void {
    this.numBatchesTracked[0] = 0;
  }

  outputDim(inputDim: number): number {
    return inputDim;
  }

  toOps(ctx?: OpContext): NativeOp[] {
    // No momentum: the moving statistics are the cumulative average (numBatches counts).
    const op: NativeOp = { op: 'batchNormalization', epsilon: this.epsilon, trainable: this.trainable };
    if (this.momentum !== null) op.momentum = this.momentum;
    if (ctx) {
      const gamma = this.weightValue('gamma');
      const beta = this.weightValue('beta');
      Object.assign(op, {
        gamma,
        beta,
        movingMean: this.weightValue('moving_mean'),
        movingVariance: this.weightValue('moving_variance'),
        numBatches: this.numBatchesTracked,
      });
      if (this.trainable && gamma) op.gradGamma = ctx.grad(gamma);
      if (this.trainable && beta) op.gradBeta = ctx.grad(beta);
    }
    return [op];
  }

  getConfig(): Record<string, unknown> {
    return {
      ...this.baseConfig(),
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      gammaInitializer: { ...this.gammaInitializer.config },
      betaInitializer: { ...this.betaInitializer.config },
      movingMeanInitializer: { ...this.movingMeanInitializer.config },
      movingVarianceInitializer: { ...this.movingVarianceInitializer.config },
      // Documents the update rule so files are not misread with PyTorch's inverted momentum:
      // moving = momentum * moving + (1 - momentum) * batch, with the unbiased batch variance.
      momentumConvention: 'keras',
    };
  }

  /** Inverse of getConfig(). */
  static fromConfig(config: Record<string, unknown>): BatchNormalization {
    const cfg = { ...config };
    // Only the Keras convention exists here; another one would silently invert the momentum.
    if (cfg.momentumConvention !== undefined) {
      checkOneOf('config.momentumConvention', cfg.momentumConvention, ['keras']);
      delete cfg.momentumConvention;
    }
    return new BatchNormalization(cfg as BatchNormalizationLayerArgs);
  }
}

registerClass(BatchNormalization.className, BatchNormalization.fromConfig);

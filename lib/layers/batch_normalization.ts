/**
 * Batch normalization over the feature axis of [batch, features] inputs.
 * Moving statistics follow the Keras convention (see getConfig().momentumConvention).
 */
import { getInitializer, Initializer, InitializerSpec } from '../initializers';
import { checkBoolean, checkNumber, checkObject, checkOneOf, checkPositiveInt, checkUnknownKeys, rangeError, typeError } from '../validate';
import { getRegularizer, Regularizer, RegularizerSpec } from '../regularizers';
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
  /** Penalty on gamma added to the loss: 'l1', 'l2' or dn.regularizers.*. Default none. */
  gammaRegularizer?: RegularizerSpec | null;
  /** Penalty on beta added to the loss. Default none. */
  betaRegularizer?: RegularizerSpec | null;
  /**
   * Batch renormalization (Ioffe 2017, tf.keras `renorm`): in training, x̂·r + d corrects the
   * batch statistics toward the renorm moving statistics, r and d clipped by renormClipping and
   * treated as constants in the backward. Default false.
   */
  renorm?: boolean;
  /** Bounds of r and d: { rmax ≥ 1, rmin ≤ 1, dmax ≥ 0 }, absent keys unclipped. Default none. */
  renormClipping?: { rmax?: number; rmin?: number; dmax?: number } | null;
  /** Momentum of the renorm statistics (Keras convention). Default 0.99. */
  renormMomentum?: number;
  /**
   * Ghost batch normalization (Hoffer et al. 2017): batch statistics over sub-batches of this
   * many rows, which must divide every training batch. Default null (the whole batch).
   */
  virtualBatchSize?: number | null;
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
  'gammaRegularizer',
  'betaRegularizer',
  'renorm',
  'renormClipping',
  'renormMomentum',
  'virtualBatchSize',
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
  readonly gammaRegularizer?: Regularizer;
  readonly betaRegularizer?: Regularizer;
  readonly renorm: boolean;
  readonly renormClipping: { rmax?: number; rmin?: number; dmax?: number } | null;
  readonly renormMomentum: number;
  readonly virtualBatchSize: number | null;
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
    const gammaRegularizer = getRegularizer(a.gammaRegularizer, 'gammaRegularizer');
    const betaRegularizer = getRegularizer(a.betaRegularizer, 'betaRegularizer');
    const renorm = a.renorm === undefined ? false : checkBoolean('renorm', a.renorm);
    let renormClipping: { rmax?: number; rmin?: number; dmax?: number } | null = null;
    if (a.renormClipping !== undefined && a.renormClipping !== null) {
      const c = checkObject('renormClipping', a.renormClipping);
      checkUnknownKeys('renormClipping', c, ['rmax', 'rmin', 'dmax']);
      renormClipping = {};
      if (c.rmax !== undefined) renormClipping.rmax = checkNumber('renormClipping.rmax', c.rmax, { min: 1 });
      if (c.rmin !== undefined) renormClipping.rmin = checkNumber('renormClipping.rmin', c.rmin, { min: 0, max: 1 });
      if (c.dmax !== undefined) renormClipping.dmax = checkNumber('renormClipping.dmax', c.dmax, { min: 0 });
    }
    const renormMomentum =
      a.renormMomentum === undefined ? 0.99 : checkNumber('renormMomentum', a.renormMomentum, { min: 0, max: 1 });
    let virtualBatchSize: number | null = null;
    if (a.virtualBatchSize !== undefined && a.virtualBatchSize !== null) {
      virtualBatchSize = checkPositiveInt('virtualBatchSize', a.virtualBatchSize);
      if (virtualBatchSize < 2) throw rangeError('an integer >= 2 (statistics of one row are undefined)', 'virtualBatchSize', virtualBatchSize);
    }
    if (renorm && virtualBatchSize !== null) {
      throw new RangeError('Expected renorm or virtualBatchSize, not both: batch renormalization over virtual batches is not supported');
    }
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
    this.gammaRegularizer = gammaRegularizer;
    this.betaRegularizer = betaRegularizer;
    this.renorm = renorm;
    this.renormClipping = renormClipping;
    this.renormMomentum = renormMomentum;
    this.virtualBatchSize = virtualBatchSize;
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
    if (this.renorm) {  // tf.keras's names and initial values
      specs.push({ name: 'renorm_mean', shape, trainable: false, init: () => new Float32Array(inputDim) });
      specs.push({ name: 'renorm_stddev', shape, trainable: false, init: () => new Float32Array(inputDim).fill(1) });
    }
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
    if (this.virtualBatchSize !== null) op.virtualBatchSize = this.virtualBatchSize;
    if (this.renorm) {
      Object.assign(op, { renorm: true, renormMomentum: this.renormMomentum });
      const c = this.renormClipping ?? {};
      if (c.rmax !== undefined) op.rmax = c.rmax;
      if (c.rmin !== undefined) op.rmin = c.rmin;
      if (c.dmax !== undefined) op.dmax = c.dmax;
      if (ctx) Object.assign(op, { renormMean: this.weightValue('renorm_mean'), renormStddev: this.weightValue('renorm_stddev') });
    }
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
      if (this.trainable && gamma) op.gradGamma = ctx.grad(gamma, this.gammaRegularizer);
      if (this.trainable && beta) op.gradBeta = ctx.grad(beta, this.betaRegularizer);
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
      // Only when set, so the configs of models without regularizers stay as they were.
      ...(this.gammaRegularizer ? { gammaRegularizer: this.gammaRegularizer.toJSON() } : {}),
      ...(this.betaRegularizer ? { betaRegularizer: this.betaRegularizer.toJSON() } : {}),
      ...(this.renorm
        ? { renorm: true, renormClipping: this.renormClipping ? { ...this.renormClipping } : null, renormMomentum: this.renormMomentum }
        : {}),
      ...(this.virtualBatchSize !== null ? { virtualBatchSize: this.virtualBatchSize } : {}),
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

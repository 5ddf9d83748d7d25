/** Fully connected layer: y = activation(x · kernel + bias). */
import { ActivationName, checkActivation } from '../activations';
import { getInitializer, Initializer, InitializerSpec } from '../initializers';
import { checkBoolean, checkObject, checkPositiveInt, checkUnknownKeys, rangeError, typeError } from '../validate';
import { MAX_FEATURES } from '../limits';
import type { NativeOp } from '../native';
import { BASE_LAYER_KEYS, Layer, LayerArgs, OpContext, WeightSpec } from './layer';
import { registerClass } from './serialization';

export interface DenseLayerArgs extends LayerArgs {
  /** Number of output features (positive integer). Required. */
  units: number;
  /** Input feature count; shorthand for inputShape: [inputDim] (tfjs/Keras 2 style). */
  inputDim?: number;
  /** Activation applied to the output. Default 'linear' (none). */
  activation?: ActivationName;
  /** Whether to add a bias vector. Default true; set false when a BatchNormalization follows. */
  useBias?: boolean;
  /** Initializer for the [inputDim, units] kernel. Default 'glorotUniform'. */
  kernelInitializer?: InitializerSpec;
  /** Initializer for the [units] bias. Default 'zeros'. */
  biasInitializer?: InitializerSpec;
}

const DENSE_KEYS: readonly string[] = [
  ...BASE_LAYER_KEYS,
  'units',
  'inputDim',
  'activation',
  'useBias',
  'kernelInitializer',
  'biasInitializer',
];

export class Dense extends Layer {
  /** The name model.json stores for this class. */
  static readonly className = 'Dense';

  readonly units: number;
  readonly useBias: boolean;
  readonly activation: ActivationName;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;

  constructor(args: DenseLayerArgs) {
    if (args === undefined) throw typeError('an object like { units: 10 }', 'dense args', args);
    const a = checkObject('dense args', args);
    checkUnknownKeys('dense args', a, DENSE_KEYS);
    const base: LayerArgs = { ...(a as LayerArgs) };
    if (a.inputDim !== undefined) {
      const inputDim = checkPositiveInt('dense args.inputDim', a.inputDim);
      if (base.inputShape === undefined) base.inputShape = [inputDim];
      else if (Array.isArray(base.inputShape) && base.inputShape[0] !== inputDim) {
        throw new RangeError(
          `Expected inputDim and inputShape to agree for dense args but received inputDim ${inputDim} and inputShape [${base.inputShape.join(', ')}]`,
        );
      }
    }
    // Validate before super() so a rejected layer does not consume an auto-generated name.
    const units = checkPositiveInt('units', a.units);
    if (units > MAX_FEATURES) throw rangeError(`a positive integer <= ${MAX_FEATURES}`, 'units', units);
    const activation = checkActivation(a.activation, 'activation');
    const useBias = a.useBias === undefined ? true : checkBoolean('useBias', a.useBias);
    const kernelInitializer = getInitializer(
      (a.kernelInitializer ?? 'glorotUniform') as InitializerSpec,
      'kernelInitializer',
    );
    const biasInitializer = getInitializer((a.biasInitializer ?? 'zeros') as InitializerSpec, 'biasInitializer');
    super(Dense.className, 'dense', base, 'dense args');
    this.units = units;
    this.activation = activation;
    this.useBias = useBias;
    this.kernelInitializer = kernelInitializer;
    this.biasInitializer = biasInitializer;
  }

  protected weightSpecs(inputDim: number): WeightSpec[] {
    const units = this.units;
    const specs: WeightSpec[] = [
      {
        name: 'kernel',
        shape: [inputDim, units],
        trainable: true,
        init: () => this.kernelInitializer.init([inputDim, units], inputDim, units),
      },
    ];
    if (this.useBias) {
      // Keras computes fans of a 1-D shape as fanIn = fanOut = length.
      specs.push({ name: 'bias', shape: [units], trainable: true, init: () => this.biasInitializer.init([units], units, units) });
    }
    return specs;
  }

  outputDim(inputDim: number): number {
    checkPositiveInt('inputDim', inputDim);
    return this.units;
  }

  getConfig(): Record<string, unknown> {
    return {
      ...this.baseConfig(),
      units: this.units,
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: { ...this.kernelInitializer.config },
      biasInitializer: { ...this.biasInitializer.config },
    };
  }

  toOps(ctx?: OpContext): NativeOp[] {
    const op: NativeOp = { op: 'dense', units: this.units, activation: this.activation, trainable: this.trainable };
    if (ctx) {
      const kernel = this.weightValue('kernel');
      const bias = this.weightValue('bias');
      Object.assign(op, { kernel, bias });
      if (this.trainable && kernel) op.gradKernel = ctx.grad(kernel);
      if (this.trainable && bias) op.gradBias = ctx.grad(bias);
    }
    return [op];
  }

  /** Inverse of getConfig(). */
  static fromConfig(config: Record<string, unknown>): Dense {
    return new Dense(config as unknown as DenseLayerArgs);
  }
}

registerClass(Dense.className, Dense.fromConfig);

/** Standalone activation, e.g. after a BatchNormalization (Dense -> BN -> relu). */
import { ActivationName, checkActivation } from '../activations';
import { checkObject, checkUnknownKeys, typeError } from '../validate';
import type { NativeOp } from '../native';
import { BASE_LAYER_KEYS, Layer, LayerArgs, WeightSpec } from './layer';
import { registerClass } from './serialization';

export interface ActivationLayerArgs extends LayerArgs {
  /** Activation to apply: 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax'. Required. */
  activation: ActivationName;
}

const ACTIVATION_KEYS: readonly string[] = [...BASE_LAYER_KEYS, 'activation'];

export class Activation extends Layer {
  /** The name model.json stores for this class. */
  static readonly className = 'Activation';

  readonly activation: ActivationName;

  constructor(args: ActivationLayerArgs) {
    if (args === undefined) throw typeError("an object like { activation: 'relu' }", 'activation args', args);
    const a = checkObject('activation args', args);
    checkUnknownKeys('activation args', a, ACTIVATION_KEYS);
    // Required here (unlike Dense) since a linear Activation layer is almost certainly a mistake of omission.
    if (a.activation === undefined || a.activation === null) {
      throw typeError("an activation name such as 'relu'", 'activation', a.activation);
    }
    const activation = checkActivation(a.activation, 'activation');
    super(Activation.className, 'activation', a as LayerArgs, 'activation args');
    this.activation = activation;
  }

  protected weightSpecs(): WeightSpec[] {
    return [];
  }

  outputDim(inputDim: number): number {
    return inputDim;
  }

  getConfig(): Record<string, unknown> {
    return { ...this.baseConfig(), activation: this.activation };
  }

  toOps(): NativeOp[] {
    return [{ op: 'activation', activation: this.activation }];
  }

  /** Inverse of getConfig(). */
  static fromConfig(config: Record<string, unknown>): Activation {
    return new Activation(config as unknown as ActivationLayerArgs);
  }
}

registerClass(Activation.className, Activation.fromConfig);

/** Layer classes and tfjs-style lowercase factories (`dense({ units: 10 })`). */
import { Activation, ActivationLayerArgs } from './activation';
import { BatchNormalization, BatchNormalizationLayerArgs } from './batch_normalization';
import { Dense, DenseLayerArgs } from './dense';

export { Layer } from './layer';
export type { LayerArgs, LayerWeight } from './layer';
export { Dense } from './dense';
export type { DenseLayerArgs } from './dense';
export { BatchNormalization } from './batch_normalization';
export type { BatchNormalizationLayerArgs } from './batch_normalization';
export { Activation } from './activation';
export type { ActivationLayerArgs } from './activation';
export { layerFromConfig, LAYER_CLASS_NAMES } from './serialization';
export type { LayerClassName } from './serialization';

/** Fully connected layer. */
export function dense(args: DenseLayerArgs): Dense {
  return new Dense(args);
}

/** Batch normalization over the features of [batch, features] inputs. */
export function batchNormalization(args?: BatchNormalizationLayerArgs): BatchNormalization {
  return new BatchNormalization(args);
}

/** Standalone activation layer. */
export function activation(args: ActivationLayerArgs): Activation {
  return new Activation(args);
}

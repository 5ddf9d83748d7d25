/**
 * Layer classes and tfjs-style lowercase factories (`dense({ units: 10 })`). Importing this module
 * registers every built-in layer class for layerFromConfig / loadModel; the import order below is
 * the order the "unknown class" message lists them in.
 */
import { Dense, DenseLayerArgs } from './dense';
import { BatchNormalization, BatchNormalizationLayerArgs } from './batch_normalization';
import { Activation, ActivationLayerArgs } from './activation';
import { Dropout, DropoutLayerArgs } from './dropout';
import { registeredClassNames } from './serialization';

export { Layer } from './layer';
export type { LayerArgs, LayerWeight } from './layer';
export { Dense } from './dense';
export type { DenseLayerArgs } from './dense';
export { BatchNormalization } from './batch_normalization';
export type { BatchNormalizationLayerArgs } from './batch_normalization';
export { Activation } from './activation';
export type { ActivationLayerArgs } from './activation';
export { Dropout } from './dropout';
export type { DropoutLayerArgs } from './dropout';
export { layerFromConfig, registerClass, registeredClassNames } from './serialization';
export type { LayerFromConfig } from './serialization';

/** The built-in layer class names (registeredClassNames() also lists classes registered later). */
export type LayerClassName = 'Dense' | 'BatchNormalization' | 'Activation' | 'Dropout';
export const LAYER_CLASS_NAMES: readonly LayerClassName[] = Object.freeze(registeredClassNames() as LayerClassName[]);

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

/** Inverted dropout: zeroes `rate` of the values while training, identity at inference. */
export function dropout(args: DropoutLayerArgs): Dropout {
  return new Dropout(args);
}

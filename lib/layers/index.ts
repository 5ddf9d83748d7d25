/**
 * Layer classes and tfjs-style lowercase factories (`dense({ units: 10 })`). Importing this module
 * registers every built-in layer class for layerFromConfig / loadModel; the import order below is
 * the order the "unknown class" message lists them in.
 */
import { Dense, DenseLayerArgs } from './dense';
import { BatchNormalization, BatchNormalizationLayerArgs } from './batch_normalization';
import { Activation, ActivationLayerArgs } from './activation';
import { Dropout, DropoutLayerArgs } from './dropout';
import { LayerNormalization, LayerNormalizationLayerArgs } from './layer_normalization';
import { GroupNormalization, GroupNormalizationLayerArgs } from './group_normalization';
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
export { LayerNormalization } from './layer_normalization';
export type { LayerNormalizationLayerArgs } from './layer_normalization';
export { GroupNormalization } from './group_normalization';
export type { GroupNormalizationLayerArgs } from './group_normalization';
export { layerFromConfig, registerClass, registeredClassNames } from './serialization';
export type { LayerFromConfig } from './serialization';

/** The built-in layer class names (registeredClassNames() also lists classes registered later). */
export type LayerClassName =
  | 'Dense'
  | 'BatchNormalization'
  | 'Activation'
  | 'Dropout'
  | 'LayerNormalization'
  | 'GroupNormalization';
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

/** Layer normalization: each row over its features (rmsScaling: RMSNorm). */
export function layerNormalization(args?: LayerNormalizationLayerArgs): LayerNormalization {
  return new LayerNormalization(args);
}

/** Group normalization: each row over each of `groups` contiguous groups of features. */
export function groupNormalization(args?: GroupNormalizationLayerArgs): GroupNormalization {
  return new GroupNormalization(args);
}

/** Rebuilds layers from getConfig() output, e.g. when loading a saved model. */
import { checkObject, checkOneOf } from '../validate';
import { Activation, ActivationLayerArgs } from './activation';
import { BatchNormalization, BatchNormalizationLayerArgs } from './batch_normalization';
import { Dense, DenseLayerArgs } from './dense';
import { Layer } from './layer';

export const LAYER_CLASS_NAMES = Object.freeze(['Dense', 'BatchNormalization', 'Activation'] as const);
export type LayerClassName = (typeof LAYER_CLASS_NAMES)[number];

/**
 * Creates an unbuilt layer from a class name and a config as produced by
 * getConfig(). Unknown class names or options are RangeErrors; the model
 * loader wraps them into DensenormError('ERR_MODEL_FILE') for files.
 */
export function layerFromConfig(className: string, config: Record<string, unknown>): Layer {
  const cls = checkOneOf('className', className, LAYER_CLASS_NAMES);
  const cfg = { ...checkObject('config', config) };
  switch (cls) {
    case 'Dense':
      return new Dense(cfg as unknown as DenseLayerArgs);
    case 'BatchNormalization': {
      // Only the Keras convention exists here; another one would silently invert the momentum.
      if (cfg.momentumConvention !== undefined) {
        checkOneOf('config.momentumConvention', cfg.momentumConvention, ['keras']);
        delete cfg.momentumConvention;
      }
      return new BatchNormalization(cfg as BatchNormalizationLayerArgs);
    }
    case 'Activation':
      return new Activation(cfg as unknown as ActivationLayerArgs);
    default: {
      const never: never = cls;
      throw new RangeError(`unreachable layer class ${String(never)}`);
    }
  }
}

/**
 * Rebuilds layers from getConfig() output, e.g. when loading a saved model. Each layer file
 * registers its class here (tfjs-layers' registerClass), so a new layer needs no edit in this file.
 */
import { checkObject, checkOneOf, checkString, rangeError, typeError } from '../validate';
import type { Layer } from './layer';

/** Creates an unbuilt layer from a config as produced by its getConfig(). */
export type LayerFromConfig = (config: Record<string, unknown>) => Layer;

const registry = new Map<string, LayerFromConfig>();

/**
 * Makes className loadable by layerFromConfig (and so by loadModel). Registering the same
 * function again is a no-op; another function under a taken name is a RangeError.
 */
export function registerClass(className: string, fromConfig: LayerFromConfig): void {
  if (checkString('className', className).length === 0) throw rangeError('a non-empty string', 'className', className);
  if (typeof fromConfig !== 'function') throw typeError('a function (config) => Layer', 'fromConfig', fromConfig);
  const known = registry.get(className);
  if (known !== undefined && known !== fromConfig) {
    throw new RangeError(`Expected a class name not registered yet for className but received "${className}", already registered`);
  }
  registry.set(className, fromConfig);
}

/** Registered class names, in registration order. */
export function registeredClassNames(): string[] {
  return [...registry.keys()];
}

/**
 * Creates an unbuilt layer from a class name and a config as produced by
 * getConfig(). Unknown class names or options are RangeErrors; the model
 * loader wraps them into DensenormError('ERR_MODEL_FILE') for files.
 */
export function layerFromConfig(className: string, config: Record<string, unknown>): Layer {
  const cls = checkOneOf('className', className, registeredClassNames());
  const cfg = { ...checkObject('config', config) };
  return registry.get(cls)!(cfg);
}

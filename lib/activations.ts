/** Activations implemented by the native core (fused after Dense/BN). */
import { oneOfText, rangeError, typeError } from './validate';

export type ActivationName = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax';

export const ACTIVATIONS: readonly ActivationName[] = Object.freeze(['linear', 'relu', 'sigmoid', 'tanh', 'softmax']);

/** undefined/null mean 'linear' (the Keras default for Dense). Case-sensitive like tfjs. */
export function checkActivation(name: unknown, argName: string): ActivationName {
  if (name === undefined || name === null) return 'linear';
  const expected = oneOfText(ACTIVATIONS);
  if (typeof name !== 'string') throw typeError(expected, argName, name);
  if (!(ACTIVATIONS as readonly string[]).includes(name)) throw rangeError(expected, argName, name);
  return name as ActivationName;
}

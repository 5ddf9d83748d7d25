/** Loss names (tfjs camelCase, Keras snake_case accepted) and their native codes. */
import { LOSS_CODES } from './native';
import { oneOfText, typeError } from './validate';

export type LossName = keyof typeof LOSS_CODES;
export const LOSS_NAMES: readonly LossName[] = Object.freeze(Object.keys(LOSS_CODES) as LossName[]);

const ALIASES: Record<string, LossName> = {
  categorical_crossentropy: 'categoricalCrossentropy',
  sparse_categorical_crossentropy: 'sparseCategoricalCrossentropy',
  binary_crossentropy: 'binaryCrossentropy',
  mean_squared_error: 'meanSquaredError',
  mse: 'meanSquaredError',
};

export function checkLoss(v: unknown, argName = 'loss'): LossName {
  if (typeof v !== 'string') throw typeError(oneOfText(LOSS_NAMES), argName, v);
  if ((LOSS_NAMES as readonly string[]).includes(v)) return v as LossName;
  const alias = ALIASES[v];
  if (alias) return alias;
  throw new RangeError(`Expected ${oneOfText(LOSS_NAMES)} for ${argName} but received a string ${JSON.stringify(v)}`);
}

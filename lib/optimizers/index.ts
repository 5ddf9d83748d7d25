import { isPlainObject, oneOfText, typeError } from '../validate';
import { Adam, AdamArgs } from './adam';
import { Optimizer, OptimizerCommonArgs, OptimizerName } from './optimizer';
import { RMSprop, RmspropArgs } from './rmsprop';
import { SGD, SgdArgs } from './sgd';

export { Optimizer, OptimizerCommonArgs, OptimizerName, SGD, SgdArgs, Adam, AdamArgs, RMSprop, RmspropArgs };

export function sgd(args?: SgdArgs): SGD {
  return new SGD(args);
}
export function adam(args?: AdamArgs): Adam {
  return new Adam(args);
}
export function rmsprop(args?: RmspropArgs): RMSprop {
  return new RMSprop(args);
}

const NAMES = ['sgd', 'adam', 'rmsprop'] as const;

/** An Optimizer, or its name with default settings. */
export function getOptimizer(spec: unknown, argName = 'optimizer'): Optimizer {
  if (spec instanceof Optimizer) return spec;
  if (typeof spec === 'string') {
    const key = spec.toLowerCase();
    if (key === 'sgd') return new SGD();
    if (key === 'adam') return new Adam();
    if (key === 'rmsprop') return new RMSprop();
    throw new RangeError(`Expected ${oneOfText(NAMES)} for ${argName} but received a string ${JSON.stringify(spec)}`);
  }
  if (isPlainObject(spec)) throw typeError(`an Optimizer (dn.optimizers.adam(...)) or ${oneOfText(NAMES)}`, argName, spec);
  throw typeError(`an Optimizer or ${oneOfText(NAMES)}`, argName, spec);
}

/**
 * Weight regularizers with Keras's definitions (keras/src/regularizers): the loss of every training
 * batch (and evaluate's) gains l1·Σ|w| + l2·Σw² (no ½), the gradient l1·sign(w) + 2·l2·w, both
 * computed natively on the weights before the update. Serialized as tfjs does:
 * `{className: 'L1L2', config: {l1, l2}}`.
 */
import { checkNumber, checkObject, checkUnknownKeys, describe, isPlainObject, oneOfText, rangeError, typeError } from './validate';

/** A regularizer as a layer config stores it. */
export interface RegularizerConfig {
  className: 'L1L2' | 'L1' | 'L2';
  config: { l1?: number; l2?: number };
}

/** 'l1' (l1 0.01), 'l2' (l2 0.01), a Regularizer, or its config. */
export type RegularizerSpec = 'l1' | 'l2' | Regularizer | RegularizerConfig;

/** l1·Σ|w| + l2·Σw² of a weight (tfjs's L1L2, the one class every regularizer here is). */
export class Regularizer {
  static readonly className = 'L1L2';
  readonly l1: number;
  readonly l2: number;

  constructor(args: { l1?: number; l2?: number } = {}) {
    const a = checkObject('l1l2 args', args);
    checkUnknownKeys('l1l2 args', a, ['l1', 'l2']);
    this.l1 = checkNumber('l1', a.l1 ?? 0, { min: 0 });
    this.l2 = checkNumber('l2', a.l2 ?? 0, { min: 0 });
  }

  /** The penalty of values, in float64 (a reference; training computes it natively). */
  penalty(values: ArrayLike<number>): number {
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < values.length; i++) {
      s1 += Math.abs(values[i]);
      s2 += values[i] * values[i];
    }
    return this.l1 * s1 + this.l2 * s2;
  }

  getConfig(): { l1: number; l2: number } {
    return { l1: this.l1, l2: this.l2 };
  }

  /** The form a layer config stores. */
  toJSON(): RegularizerConfig {
    return { className: 'L1L2', config: this.getConfig() };
  }
}

/** L1 regularization: l1·Σ|w|. Default l1 0.01. */
export function l1(args: { l1?: number } = {}): Regularizer {
  const a = checkObject('l1 args', args);
  checkUnknownKeys('l1 args', a, ['l1']);
  return new Regularizer({ l1: (a.l1 ?? 0.01) as number });
}

/** L2 regularization: l2·Σw² (no ½). Default l2 0.01. */
export function l2(args: { l2?: number } = {}): Regularizer {
  const a = checkObject('l2 args', args);
  checkUnknownKeys('l2 args', a, ['l2']);
  return new Regularizer({ l2: (a.l2 ?? 0.01) as number });
}

/** Both: l1·Σ|w| + l2·Σw². Defaults l1 0, l2 0 (Keras's L1L2). */
export function l1l2(args: { l1?: number; l2?: number } = {}): Regularizer {
  return new Regularizer(args);
}

const NAMES = ['l1', 'l2'] as const;
const CLASS_NAMES = ['L1L2', 'L1', 'L2'] as const;

/** A Regularizer from a layer argument; undefined or null: none. */
export function getRegularizer(spec: unknown, argName: string): Regularizer | undefined {
  if (spec === undefined || spec === null) return undefined;
  if (spec instanceof Regularizer) return spec;
  const expected = `${oneOfText(NAMES)}, a regularizer (dn.regularizers.l2(...)) or { className: 'L1L2', config: { l1, l2 } }`;
  if (typeof spec === 'string') {
    if (spec === 'l1') return l1();
    if (spec === 'l2') return l2();
    throw rangeError(expected, argName, spec);
  }
  if (!isPlainObject(spec)) throw typeError(expected, argName, spec);
  const cls = spec.className;
  if (typeof cls !== 'string' || !(CLASS_NAMES as readonly string[]).includes(cls)) {
    throw rangeError(oneOfText(CLASS_NAMES), `${argName}.className`, cls);
  }
  checkUnknownKeys(argName, spec, ['className', 'config']);
  const cfg = checkObject(`${argName}.config`, spec.config);
  try {
    // Keras's L1 and L2 classes default their one factor to 0.01; L1L2's are 0.
    if (cls === 'L1') return l1(cfg as { l1?: number });
    if (cls === 'L2') return l2(cfg as { l2?: number });
    return l1l2(cfg as { l1?: number; l2?: number });
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError) {
      const E = e instanceof RangeError ? RangeError : TypeError;
      throw new E(`${(e as Error).message} (in ${argName}: ${describe(spec)})`);
    }
    throw e;
  }
}

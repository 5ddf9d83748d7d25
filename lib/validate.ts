/**
 * Argument validation shared by the whole public API, so every message has the
 * same shape: `Expected <what> for <arg> but received <actual>`.
 * Wrong type -> TypeError, right type but bad value -> RangeError.
 */
import { MAX_FEATURES } from './limits';

const MAX_STRING_PREVIEW = 40;

/** Short, printable description of any value for error messages. */
export function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  switch (typeof v) {
    case 'number':
      if (Number.isNaN(v)) return 'NaN';
      if (Object.is(v, -0)) return '-0';
      return String(v);
    case 'bigint':
      return `a bigint ${String(v)}n`;
    case 'boolean':
      return String(v);
    case 'string': {
      const s = v.length > MAX_STRING_PREVIEW ? `${v.slice(0, MAX_STRING_PREVIEW)}...` : v;
      return `a string ${JSON.stringify(s)}`;
    }
    case 'symbol':
      return `a symbol ${String(v)}`;
    case 'function':
      return v.name ? `a function ${v.name}` : 'a function';
    default:
      break;
  }
  if (Array.isArray(v)) return `an array(${v.length})`;
  if (ArrayBuffer.isView(v)) {
    const name = v.constructor?.name ?? 'TypedArray';
    const len = v instanceof DataView ? v.byteLength : (v as unknown as { length: number }).length;
    return `${article(name)} ${name}(${len})`;
  }
  if (v instanceof ArrayBuffer) return `an ArrayBuffer(${v.byteLength})`;
  const proto = Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null;
  const ctor = proto?.constructor?.name;
  if (proto === null || ctor === 'Object' || !ctor) return 'an object';
  return `${article(ctor)} ${ctor}`;
}

function article(word: string): string {
  return /^[aeiouAEIOU]/.test(word) ? 'an' : 'a';
}

/** Builds the single message wording used everywhere. */
export function expectedMessage(expected: string, argName: string, actual: unknown): string {
  return `Expected ${expected} for ${argName} but received ${describe(actual)}`;
}

export function typeError(expected: string, argName: string, actual: unknown): TypeError {
  return new TypeError(expectedMessage(expected, argName, actual));
}

export function rangeError(expected: string, argName: string, actual: unknown): RangeError {
  return new RangeError(expectedMessage(expected, argName, actual));
}

function checkNumberType(argName: string, v: unknown, expected: string): asserts v is number {
  if (typeof v !== 'number') throw typeError(expected, argName, v);
}

/** Integer >= 1 (and a safe integer, so it survives JSON and native size_t casts). */
export function checkPositiveInt(argName: string, v: unknown): number {
  const expected = 'a positive integer';
  checkNumberType(argName, v, expected);
  if (!Number.isSafeInteger(v) || v < 1) throw rangeError(expected, argName, v);
  return v;
}

/** Integer >= 0. */
export function checkNonNegInt(argName: string, v: unknown): number {
  const expected = 'a non-negative integer';
  checkNumberType(argName, v, expected);
  if (!Number.isSafeInteger(v) || v < 0) throw rangeError(expected, argName, v);
  return v;
}

export interface NumberBounds {
  min?: number;
  max?: number;
  /** When true, `min` itself is rejected (e.g. epsilon > 0). */
  minExclusive?: boolean;
  /** When true, `max` itself is rejected (e.g. momentum < 1). */
  maxExclusive?: boolean;
}

function boundsText(b: NumberBounds): string {
  const parts: string[] = [];
  if (b.min !== undefined) parts.push(`${b.minExclusive ? '>' : '>='} ${b.min}`);
  if (b.max !== undefined) parts.push(`${b.maxExclusive ? '<' : '<='} ${b.max}`);
  return parts.length ? `a finite number ${parts.join(' and ')}` : 'a finite number';
}

/** Finite number, optionally bounded. */
export function checkNumber(argName: string, v: unknown, bounds: NumberBounds = {}): number {
  const expected = boundsText(bounds);
  checkNumberType(argName, v, expected);
  if (!Number.isFinite(v)) throw rangeError(expected, argName, v);
  const { min, max, minExclusive, maxExclusive } = bounds;
  if (min !== undefined && (minExclusive ? v <= min : v < min)) throw rangeError(expected, argName, v);
  if (max !== undefined && (maxExclusive ? v >= max : v > max)) throw rangeError(expected, argName, v);
  return v;
}

export function checkBoolean(argName: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw typeError('a boolean', argName, v);
  return v;
}

export function checkString(argName: string, v: unknown): string {
  if (typeof v !== 'string') throw typeError('a string', argName, v);
  return v;
}

/** Formats a list of allowed strings for messages: 'one of "a", "b" or "c"'. */
export function oneOfText(allowed: readonly string[]): string {
  const quoted = allowed.map((a) => JSON.stringify(a));
  if (quoted.length <= 1) return quoted.join('');
  return `one of ${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

export function checkOneOf<T extends string>(argName: string, v: unknown, allowed: readonly T[]): T {
  const expected = oneOfText(allowed);
  if (typeof v !== 'string') throw typeError(expected, argName, v);
  if (!(allowed as readonly string[]).includes(v)) throw rangeError(expected, argName, v);
  return v as T;
}

/** True for `{}` literals and Object.create(null); false for arrays, class instances, typed arrays. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === null || proto === Object.prototype;
}

/**
 * Options bag: a plain object, or undefined (treated as {} so callers can
 * destructure defaults without a second check).
 */
export function checkObject(argName: string, v: unknown): Record<string, unknown> {
  if (v === undefined) return {};
  if (!isPlainObject(v)) throw typeError('a plain object', argName, v);
  return v;
}

/**
 * Rejects keys not in allowedKeys. Silently ignoring them would let typos such
 * as `unit: 10` (for `units`) fall back to defaults unnoticed.
 */
export function checkUnknownKeys(argName: string, obj: Record<string, unknown>, allowedKeys: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowedKeys.includes(key)) {
      const hint = closest(key, allowedKeys);
      throw new RangeError(
        `Unknown option ${JSON.stringify(key)} in ${argName}` +
          (hint ? ` (did you mean ${JSON.stringify(hint)}?)` : '') +
          `; allowed options are ${allowedKeys.map((k) => JSON.stringify(k)).join(', ')}`,
      );
    }
  }
}

/** Nearest allowed key by edit distance, for the "did you mean" hint; undefined if nothing is close. */
function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const k = key.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(k, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** `[n]` with n a positive int: the Keras `inputShape` for a [batch, features] layer. */
export function checkInputShape(argName: string, v: unknown): [number] {
  const expected = 'an array of one positive integer like [784]';
  if (!Array.isArray(v)) throw typeError(expected, argName, v);
  if (v.length !== 1) throw rangeError(expected, argName, v);
  if (typeof v[0] !== 'number') throw typeError(expected, argName, v[0]);
  if (!Number.isSafeInteger(v[0]) || v[0] < 1) throw rangeError(expected, argName, v[0]);
  if (v[0] > MAX_FEATURES) throw rangeError(`at most ${MAX_FEATURES} features`, argName, v[0]);
  return [v[0]];
}

/** `[null, n]` (null/undefined batch dimension): the Keras `batchInputShape`. */
export function checkBatchInputShape(argName: string, v: unknown): [null, number] {
  const expected = 'an array like [null, features] with features a positive integer';
  if (!Array.isArray(v)) throw typeError(expected, argName, v);
  if (v.length !== 2) throw rangeError(expected, argName, v);
  // A concrete batch size is accepted but ignored: the models here are batch-size agnostic.
  if (v[0] !== null && v[0] !== undefined && !(Number.isSafeInteger(v[0]) && (v[0] as number) >= 1)) {
    throw rangeError(expected, argName, v);
  }
  if (typeof v[1] !== 'number') throw typeError(expected, argName, v[1]);
  if (!Number.isSafeInteger(v[1]) || v[1] < 1) throw rangeError(expected, argName, v[1]);
  if (v[1] > MAX_FEATURES) throw rangeError(`at most ${MAX_FEATURES} features`, argName, v[1]);
  return [null, v[1]];
}

/**
 * Minimal dense float32 tensor. Data is always a Float32Array in row-major
 * order because that is what the native core reads directly (no conversion).
 */
import { shapeSize } from './util/shape';
import { describe, expectedMessage, rangeError, typeError } from './validate';

export class Tensor {
  /** Row-major values. May be shared with the array passed to tensor(): no copy is made. */
  readonly data: Float32Array;
  /** Dimensions (frozen), e.g. [rows, features]. */
  readonly shape: number[];

  /**
   * Prefer the `tensor()` factory, which validates its input. The constructor
   * still checks size consistency because a mismatched shape would make the
   * native core read out of bounds.
   */
  constructor(data: Float32Array, shape: readonly number[]) {
    if (!(data instanceof Float32Array)) throw typeError('a Float32Array', 'data', data);
    const s = checkShape(shape, 'shape');
    if (shapeSize(s) !== data.length) {
      throw new RangeError(
        `Expected shape [${s.join(', ')}] (${shapeSize(s)} values) to match data length ${data.length}`,
      );
    }
    this.data = data;
    this.shape = Object.freeze(s) as number[];
  }

  /** Total number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Nested plain arrays: rows of a rank-2 tensor; a rank-1 tensor gives one row per element. */
  toArray(): number[][] {
    if (this.rank === 1) return Array.from(this.data, (v) => [v]);
    if (this.rank !== 2) {
      throw new RangeError(`Expected a tensor of rank 1 or 2 for toArray() but received rank ${this.rank}`);
    }
    const [rows, cols] = this.shape;
    const out: number[][] = new Array(rows);
    for (let r = 0; r < rows; r++) out[r] = Array.from(this.data.subarray(r * cols, (r + 1) * cols));
    return out;
  }

  /** All values as one flat array, whatever the rank. */
  toFlatArray(): number[] {
    return Array.from(this.data);
  }

  /** Deep copy: the new tensor owns a fresh Float32Array. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Same data (shared, not copied) viewed with another shape of equal size. */
  reshape(shape: readonly number[]): Tensor {
    return new Tensor(this.data, shape);
  }

  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}])`;
  }
}

/** Anything the API accepts where a tensor is expected. */
export type TensorLike = Tensor | Float32Array | number[] | number[][];

function checkShape(shape: unknown, argName: string): number[] {
  const expected = 'an array of positive integers';
  if (!Array.isArray(shape)) throw typeError(expected, argName, shape);
  if (shape.length === 0) throw rangeError('a non-empty array of positive integers', argName, shape);
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number') throw typeError('a positive integer', `${argName}[${i}]`, d);
    if (!Number.isSafeInteger(d) || d < 1) throw rangeError('a positive integer', `${argName}[${i}]`, d);
    out.push(d);
  }
  return out;
}

/** TypeError for views over a transferred/detached buffer, whose length silently reads as 0. */
function checkNotDetached(v: ArrayBufferView, argName: string): void {
  const buf = v.buffer as ArrayBuffer & { detached?: boolean };
  let detached = buf.detached === true;
  if (buf.detached === undefined) {
    // Node 20 lacks ArrayBuffer#detached; constructing a view over a detached buffer throws.
    try {
      new Uint8Array(buf, 0, 0);
    } catch {
      detached = true;
    }
  }
  if (detached) throw new TypeError(`Expected a Float32Array with an attached buffer for ${argName} but received a Float32Array whose ArrayBuffer was detached (transferred)`);
}

const VALUES_EXPECTED = 'a Float32Array, a number[] or a number[][]';

/** Copies nested rows into a fresh Float32Array, rejecting ragged or non-numeric input. */
function fromNested(rows: unknown[], argName: string): { data: Float32Array; shape: number[] } {
  const first = rows[0];
  if (!Array.isArray(first)) throw typeError('an array of numbers', `${argName}[0]`, first);
  const cols = first.length;
  if (cols === 0) throw rangeError('a non-empty row', `${argName}[0]`, first);
  const data = new Float32Array(rows.length * cols);
  for (let r = 0; r < rows.length; r++) {
    const row: unknown = rows[r];
    if (!Array.isArray(row)) throw typeError('an array of numbers', `${argName}[${r}]`, row);
    if (row.length !== cols) {
      throw new RangeError(
        `Expected a row of length ${cols} (like ${argName}[0]) for ${argName}[${r}] but received a row of length ${row.length}`,
      );
    }
    for (let c = 0; c < cols; c++) {
      const v: unknown = row[c];
      if (typeof v !== 'number') throw typeError('a number', `${argName}[${r}][${c}]`, v);
      data[r * cols + c] = v;
    }
  }
  return { data, shape: [rows.length, cols] };
}

function fromFlat(values: unknown[], argName: string): Float32Array {
  const data = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v: unknown = values[i];
    if (typeof v !== 'number') throw typeError('a number', `${argName}[${i}]`, v);
    data[i] = v;
  }
  return data;
}

/** Converts any accepted input to (data, natural shape). Float32Array and Tensor data are shared, arrays copied. */
function toData(values: unknown, argName: string): { data: Float32Array; shape: number[] } {
  if (values instanceof Tensor) return { data: values.data, shape: values.shape.slice() };
  if (values instanceof Float32Array) {
    checkNotDetached(values, argName);
    return { data: values, shape: [values.length] };
  }
  if (Array.isArray(values)) {
    if (values.length === 0) throw rangeError('a non-empty array', argName, values);
    if (Array.isArray(values[0])) return fromNested(values, argName);
    const data = fromFlat(values, argName);
    return { data, shape: [data.length] };
  }
  throw typeError(VALUES_EXPECTED, argName, values);
}

/**
 * Creates a Tensor.
 * - Float32Array: used as-is (NOT copied); shape defaults to [length].
 * - number[]: copied; shape defaults to [length].
 * - number[][]: rows, copied; shape [rows, cols]; ragged rows are a RangeError.
 * A given shape must have the same number of elements as the data.
 * Non-finite values are allowed here; models validate their inputs later.
 */
export function tensor(values: TensorLike, shape?: readonly number[]): Tensor {
  const { data, shape: natural } = toData(values, 'values');
  if (shape === undefined) {
    if (data.length === 0) throw rangeError('a non-empty array', 'values', values);
    return values instanceof Tensor ? values : new Tensor(data, natural);
  }
  const s = checkShape(shape, 'shape');
  const n = shapeSize(s);
  if (n !== data.length) {
    throw new RangeError(
      `Expected values with ${n} elements for shape [${s.join(', ')}] but received ${data.length} values`,
    );
  }
  return new Tensor(data, s);
}

/**
 * Normalizes an x/y argument to a [rows, features] Tensor (data shared when possible).
 * Rank-1 input of length n becomes [n, 1], except when expectedFeatures > 1, in which case
 * it is read as a flat row-major batch [n / expectedFeatures, expectedFeatures].
 */
export function toTensor2D(value: TensorLike, argName: string, expectedFeatures?: number): Tensor {
  const { data, shape } = toData(value, argName);
  if (data.length === 0) {
    throw new RangeError(`Expected at least one row for ${argName} but received ${describe(value)} with no values`);
  }
  let rows: number;
  let cols: number;
  if (shape.length === 2) {
    [rows, cols] = shape;
  } else if (shape.length === 1) {
    if (expectedFeatures !== undefined && expectedFeatures > 1) {
      if (data.length % expectedFeatures !== 0) {
        throw new RangeError(
          expectedMessage(
            `a flat array whose length is a multiple of ${expectedFeatures} (the number of features)`,
            argName,
            value,
          ),
        );
      }
      rows = data.length / expectedFeatures;
      cols = expectedFeatures;
    } else {
      rows = data.length;
      cols = 1;
    }
  } else {
    throw new RangeError(
      `Expected a tensor of rank 1 or 2 ([rows, features]) for ${argName} but received shape [${shape.join(', ')}]`,
    );
  }
  if (expectedFeatures !== undefined && cols !== expectedFeatures) {
    throw new RangeError(
      `Expected ${expectedFeatures} features per row (shape [rows, ${expectedFeatures}]) for ${argName} but received ${cols} features (shape [${rows}, ${cols}])`,
    );
  }
  if (value instanceof Tensor && value.rank === 2) return value;
  return new Tensor(data, [rows, cols]);
}

/**
 * Seeded PRNG (sfc32, state expanded from the seed with splitmix32) plus a
 * Keras-like global seed. Math.random cannot be seeded, and reproducible
 * initialization/shuffling is required for setSeed() to mean anything.
 */
import { rangeError, typeError } from './validate';

/** splitmix32 step: spreads a 32-bit seed into well-mixed state words. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const TWO_POW_32 = 4294967296;

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** Box-Muller produces pairs; the second value is kept for the next call. */
  private spare: number | null = null;

  /** @param seed any integer; only its low 32 bits matter. */
  constructor(seed: number) {
    if (typeof seed !== 'number') throw typeError('an integer', 'seed', seed);
    if (!Number.isInteger(seed)) throw rangeError('an integer', 'seed', seed);
    // Fold the high bits in too so seeds >= 2^32 are not silently aliased to their low word.
    const st = { s: (seed | 0) ^ Math.floor(seed / TWO_POW_32) };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    // Warm up so closely related seeds diverge fully.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** Uniform 32-bit unsigned integer (sfc32). */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal N(0, 1) via Box-Muller. */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    // 1 - next() is in (0, 1], so log() never sees 0.
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * v;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /**
   * Normal with the given std, resampled while beyond 2 standard deviations,
   * matching tf.random.truncated_normal (which Keras initializers use).
   */
  truncatedNormal(std = 1, mean = 0): number {
    let z: number;
    do z = this.normal();
    while (z < -2 || z > 2);
    return mean + std * z;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). */
  int(n: number): number {
    if (!(Number.isInteger(n) && n >= 1 && n <= TWO_POW_32)) {
      throw rangeError('an integer between 1 and 2^32', 'n', n);
    }
    // Reject the tail of the 32-bit range that would bias small residues.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let x: number;
    do x = this.nextUint32();
    while (x >= limit);
    return x % n;
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle(indices: Int32Array | Uint32Array | number[]): void {
    for (let i = indices.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = indices[i];
      indices[i] = indices[j];
      indices[j] = t;
    }
  }
}

let global: Rng | null = null;

/** Seed from Math.random for unseeded runs (non-reproducible by design, like Keras without a seed). */
function randomSeed(): number {
  return Math.floor(Math.random() * TWO_POW_32);
}

/**
 * Seeds the global generator (like keras.utils.set_random_seed): after
 * setSeed(n), initializers without their own seed and shuffling are reproducible.
 */
export function setSeed(seed: number): void {
  if (typeof seed !== 'number') throw typeError('a non-negative integer', 'seed', seed);
  if (!Number.isSafeInteger(seed) || seed < 0) throw rangeError('a non-negative integer', 'seed', seed);
  global = new Rng(seed);
}

/** The global generator, created from a random seed if setSeed() was never called. */
export function globalRng(): Rng {
  if (global === null) global = new Rng(randomSeed());
  return global;
}

/** Draws a fresh 32-bit seed from the global generator, e.g. one per initializer call. */
export function deriveSeed(): number {
  return globalRng().nextUint32();
}

/** 0, 1, ..., n - 1: a row order before any shuffle. */
export function identityOrder(n: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}

/** A seeded random order of 0..n-1 (identityOrder, then one Fisher-Yates shuffle). */
export function shuffledOrder(n: number, rng: Rng): Int32Array {
  const order = identityOrder(n);
  rng.shuffle(order);
  return order;
}

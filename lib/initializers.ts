/**
 * Weight initializers with Keras/TF semantics (VarianceScaling family uses a
 * truncated normal with the 0.8796... correction, uniform limits sqrt(3*scale/fan)).
 */
import { deriveSeed, Rng } from './random';
import {
  checkNonNegInt,
  checkNumber,
  checkUnknownKeys,
  describe,
  isPlainObject,
  oneOfText,
  rangeError,
  typeError,
} from './validate';

export type InitializerName =
  | 'glorotUniform'
  | 'glorotNormal'
  | 'heNormal'
  | 'heUniform'
  | 'lecunNormal'
  | 'lecunUniform'
  | 'zeros'
  | 'ones'
  | 'randomNormal'
  | 'randomUniform'
  | 'constant';

export const INITIALIZER_NAMES: readonly InitializerName[] = Object.freeze([
  'glorotUniform',
  'glorotNormal',
  'heNormal',
  'heUniform',
  'lecunNormal',
  'lecunUniform',
  'zeros',
  'ones',
  'randomNormal',
  'randomUniform',
  'constant',
]);

/** Object form of an initializer, as stored in a layer config. */
export interface InitializerConfig {
  /** Initializer name (camelCase; snake_case and PascalCase are accepted on input). */
  className: InitializerName;
  /** Fixed seed: every init() call then yields the same values. Without it a seed is drawn from the global RNG. */
  seed?: number;
  /** `constant` only: the fill value (default 0). */
  value?: number;
  /** `randomNormal` only: mean (default 0). */
  mean?: number;
  /** `randomNormal` only: standard deviation (default 0.05, as Keras). */
  stddev?: number;
  /** `randomUniform` only: lower bound (default -0.05, as Keras). */
  minval?: number;
  /** `randomUniform` only: upper bound, exclusive (default 0.05, as Keras). */
  maxval?: number;
}

export type InitializerSpec = InitializerName | InitializerConfig;

/** A validated initializer, ready to produce weights. */
export interface Initializer {
  readonly name: InitializerName;
  /** JSON-serializable spec that recreates this initializer via getInitializer(). */
  readonly config: InitializerConfig;
  /** Fresh array with product(shape) values. fanIn/fanOut only matter for the variance-scaling family. */
  init(shape: readonly number[], fanIn: number, fanOut: number): Float32Array;
}

/** Keras's constant: std of a unit normal truncated to [-2, 2] is 0.8796..., so divide to restore the target std. */
const TRUNC_STD_CORRECTION = 0.87962566103423978;

/** 'glorot_uniform', 'GlorotUniform', 'glorotUniform' -> same key. */
function normKey(s: string): string {
  return s.replace(/_/g, '').toLowerCase();
}

const BY_KEY: ReadonlyMap<string, InitializerName> = new Map(
  INITIALIZER_NAMES.map((n) => [normKey(n), n] as [string, InitializerName]),
);

/** Extra config keys each initializer accepts (besides className and seed where random). */
const PARAMS: Record<InitializerName, readonly string[]> = {
  glorotUniform: ['seed'],
  glorotNormal: ['seed'],
  heNormal: ['seed'],
  heUniform: ['seed'],
  lecunNormal: ['seed'],
  lecunUniform: ['seed'],
  zeros: [],
  ones: [],
  randomNormal: ['seed', 'mean', 'stddev'],
  randomUniform: ['seed', 'minval', 'maxval'],
  constant: ['value'],
};

function resolveName(v: unknown, argName: string): InitializerName {
  const expected = `an initializer name (${oneOfText(INITIALIZER_NAMES)})`;
  if (typeof v !== 'string') throw typeError(expected, argName, v);
  const name = BY_KEY.get(normKey(v));
  if (name === undefined) throw rangeError(expected, argName, v);
  return name;
}

/**
 * Validates an initializer spec: a name ('glorotUniform', 'glorot_uniform', 'GlorotUniform'),
 * an object { className, seed?, ... }, or a Keras-JSON object { class_name, config }.
 */
export function getInitializer(spec: InitializerSpec, argName: string): Initializer {
  const raw: unknown = spec;
  let config: InitializerConfig;
  if (typeof raw === 'string') {
    config = { className: resolveName(raw, argName) };
  } else if (isPlainObject(raw)) {
    let obj: Record<string, unknown> = raw;
    // Keras JSON form: { class_name: 'GlorotUniform', config: { seed: 1 } }.
    if ('class_name' in obj && !('className' in obj)) {
      checkUnknownKeys(argName, obj, ['class_name', 'config', 'module', 'registered_name']);
      const inner = obj.config ?? {};
      if (!isPlainObject(inner)) throw typeError('a plain object', `${argName}.config`, inner);
      obj = { className: obj.class_name, ...inner };
    }
    const name = resolveName(obj.className, `${argName}.className`);
    checkUnknownKeys(argName, obj, ['className', ...PARAMS[name]]);
    config = { className: name };
    if (obj.seed !== undefined && obj.seed !== null) {
      const seed = checkNonNegInt(`${argName}.seed`, obj.seed);
      if (seed > 0xffffffff) throw rangeError('a 32-bit unsigned integer', `${argName}.seed`, seed);
      config.seed = seed;
    }
    for (const key of ['value', 'mean', 'stddev', 'minval', 'maxval'] as const) {
      if (obj[key] !== undefined) config[key] = checkNumber(`${argName}.${key}`, obj[key]);
    }
    if (config.stddev !== undefined && config.stddev < 0) {
      throw rangeError('a non-negative number', `${argName}.stddev`, config.stddev);
    }
    const lo = config.minval ?? -0.05;
    const hi = config.maxval ?? 0.05;
    if (name === 'randomUniform' && !(lo <= hi)) {
      throw new RangeError(
        `Expected minval <= maxval for ${argName} but received minval ${describe(lo)} and maxval ${describe(hi)}`,
      );
    }
  } else {
    throw typeError(`an initializer name or { className, ... } object`, argName, raw);
  }
  Object.freeze(config);
  return {
    name: config.className,
    config,
    init: (shape, fanIn, fanOut) => runInit(config, shape, fanIn, fanOut),
  };
}

function runInit(cfg: InitializerConfig, shape: readonly number[], fanIn: number, fanOut: number): Float32Array {
  let n = 1;
  for (const d of shape) n *= d;
  const out = new Float32Array(n);
  // Keras clamps fans to >= 1 so degenerate shapes do not divide by zero.
  const fi = Math.max(1, fanIn);
  const fo = Math.max(1, fanOut);
  const name = cfg.className;
  switch (name) {
    case 'zeros':
      return out;
    case 'ones':
      return out.fill(1);
    case 'constant':
      return out.fill(cfg.value ?? 0);
    default:
      break;
  }
  // A fixed seed gives identical values on every call; otherwise draw from the global RNG so setSeed() controls it.
  const rng = new Rng(cfg.seed ?? deriveSeed());
  const uniform = (limit: number): Float32Array => {
    for (let i = 0; i < n; i++) out[i] = (2 * rng.next() - 1) * limit;
    return out;
  };
  const truncNormal = (scale: number, fan: number): Float32Array => {
    const std = Math.sqrt(scale / fan) / TRUNC_STD_CORRECTION;
    for (let i = 0; i < n; i++) out[i] = rng.truncatedNormal(std);
    return out;
  };
  switch (name) {
    case 'glorotUniform':
      return uniform(Math.sqrt(6 / (fi + fo)));
    case 'glorotNormal':
      return truncNormal(1, (fi + fo) / 2);
    case 'heUniform':
      return uniform(Math.sqrt(6 / fi));
    case 'heNormal':
      return truncNormal(2, fi);
    case 'lecunUniform':
      return uniform(Math.sqrt(3 / fi));
    case 'lecunNormal':
      return truncNormal(1, fi);
    case 'randomNormal': {
      const mean = cfg.mean ?? 0;
      const std = cfg.stddev ?? 0.05;
      for (let i = 0; i < n; i++) out[i] = mean + std * rng.normal();
      return out;
    }
    case 'randomUniform': {
      const lo = cfg.minval ?? -0.05;
      const hi = cfg.maxval ?? 0.05;
      for (let i = 0; i < n; i++) out[i] = rng.uniform(lo, hi);
      return out;
    }
    default: {
      const never: never = name;
      throw new Error(`unreachable initializer ${String(never)}`);
    }
  }
}

type SeedArgs = { seed?: number };

/** tfjs-style factories returning specs, e.g. `kernelInitializer: initializers.heNormal({ seed: 42 })`. */
export const initializers = Object.freeze({
  glorotUniform: (args: SeedArgs = {}): InitializerConfig => ({ className: 'glorotUniform', ...args }),
  glorotNormal: (args: SeedArgs = {}): InitializerConfig => ({ className: 'glorotNormal', ...args }),
  heNormal: (args: SeedArgs = {}): InitializerConfig => ({ className: 'heNormal', ...args }),
  heUniform: (args: SeedArgs = {}): InitializerConfig => ({ className: 'heUniform', ...args }),
  lecunNormal: (args: SeedArgs = {}): InitializerConfig => ({ className: 'lecunNormal', ...args }),
  lecunUniform: (args: SeedArgs = {}): InitializerConfig => ({ className: 'lecunUniform', ...args }),
  zeros: (): InitializerConfig => ({ className: 'zeros' }),
  ones: (): InitializerConfig => ({ className: 'ones' }),
  constant: (args: { value?: number } = {}): InitializerConfig => ({ className: 'constant', ...args }),
  randomNormal: (args: { mean?: number; stddev?: number; seed?: number } = {}): InitializerConfig => ({
    className: 'randomNormal',
    ...args,
  }),
  randomUniform: (args: { minval?: number; maxval?: number; seed?: number } = {}): InitializerConfig => ({
    className: 'randomUniform',
    ...args,
  }),
});

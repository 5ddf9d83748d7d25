/**
 * Inverted dropout (Keras / tfjs `Dropout`): while training, each value is zeroed with
 * probability `rate` and the kept ones are scaled by 1 / (1 − rate); in predict, evaluate and
 * validation it is the identity. Runs natively as the epilogue of the block before it.
 */
import type { NativeOp } from '../native';
import { deriveSeed } from '../random';
import { checkNonNegInt, checkNumber, checkObject, checkUnknownKeys, describe, rangeError, typeError } from '../validate';
import { BASE_LAYER_KEYS, Layer, LayerArgs, WeightSpec } from './layer';
import { registerClass } from './serialization';

export interface DropoutLayerArgs extends LayerArgs {
  /** Fraction of the values to drop, in [0, 1). Required. */
  rate: number;
  /**
   * Seed of the masks (with the optimizer's step, the row and the column); default: drawn from
   * the global generator (dn.setSeed) when the layer is made.
   */
  seed?: number;
  /**
   * Shape of the mask, [batch, features], an entry of 1 sharing one draw along that axis (Keras):
   * [1, null] one mask for every row, [null, 1] one draw per row for all its features. Default:
   * null (a draw per value).
   */
  noiseShape?: [number | null, number | null] | null;
}

const DROPOUT_KEYS: readonly string[] = [...BASE_LAYER_KEYS, 'rate', 'seed', 'noiseShape'];

export class Dropout extends Layer {
  /** The name model.json stores for this class. */
  static readonly className = 'Dropout';

  readonly rate: number;
  readonly seed: number;
  readonly noiseShape: [number | null, number | null] | null;
  /** Whether the seed was given (then it is saved with the model). */
  private readonly seedGiven: boolean;

  constructor(args: DropoutLayerArgs) {
    if (args === undefined) throw typeError('an object like { rate: 0.2 }', 'dropout args', args);
    const a = checkObject('dropout args', args);
    checkUnknownKeys('dropout args', a, DROPOUT_KEYS);
    if (a.rate === undefined || a.rate === null) throw typeError('a number in [0, 1)', 'rate', a.rate);
    const rate = checkNumber('rate', a.rate, { min: 0, max: 1, maxExclusive: true });
    const seedGiven = a.seed !== undefined && a.seed !== null;
    const seed = seedGiven ? checkNonNegInt('seed', a.seed) : deriveSeed();
    const noiseShape = checkNoiseShape(a.noiseShape);
    super(Dropout.className, 'dropout', a as LayerArgs, 'dropout args');
    this.rate = rate;
    this.seed = seed;
    this.seedGiven = seedGiven;
    this.noiseShape = noiseShape;
  }

  protected weightSpecs(inputDim: number): WeightSpec[] {
    const f = this.noiseShape?.[1];
    if (f !== null && f !== undefined && f !== 1 && f !== inputDim) {
      throw new RangeError(
        `Expected noiseShape[1] to be null, 1 or the input's ${inputDim} features for layer "${this.name}" but received ${f}`,
      );
    }
    return [];
  }

  outputDim(inputDim: number): number {
    return inputDim;
  }

  getConfig(): Record<string, unknown> {
    const cfg: Record<string, unknown> = { ...this.baseConfig(), rate: this.rate, noiseShape: this.noiseShape };
    if (this.seedGiven) cfg.seed = this.seed;
    return cfg;
  }

  toOps(): NativeOp[] {
    return [{
      op: 'dropout',
      rate: this.rate,
      seed: this.seed,
      sameRows: this.noiseShape?.[0] === 1,
      sameColumns: this.noiseShape?.[1] === 1,
    }];
  }

  /** Inverse of getConfig(). */
  static fromConfig(config: Record<string, unknown>): Dropout {
    return new Dropout(config as unknown as DropoutLayerArgs);
  }
}

function checkNoiseShape(v: unknown): [number | null, number | null] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) throw typeError('null or [batch, features] (entries null, 1 or a size)', 'noiseShape', v);
  if (v.length !== 2) throw rangeError('2 entries ([batch, features])', 'noiseShape', v);
  return v.map((e, i) => {
    if (e === null) return null;
    if (typeof e !== 'number' || !Number.isInteger(e) || e < 1) {
      throw new RangeError(`Expected noiseShape[${i}] to be null or a positive integer but received ${describe(e)}`);
    }
    return e;
  }) as [number | null, number | null];
}

registerClass(Dropout.className, Dropout.fromConfig);

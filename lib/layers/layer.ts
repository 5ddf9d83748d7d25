/**
 * Base class for all layers. Layers are descriptions plus weight storage: the
 * math runs in the native core, which keeps pointers to the Float32Arrays
 * created in build(). Hence weights are created once and only ever written
 * in place (setWeightValues), never replaced.
 */
import { DensenormError } from '../errors';
import type { NativeOp } from '../native';
import { MAX_FEATURES, MAX_WEIGHT_ELEMENTS } from '../limits';
import { shapeSize } from '../util/shape';
import {
  checkBatchInputShape,
  checkBoolean,
  checkInputShape,
  checkPositiveInt,
  checkString,
  describe,
  rangeError,
  typeError,
} from '../validate';

/** One weight array of a built layer. */
export interface LayerWeight {
  /** 'kernel' | 'bias' | 'gamma' | 'beta' | 'moving_mean' | 'moving_variance' */
  name: string;
  /** Weight shape, e.g. [inputDim, units] for a kernel. */
  shape: number[];
  /** The live storage shared with the native core. Mutate in place only. */
  value: Float32Array;
  /** False for moving statistics and for every weight of a layer with trainable = false. */
  trainable: boolean;
}

/**
 * What toOps needs to hand a built layer's arrays to the native graph: the gradient buffer of
 * a trainable weight (which also makes the weight an optimizer slot).
 */
export interface OpContext {
  grad(value: Float32Array): Float32Array;
}

/** Options shared by every layer. */
export interface LayerArgs {
  /** Feature count of the input, e.g. [784]; only meaningful on a model's first layer. */
  inputShape?: number[];
  /** Same as inputShape with the batch dimension first: [null, 784]. Takes the same information. */
  batchInputShape?: [number | null, number];
  /** Layer name; must be unique within a model. Default: class prefix plus counter ('dense', 'dense_1', ...). */
  name?: string;
  /** Whether the optimizer updates this layer's weights. Default true. */
  trainable?: boolean;
}

/** Keys of LayerArgs, for checkUnknownKeys in subclasses. */
export const BASE_LAYER_KEYS: readonly string[] = ['inputShape', 'batchInputShape', 'name', 'trainable'];

/** Internal description of a weight to create in build(). */
export interface WeightSpec {
  name: string;
  shape: number[];
  /** Trainable by nature (false for moving statistics). */
  trainable: boolean;
  /** Creates the initial values; called once, at build time. */
  init: () => Float32Array;
}

/** Names already handed out (auto or user), so auto names never collide with an existing layer. */
const usedNames = new Set<string>();
const prefixCounters = new Map<string, number>();

/** Keras-style unique name: 'dense', then 'dense_1', 'dense_2', ... skipping names already used. */
function uniqueName(prefix: string): string {
  let i = prefixCounters.get(prefix) ?? 0;
  let name = i === 0 ? prefix : `${prefix}_${i}`;
  while (usedNames.has(name)) {
    i++;
    name = `${prefix}_${i}`;
  }
  prefixCounters.set(prefix, i + 1);
  usedNames.add(name);
  return name;
}

export abstract class Layer {
  /** Unique per process unless given explicitly. */
  readonly name: string;
  /** The registered class name, e.g. 'Dense' (see registerClass). */
  readonly className: string;
  /** [null, features] when the input size was declared up front. */
  readonly batchInputShape?: [null, number];
  /** True once build() created the weights. */
  built = false;
  /** Input feature count, set by build(). */
  inputDim?: number;

  private _trainable = true;
  private _weights: LayerWeight[] = [];
  private _weightsVersion = 0;

  protected constructor(className: string, prefix: string, args: LayerArgs, argName: string) {
    this.className = className;
    if (args.name !== undefined) {
      const name = checkString(`${argName}.name`, args.name);
      if (name.length === 0) throw rangeError('a non-empty string', `${argName}.name`, name);
      usedNames.add(name);
      this.name = name;
    } else {
      this.name = uniqueName(prefix);
    }
    if (args.trainable !== undefined) this._trainable = checkBoolean(`${argName}.trainable`, args.trainable);

    let features: number | undefined;
    if (args.batchInputShape !== undefined && args.batchInputShape !== null) {
      features = checkBatchInputShape(`${argName}.batchInputShape`, args.batchInputShape)[1];
    }
    if (args.inputShape !== undefined && args.inputShape !== null) {
      const f = checkInputShape(`${argName}.inputShape`, args.inputShape)[0];
      if (features !== undefined && f !== features) {
        throw new RangeError(
          `Expected inputShape and batchInputShape to agree for ${argName} but received inputShape ${describe(args.inputShape)} ([${f}]) and batchInputShape [null, ${features}]`,
        );
      }
      features = f;
    }
    if (features !== undefined) this.batchInputShape = Object.freeze([null, features]) as [null, number];
  }

  get trainable(): boolean {
    return this._trainable;
  }

  set trainable(v: boolean) {
    this._trainable = checkBoolean('trainable', v);
  }

  /** Weight descriptions for a given input size, in Keras order. */
  protected abstract weightSpecs(inputDim: number): WeightSpec[];

  /** Output feature count for a given input feature count. */
  abstract outputDim(inputDim: number): number;

  /** JSON-serializable constructor arguments (camelCase, tfjs names). */
  abstract getConfig(): Record<string, unknown>;

  /**
   * What the layer computes, as native ops (cpp/core/ops/<op>.cc). Without ctx: the attributes
   * only, enough to plan the fusion; with ctx (built layers): the arrays too.
   */
  abstract toOps(ctx?: OpContext): NativeOp[];

  /** The built weight named `name`, or undefined. */
  protected weightValue(name: string): Float32Array | undefined {
    return this._weights.find((w) => w.name === name)?.value;
  }

  /** Config entries every layer has; subclasses spread this first. */
  protected baseConfig(): Record<string, unknown> {
    const cfg: Record<string, unknown> = { name: this.name, trainable: this.trainable };
    if (this.batchInputShape) cfg.batchInputShape = [null, this.batchInputShape[1]];
    return cfg;
  }

  /**
   * Number of weight scalars this layer would create for inputDim features, computed without
   * allocating anything (used to reject absurd sizes before build()).
   */
  paramCountFor(inputDim: number): number {
    checkPositiveInt(`inputDim of layer "${this.name}"`, inputDim);
    return this.weightSpecs(inputDim).reduce((n, s) => n + shapeSize(s.shape), 0);
  }

  /**
   * Creates the weights for inputDim features. Idempotent for the same
   * inputDim; a different one is a RangeError since weights cannot be resized.
   */
  build(inputDim: number): void {
    checkPositiveInt(`inputDim of layer "${this.name}"`, inputDim);
    if (inputDim > MAX_FEATURES) throw rangeError(`at most ${MAX_FEATURES} features`, `inputDim of layer "${this.name}"`, inputDim);
    if (this.batchInputShape && this.batchInputShape[1] !== inputDim) {
      throw new RangeError(
        `Expected ${this.batchInputShape[1]} input features (from its inputShape) for layer "${this.name}" but received ${inputDim}`,
      );
    }
    if (this.built) {
      if (this.inputDim !== inputDim) {
        throw new RangeError(
          `Expected ${this.inputDim} input features (already built) for layer "${this.name}" but received ${inputDim}`,
        );
      }
      return;
    }
    const specs = this.weightSpecs(inputDim);
    // Checked before any allocation: dense({ units: 1e9 }) on 1e6 features must not try 4 PB.
    for (const s of specs) {
      const n = shapeSize(s.shape);
      if (n > MAX_WEIGHT_ELEMENTS) {
        throw new RangeError(
          `Expected at most ${MAX_WEIGHT_ELEMENTS} values (4 GiB of float32) for weight "${s.name}" of layer "${this.name}" but its shape [${s.shape.join(', ')}] has ${n}`,
        );
      }
    }
    this._weights = specs.map((s) => {
      const value = s.init();
      if (value.length !== shapeSize(s.shape)) throw new Error(`internal: initializer size mismatch for ${s.name}`);
      return { name: s.name, shape: s.shape.slice(), value, trainable: s.trainable };
    });
    this.inputDim = inputDim;
    this.built = true;
    this.onBuilt();
  }

  /** Hook for subclasses needing per-build state (e.g. BN's batch counter). */
  protected onBuilt(): void {}

  /**
   * Weights in Keras order; empty before build(). The returned objects are
   * fresh each call but `value` is the live storage.
   */
  get weights(): LayerWeight[] {
    return this._weights.map((w) => ({
      name: w.name,
      shape: w.shape.slice(),
      value: w.value,
      trainable: w.trainable && this._trainable,
    }));
  }

  /** Weights the optimizer updates. */
  get trainableWeights(): LayerWeight[] {
    return this.weights.filter((w) => w.trainable);
  }

  /** Weights the optimizer leaves alone (moving statistics, or all when trainable = false). */
  get nonTrainableWeights(): LayerWeight[] {
    return this.weights.filter((w) => !w.trainable);
  }

  /** Number of scalars in all weights. Before build it needs a declared inputShape. */
  countParams(): number {
    if (this.built) return this._weights.reduce((n, w) => n + w.value.length, 0);
    if (this.batchInputShape) {
      return this.weightSpecs(this.batchInputShape[1]).reduce((n, s) => n + shapeSize(s.shape), 0);
    }
    throw new DensenormError(
      `Layer "${this.name}" has no weights yet: build it (or declare inputShape) before counting parameters`,
      'ERR_NOT_BUILT',
    );
  }

  /**
   * Copies values into the existing weight arrays, in `weights` order. In place
   * because the native core holds pointers to these arrays.
   */
  setWeightValues(values: readonly Float32Array[]): void {
    if (!this.built) {
      throw new DensenormError(
        `Layer "${this.name}" is not built; build it (or its model) before setting weights`,
        'ERR_NOT_BUILT',
      );
    }
    if (!Array.isArray(values)) throw typeError('an array of Float32Array', 'values', values);
    if (values.length !== this._weights.length) {
      throw new RangeError(
        `Expected ${this._weights.length} weight arrays (${this._weights.map((w) => w.name).join(', ')}) for layer "${this.name}" but received ${values.length}`,
      );
    }
    // Validate everything first so a bad entry does not leave the layer half-updated.
    values.forEach((v, i) => {
      const w = this._weights[i];
      if (!(v instanceof Float32Array)) throw typeError('a Float32Array', `weight "${w.name}" of layer "${this.name}"`, v);
      if (v.length !== w.value.length) {
        throw new RangeError(
          `Expected shape [${w.shape.join(', ')}] (${w.value.length} values) for weight "${w.name}" of layer "${this.name}" but received ${v.length} values`,
        );
      }
    });
    values.forEach((v, i) => this._weights[i].value.set(v));
    this.markWeightsChanged();
  }

  /**
   * Counts writes to this layer's weights that did not come from training (setWeightValues,
   * setWeights, loading): a model repacks its inference copy of a kernel when it moves.
   */
  get weightsVersion(): number {
    return this._weightsVersion;
  }

  /**
   * Call after writing into a `weights[i].value` array yourself: training reads those arrays
   * directly, but inference multiplies by a packed copy of each Dense kernel, made again only when
   * the weights change through the API (training, setWeights, setWeightValues, loading) or this.
   */
  markWeightsChanged(): void {
    this._weightsVersion++;
  }

  toString(): string {
    return `${this.className}(name=${this.name})`;
  }
}

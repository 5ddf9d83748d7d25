/**
 * The one typed view of the native addon; no other file touches the raw binding.
 * Looks for a prebuild (prebuilds/<platform>-<arch>/densenorm.napi.node) first, then the
 * cmake-js build output (build/Release/densenorm.node).
 */
import { DensenormError, DensenormErrorCode } from './errors';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Integer codes shared with cpp/include/densenorm/model.h (ops name activations instead). */
export const LOSS_CODES = {
  categoricalCrossentropy: 0,
  sparseCategoricalCrossentropy: 1,
  binaryCrossentropy: 2,
  meanSquaredError: 3,
} as const;
export const OPTIMIZER_CODES = { sgd: 0, adam: 1, rmsprop: 2 } as const;

/**
 * One op of the native op list: a layer's computation (`op` is one of vocabulary().ops) with its
 * attributes and the arrays it reads and writes in place. The core decides which ops run as one
 * fused block (cpp/core/fuse.cc) and checks each op's arrays (cpp/core/ops/<op>.cc).
 */
export interface NativeOp {
  op: string;
  [attr: string]: number | boolean | string | Float32Array | Float64Array | undefined;
}

export interface NativeOptimizerSpec {
  type: number;
  learningRate: number;
  momentum?: number;
  nesterov?: boolean;
  beta1?: number;
  beta2?: number;
  rho?: number;
  epsilon?: number;
  weightDecay?: number;
  /** Gradient clipping (Keras), 0 or absent: off; at most one set. */
  clipnorm?: number;
  globalClipnorm?: number;
  clipvalue?: number;
}

export interface NativeParamSlot {
  value: Float32Array;
  grad: Float32Array;
  state1?: Float32Array;
  state2?: Float32Array;
  /** Regularization factors: the loss gains l1·Σ|w| + l2·Σw² (absent: 0). */
  l1?: number;
  l2?: number;
}

export interface NativeNetSpec {
  /** The model's input width. */
  inputFeatures: number;
  ops: NativeOp[];
  /** false: every op in a block of its own (default: true unless DENSENORM_FUSE=0). */
  fuse?: boolean;
  /** Metrics every loss evaluation also accumulates (vocabulary().metrics names). */
  metrics?: string[];
  loss: number;
  optimizer: NativeOptimizerSpec;
  params: NativeParamSlot[];
  /** 'float32' (default) or 'mixed_bfloat16'. */
  precision?: string;
}

export interface StepResult {
  loss: number;
  correct: number;
  count: number;
  /** The metric states (spec.metrics, each metric's state in turn), when the net has metrics. */
  metrics?: Float64Array;
}

export interface NativeNet {
  predict(x: Float32Array, batch: number, out: Float32Array): void;
  predictAsync(x: Float32Array, batch: number, out: Float32Array): Promise<StepResult>;
  evaluate(x: Float32Array, batch: number, y: Float32Array): StepResult;
  evaluateAsync(x: Float32Array, batch: number, y: Float32Array): Promise<StepResult>;
  // step: the dropout step keying the masks (default 0); trainStep uses its iteration.
  forwardTrain(x: Float32Array, batch: number, updateStats: boolean, out: Float32Array, step?: number): void;
  forwardBackward(x: Float32Array, batch: number, dy: Float32Array, dx: Float32Array | null, step?: number): void;
  /** Loss and gradients, both including the params' regularization (l1, l2). */
  lossAndGrad(x: Float32Array, batch: number, y: Float32Array, updateStats: boolean, step?: number, sampleWeight?: Float32Array): StepResult;
  // sampleWeight: per-row loss weights [batch] (Keras: loss = Σ wᵢ·lossᵢ / batch).
  trainStep(x: Float32Array, batch: number, y: Float32Array, iteration: number, sampleWeight?: Float32Array): StepResult;
  trainStepAsync(x: Float32Array, batch: number, y: Float32Array, iteration: number, sampleWeight?: Float32Array): Promise<StepResult>;
  /**
   * Runs fit's batches in one hop off the event loop: batch b is rows order[bounds[2b] ..
   * bounds[2b] + bounds[2b+1]) of x and y, trained at iteration0 + b; out[s·b ..] = loss,
   * correct, count, then the metric states (s = 3 + their size). Stops before a batch once
   * stop[0] != 0, and at a failing step (error).
   */
  trainBatchesAsync(x: Float32Array, y: Float32Array, yPerRow: number, order: Int32Array, bounds: Int32Array,
    iteration0: number, stop: Int32Array, out: Float64Array,
    options?: {
      /** Told on the event loop how many batches are done while the loop goes on (merged calls: the latest count). */
      progress?: (done: number) => void;
      /** Per-row loss weights of x's rows [rows]. */
      sampleWeight?: Float32Array;
      /** Batch b's learning rate (a schedule's per step); without it the rate set last. */
      rates?: Float32Array;
    }): Promise<{ done: number; error?: string }>;
  recalibrate(x: Float32Array, rows: number, batchSize: number): void;
  /** The rate of the next steps: finite and >= 0 (RangeError otherwise). */
  setLearningRate(lr: number): void;
  // How trainStep used the thread pool at its last batch size: it times a few steps with the pool
  // and on one thread, then keeps the faster (same bits either way). Read between steps.
  stepThreading(): 'none' | 'tuning' | 'pool' | 'one thread' | 'single';
  // JavaScript wrote into a kernel array: inference's packed copy of it is made again.
  weightsChanged(): void;
  /** The ops (indices into spec.ops) each fused block runs. */
  fusedGroups(): number[][];
  dispose(): void;
}

export type IsaName = 'scalar' | 'avx2' | 'avx512' | 'neon';
export type Int8PathName = 'scalar' | 'avx2' | 'avx512' | 'avx512_vnni';

/** One int8 Dense: u8 input (zero point zeroPointIn) times s8 weights [in × out], int32 sums. */
export interface NativeQuantizedLayer {
  in: number;
  out: number;
  weights: Int8Array;
  /** inputScale · weightScale[n] */
  mult: Float32Array;
  bias: Float32Array;
  zeroPointIn: number;
  relu: boolean;
  /** Hidden layers: 1 / the next input's scale, and its zero point (the last layer writes fp32). */
  outInv: number;
  outZeroPoint: number;
}

export interface NativeQuantizedSpec {
  /** Forces a path (tests, benches); default the process's (int8Info().path). */
  path?: Int8PathName;
  inputInv: number;
  inputZeroPoint: number;
  layers: NativeQuantizedLayer[];
}

export interface NativeQuantizedNet {
  readonly path: Int8PathName;
  predict(x: Float32Array, rows: number, out: Float32Array): void;
  predictAsync(x: Float32Array, rows: number, out: Float32Array): Promise<void>;
  /** Layer 0 alone on u8 input [rows × in padded to 4] (kernel tests, benches). */
  layer0(a: Uint8Array, rows: number, out: Uint8Array | Float32Array): void;
}

export interface NativeBackend {
  isa: IsaName;
  threads: number;
  detected: IsaName;
  available: IsaName[];
}

export interface NativeAddon {
  backend(): NativeBackend;
  setNumThreads(n: number): void;
  // When the threaded GEMM runs a team (row chunks, shared packed op(B)): M >= minRowsPerThread ·
  // threads and N < maxColsPerThread · threads; 0 restores a default (256, 64). Tests and tuning.
  setGemmTeamPolicy(minRowsPerThread: number, maxColsPerThread: number): void;
  // Whether NativeNet.trainStep times the pool against one thread and keeps the faster (default:
  // on unless DENSENORM_STEP_TUNE=0); null restores the default. A net's next step starts over.
  setStepTuning(on: boolean | null): void;
  // Whether inference keeps packed copies of the Dense kernels (default: on unless
  // DENSENORM_PACKED_INFERENCE=0); null restores the default.
  setPackedInference(on: boolean | null): void;
  gemm(
    isa: IsaName | null,
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    A: Float32Array,
    B: Float32Array,
    C: Float32Array,
    accumulate: boolean,
    // the batch-statistics epilogue: shift [N], part [ceil(M/24) × 2 × N] (per 24-row chunk:
    // Σ(c − shift) then Σ(c − shift)² per column)
    shift?: Float32Array,
    part?: Float32Array,
  ): void;
  /** Index of the first NaN or ±Infinity in x, or -1 (a vectorized loop; the façade's input check). */
  firstNonFinite(x: Float32Array): number;
  /** dst row i = src row order[start + i] for i < n (rows of rowLen floats; indices checked). */
  gatherRows(src: Float32Array, rowLen: number, order: Int32Array, start: number, n: number, dst: Float32Array): void;
  /** What the core knows, in its code order (the façade's lists are checked against it in a test). */
  vocabulary(): { activations: string[]; losses: string[]; optimizers: string[]; ops: string[]; metrics: string[]; isas: IsaName[]; limits: { maxFeatures: number } };
  /** How the core groups an op list into fused blocks (op indices per block); arrays not needed. */
  fusionGroups(ops: NativeOp[], fuse?: boolean): number[][];
  /** Native failures that are not argument errors are thrown as `new errorClass(message, code)`. */
  setErrorClass(errorClass: new (message: string, code: DensenormErrorCode) => Error): void;
  /** AVX512_BF16: whether the CPU has it, whether mixed_bfloat16 runs it here (else the emulation), a DENSENORM_BF16 error. */
  bf16Info(): { cpu: boolean; native: boolean; error: string | null };
  /** The bf16 GEMM (gemm's arguments after path): isa null = the threaded driver on the active bf16 table. */
  gemmBf16(
    isa: IsaName | null,
    path: 'emulate' | 'native' | null,
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    A: Float32Array,
    B: Float32Array,
    C: Float32Array,
    accumulate: boolean,
    shift?: Float32Array,
    part?: Float32Array,
  ): void;
  NativeNet: new (spec: NativeNetSpec) => NativeNet;
  /** The int8 inference chain (cpp/include/densenorm/quantized.h). */
  QuantizedNet: new (spec: NativeQuantizedSpec) => NativeQuantizedNet;
  /** The int8 path this process runs, whether the CPU has AVX512_VNNI, and every path it can run. */
  int8Info(): { path: Int8PathName; vnni: boolean; available: Int8PathName[] };
}

function load(): NativeAddon {
  const root = path.join(__dirname, '..');
  // An explicit addon (e.g. the sanitizer build) wins; then node-gyp-build's search:
  // build/Release (a source build), then prebuilds/<platform>-<arch>/*.napi.node.
  const explicit = process.env.DENSENORM_ADDON;
  if (explicit) {
    if (!fs.existsSync(explicit)) throw new Error(`densenorm: DENSENORM_ADDON=${explicit} does not exist`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.resolve(explicit)) as NativeAddon;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => NativeAddon;
    return nodeGypBuild(root);
  } catch (e) {
    throw new Error(
      `densenorm: no native addon for ${process.platform}-${process.arch} (${(e as Error).message}). ` +
        'Reinstall with `npm_config_build_from_source=true npm install densenorm` (needs cmake and a C++ compiler).',
    );
  }
}

export const native: NativeAddon = load();
native.setErrorClass(DensenormError);

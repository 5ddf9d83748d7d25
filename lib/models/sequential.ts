/**
 * Sequential model, tfjs-layers style. The layers describe the network and own the weights;
 * a native graph (NativeNet) built from their fused blocks runs every forward, backward and
 * optimizer step in C++.
 */
import { ACT_CODES, LOSS_CODES, NativeBlockSpec, NativeNet, NativeParamSlot, StepResult, native } from '../native';
import { BatchNormalization, Layer } from '../layers';
import { Optimizer } from '../optimizers/optimizer';
import { getOptimizer } from '../optimizers';
import { LossName, checkLoss } from '../losses';
import { Tensor, TensorLike, toTensor2D } from '../tensor';
import { Rng, globalRng } from '../random';
import {
  checkBoolean,
  checkNonNegInt,
  checkNumber,
  checkObject,
  checkPositiveInt,
  checkUnknownKeys,
  describe,
  typeError,
} from '../validate';
import { fuse } from './fusion';
import { DensenormError } from '../errors';
import { MAX_WORKSPACE_VALUES } from '../limits';
import { saveModel } from './save';

export interface CompileArgs {
  /** An optimizer object, or 'sgd' | 'adam' | 'rmsprop' with defaults. */
  optimizer: Optimizer | string;
  /** 'categoricalCrossentropy' | 'sparseCategoricalCrossentropy' | 'binaryCrossentropy' | 'meanSquaredError'. */
  loss: string;
  /** ['accuracy'] (or ['acc']) adds accuracy to logs and history as `acc`. */
  metrics?: string[];
}

/** Values passed to callbacks; `acc` only when compiled with metrics: ['accuracy']. */
export interface Logs {
  loss: number;
  acc?: number;
  val_loss?: number;
  val_acc?: number;
  batch?: number;
  size?: number;
  [key: string]: number | undefined;
}

export interface Callbacks {
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  onTrainEnd?(logs?: Logs): void | Promise<void>;
}

export interface FitArgs {
  /** Passes over the data. Default 1. */
  epochs?: number;
  /** Rows per training step. Default 32. */
  batchSize?: number;
  /** Shuffle rows every epoch. Default true. */
  shuffle?: boolean;
  /** Held-out data evaluated after every epoch (inference mode). */
  validationData?: [TensorLike, TensorLike];
  /** Fraction of rows, taken from the END before shuffling (as Keras), held out for validation. */
  validationSplit?: number;
  /** Seed for shuffling; default: drawn from the global generator (dn.setSeed). */
  seed?: number;
  /** Epoch to start counting from. Default 0. */
  initialEpoch?: number;
  /** Callbacks (an object, or a list of them). */
  callbacks?: Callbacks | Callbacks[];
  /** Stops after the current batch when aborted. */
  signal?: AbortSignal;
  /** 0 silent (default here), 1 one line per epoch on stderr. */
  verbose?: number;
}

export interface History {
  epoch: number[];
  history: { loss: number[]; acc?: number[]; val_loss?: number[]; val_acc?: number[]; [k: string]: number[] | undefined };
}

export interface EvaluateResult {
  loss: number;
  accuracy?: number;
}

export interface SequentialArgs {
  layers?: Layer[];
  name?: string;
}

interface Compiled {
  optimizer: Optimizer;
  loss: LossName;
  accuracy: boolean;
}

const CALLBACK_KEYS = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'];
const FIT_KEYS = ['epochs', 'batchSize', 'shuffle', 'validationData', 'validationSplit', 'seed', 'initialEpoch', 'callbacks', 'signal', 'verbose'];
const PREDICT_CHUNK = 1024;

let modelCounter = 0;

export class Sequential {
  readonly name: string;
  private readonly _layers: Layer[] = [];
  private compiled?: Compiled;
  private net?: NativeNet;
  private netKey = '';
  private netWeightsVersion = 0;
  private readonly grads = new WeakMap<Float32Array, Float32Array>();
  private fitting = false;
  private _stopTraining = false;
  private fitStop: Int32Array | undefined;
  /** Set to true (e.g. from a callback) to end fit() after the current batch. */
  get stopTraining(): boolean {
    return this._stopTraining;
  }
  set stopTraining(v: boolean) {
    this._stopTraining = v;
    if (v && this.fitStop) this.fitStop[0] = 1;
  }

  constructor(args: SequentialArgs = {}) {
    const a = checkObject('sequential args', args);
    checkUnknownKeys('sequential args', a, ['layers', 'name']);
    this.name = a.name === undefined ? (modelCounter++ === 0 ? 'sequential' : `sequential_${modelCounter - 1}`) : String(a.name);
    if (a.layers !== undefined) {
      if (!Array.isArray(a.layers)) throw typeError('an array of layers', 'layers', a.layers);
      for (const l of a.layers) this.add(l as Layer);
    }
  }

  get layers(): Layer[] {
    return this._layers.slice();
  }

  /** Appends a layer; builds it at once when the input size is known. */
  add(layer: Layer): void {
    if (!(layer instanceof Layer)) throw typeError('a layer (dn.layers.dense(...), ...)', 'layer', layer);
    if (this.fitting) throw new Error('Cannot add a layer while fit() is running');
    if (this._layers.includes(layer)) throw new RangeError(`Expected a layer not already in the model for layer but received "${layer.name}" again`);
    if (this._layers.some((l) => l.name === layer.name)) {
      throw new RangeError(`Expected a unique layer name for layer but received "${layer.name}", already used in this model`);
    }
    if (this._layers.length > 0 && layer.batchInputShape) {
      throw new RangeError(`Expected inputShape only on the first layer but received it on "${layer.name}"`);
    }
    const prevDim = this.outputDimSoFar();
    if (prevDim !== undefined) layer.build(prevDim);
    else if (this._layers.length === 0 && layer.batchInputShape) layer.build(layer.batchInputShape[1]);
    this._layers.push(layer);
    this.invalidate();
  }

  private outputDimSoFar(): number | undefined {
    let dim: number | undefined = this._layers[0]?.inputDim;
    if (dim === undefined) return undefined;
    for (const l of this._layers) dim = l.outputDim(dim);
    return dim;
  }

  /** Input feature count, once known. */
  get inputDim(): number | undefined {
    return this._layers[0]?.inputDim;
  }

  /** Output feature count, once known. */
  get outputDim(): number | undefined {
    return this.outputDimSoFar();
  }

  private buildFor(inputDim: number): void {
    if (this._layers.length === 0) throw new Error('The model has no layers; add one with model.add(...)');
    let dim = inputDim;
    for (const l of this._layers) {
      l.build(dim);
      dim = l.outputDim(dim);
    }
  }

  compile(args: CompileArgs): void {
    const a = checkObject('compile args', args);
    checkUnknownKeys('compile args', a, ['optimizer', 'loss', 'metrics']);
    if (this.fitting) throw new Error('Cannot compile while fit() is running');
    const optimizer = getOptimizer(a.optimizer, 'optimizer');
    const loss = checkLoss(a.loss, 'loss');
    let accuracy = false;
    if (a.metrics !== undefined) {
      const ms = typeof a.metrics === 'string' ? [a.metrics] : a.metrics;
      if (!Array.isArray(ms)) throw typeError("an array of metric names (['accuracy'])", 'metrics', a.metrics);
      for (const m of ms) {
        if (m === 'accuracy' || m === 'acc') accuracy = true;
        else throw new RangeError(`Expected "accuracy" or "acc" for metrics but received ${describe(m)}`);
      }
    }
    this.compiled = { optimizer, loss, accuracy };
    this.invalidate();
  }

  get optimizer(): Optimizer | undefined {
    return this.compiled?.optimizer;
  }

  private weightsVersionSum(): number {
    let v = 0;
    for (const l of this._layers) v += l.weightsVersion;
    return v;
  }

  private invalidate(): void {
    if (this.net) this.net.dispose();
    this.net = undefined;
    this.netKey = '';
  }

  /** The fused native graph, rebuilt when layers, trainable flags or the compile settings change. */
  private graph(inputDim: number): NativeNet {
    this.buildFor(inputDim);
    const c = this.compiled;
    const key = this._layers.map((l) => `${l.name}:${l.trainable}`).join('|') + `#${c ? c.loss : '-'}`;
    if (this.net && key === this.netKey) {
      // weights written through the API since the last call: inference's packed kernels are stale
      const v = this.weightsVersionSum();
      if (v !== this.netWeightsVersion) {
        this.net.weightsChanged();
        this.netWeightsVersion = v;
      }
      return this.net;
    }
    this.invalidate();
    this.netWeightsVersion = this.weightsVersionSum();
    const blocks = fuse(this._layers);
    const params: NativeParamSlot[] = [];
    const specs: NativeBlockSpec[] = [];
    let dim = inputDim;
    const slot = (value: Float32Array): Float32Array => {
      let g = this.grads.get(value);
      if (!g) {
        g = new Float32Array(value.length);
        this.grads.set(value, g);
      }
      if (c) {
        const [state1, state2] = c.optimizer.stateFor(value);
        params.push({ value, grad: g, state1, state2 });
      }
      return g;
    };
    for (const b of blocks) {
      const out = b.dense ? b.dense.units : dim;
      const spec: NativeBlockSpec = {
        in: dim,
        out,
        denseTrainable: false,
        preAct: ACT_CODES[b.preAct],
        postAct: ACT_CODES[b.postAct],
      };
      if (b.dense) {
        const w = weightMap(b.dense);
        spec.kernel = w.kernel;
        spec.bias = w.bias;
        spec.denseTrainable = b.dense.trainable;
        if (b.dense.trainable) {
          spec.gradKernel = slot(w.kernel);
          if (w.bias) spec.gradBias = slot(w.bias);
        }
      }
      if (b.bn) {
        const w = weightMap(b.bn);
        spec.bn = {
          gamma: w.gamma,
          beta: w.beta,
          movingMean: w.moving_mean,
          movingVariance: w.moving_variance,
          numBatches: b.bn.numBatchesTracked,
          epsilon: b.bn.epsilon,
          momentum: b.bn.momentum ?? 0,
          cumulative: b.bn.momentum === null,
          trainable: b.bn.trainable,
        };
        if (b.bn.trainable) {
          if (w.gamma) spec.bn.gradGamma = slot(w.gamma);
          if (w.beta) spec.bn.gradBeta = slot(w.beta);
        }
      }
      specs.push(spec);
      dim = out;
    }
    this.net = new native.NativeNet({
      blocks: specs,
      loss: LOSS_CODES[c ? c.loss : 'meanSquaredError'],
      optimizer: c ? c.optimizer.nativeSpec() : { type: 0, learningRate: 0 },
      params,
    });
    this.netKey = key;
    return this.net;
  }

  /** The fused blocks, as layer-name groups (what runs as one native pass). */
  fusedBlocks(): string[][] {
    return fuse(this._layers).map((b) => b.layers.map((l) => l.name));
  }

  private needCompiled(what: string): Compiled {
    if (!this.compiled) throw new Error(`The model must be compiled before ${what}; call model.compile({ optimizer, loss })`);
    return this.compiled;
  }

  private notFitting(what: string): void {
    if (this.fitting) throw new Error(`Cannot ${what} while fit() is running on this model; await it first`);
  }

  /** Most rows one native call may take: the workspace is rows × the widest layer. */
  private maxRowsPerCall(): number {
    let width = this.inputDim ?? 1;
    let dim = this.inputDim;
    for (const l of this._layers) {
      if (dim === undefined) break;
      dim = l.outputDim(dim);
      width = Math.max(width, dim);
    }
    return Math.max(1, Math.floor(MAX_WORKSPACE_VALUES / width));
  }

  /** RangeError when a training batch of `rows` would need an insane workspace. */
  private checkTrainRows(rows: number, argName: string): void {
    const max = this.maxRowsPerCall();
    if (rows > max) {
      throw new RangeError(
        `Expected at most ${max} rows per training step for this model (rows × widest layer <= ${MAX_WORKSPACE_VALUES} workspace values) for ${argName} but received ${rows}`,
      );
    }
  }

  /** Rows per native call for inference: the requested batchSize, capped by the workspace limit. */
  private inferenceChunk(args: unknown, what: string): number {
    const a = checkObject(`${what} args`, args);
    checkUnknownKeys(`${what} args`, a, ['batchSize']);
    const chunk = a.batchSize !== undefined ? checkPositiveInt('batchSize', a.batchSize) : PREDICT_CHUNK;
    return Math.min(chunk, this.maxRowsPerCall());
  }

  private inputTensor(x: TensorLike, argName = 'x'): Tensor {
    const t = toTensor2D(x, argName, this.inputDim ?? this._layers[0]?.batchInputShape?.[1]);
    return t;
  }

  /** Targets as the native loss reads them: [rows, outputs], or [rows] class ids for the sparse loss. */
  private targetTensor(y: TensorLike, rows: number, loss: LossName, argName = 'y'): Float32Array {
    const out = this.outputDim!;
    if (loss === 'sparseCategoricalCrossentropy') {
      const t = toTensor2D(y, argName, 1);
      if (t.shape[0] !== rows) throw new RangeError(`Expected ${rows} rows (as many as x) for ${argName} but received ${t.shape[0]}`);
      for (let i = 0; i < t.data.length; i++) {
        const v = t.data[i];
        if (!Number.isInteger(v) || v < 0 || v >= out) {
          throw new RangeError(`Expected class ids in [0, ${out}) for ${argName} but received ${describe(v)} at row ${i}`);
        }
      }
      return t.data;
    }
    const t = toTensor2D(y, argName, out);
    if (t.shape[0] !== rows) throw new RangeError(`Expected ${rows} rows (as many as x) for ${argName} but received ${t.shape[0]}`);
    checkFinite(t.data, argName);
    return t.data;
  }

  /** One training step on one batch; returns the loss (before the update, as Keras reports it). */
  trainOnBatch(x: TensorLike, y: TensorLike): number {
    const c = this.needCompiled('trainOnBatch');
    this.notFitting('trainOnBatch');
    const xt = this.inputTensor(x);
    const net = this.graph(xt.shape[1]);
    this.checkTrainRows(xt.shape[0], 'x');
    const yt = this.targetTensor(y, xt.shape[0], c.loss);
    checkFinite(xt.data, 'x');
    net.setLearningRate(c.optimizer.learningRate);
    const r = net.trainStep(xt.data, xt.shape[0], yt, c.optimizer.iterations + 1);
    c.optimizer.iterations++;
    return r.loss;
  }

  /** Inference with the moving statistics; rows are independent of each other. */
  predict(x: TensorLike, args: { batchSize?: number } = {}): Tensor {
    this.notFitting('predict');
    const xt = this.inputTensor(x);
    const chunk = this.inferenceChunk(args, 'predict');
    const net = this.graph(xt.shape[1]);
    const rows = xt.shape[0];
    const outDim = this.outputDim!;
    const out = new Float32Array(rows * outDim);
    const inDim = xt.shape[1];
    for (let r = 0; r < rows; r += chunk) {
      const n = Math.min(chunk, rows - r);
      net.predict(xt.data.subarray(r * inDim, (r + n) * inDim), n, out.subarray(r * outDim, (r + n) * outDim));
    }
    return new Tensor(out, [rows, outDim]);
  }

  /** predict() on a worker thread: the event loop stays free. */
  async predictAsync(x: TensorLike): Promise<Tensor> {
    this.notFitting('predict');
    const xt = this.inputTensor(x);
    const net = this.graph(xt.shape[1]);
    const outDim = this.outputDim!;
    const inDim = xt.shape[1];
    const rows = xt.shape[0];
    const out = new Float32Array(rows * outDim);
    const chunk = this.maxRowsPerCall();
    for (let r = 0; r < rows; r += chunk) {
      const n = Math.min(chunk, rows - r);
      await net.predictAsync(xt.data.subarray(r * inDim, (r + n) * inDim), n, out.subarray(r * outDim, (r + n) * outDim));
    }
    return new Tensor(out, [xt.shape[0], this.outputDim!]);
  }

  /** evaluate() on a worker thread: the event loop stays free. */
  async evaluateAsync(x: TensorLike, y: TensorLike): Promise<EvaluateResult> {
    const c = this.needCompiled('evaluate');
    this.notFitting('evaluate');
    const xt = this.inputTensor(x);
    const net = this.graph(xt.shape[1]);
    const yt = this.targetTensor(y, xt.shape[0], c.loss);
    const r = await net.evaluateAsync(xt.data, xt.shape[0], yt);
    const accuracy = r.count > 0 ? r.correct / r.count : NaN;
    return c.accuracy ? { loss: r.loss, accuracy } : { loss: r.loss };
  }

  /** Loss (and accuracy when compiled with it) in inference mode. */
  evaluate(x: TensorLike, y: TensorLike, args: { batchSize?: number } = {}): EvaluateResult {
    const c = this.needCompiled('evaluate');
    this.notFitting('evaluate');
    const xt = this.inputTensor(x);
    this.graph(xt.shape[1]);
    const yt = this.targetTensor(y, xt.shape[0], c.loss);
    const chunk = this.inferenceChunk(args, 'evaluate');
    const r = this.evaluateArrays(xt.data, yt, xt.shape[0], chunk);
    return c.accuracy ? { loss: r.loss, accuracy: r.acc } : { loss: r.loss };
  }

  private evaluateArrays(x: Float32Array, y: Float32Array, rows: number, chunk: number): { loss: number; acc: number } {
    const net = this.net!;
    const inDim = this.inputDim!;
    const yPerRow = y.length / rows;
    let loss = 0;
    let correct = 0;
    let count = 0;
    for (let r = 0; r < rows; r += chunk) {
      const n = Math.min(chunk, rows - r);
      const res = net.evaluate(x.subarray(r * inDim, (r + n) * inDim), n, y.subarray(r * yPerRow, (r + n) * yPerRow));
      loss += res.loss * n;
      correct += res.correct;
      count += res.count;
    }
    return { loss: loss / rows, acc: count > 0 ? correct / count : NaN };
  }

  async fit(x: TensorLike, y: TensorLike, args: FitArgs = {}): Promise<History> {
    const c = this.needCompiled('fit');
    if (this.fitting) throw new Error('fit() is already running on this model; await it before calling fit() again');
    const a = checkObject('fit args', args) as FitArgs;
    checkUnknownKeys('fit args', a as Record<string, unknown>, FIT_KEYS);
    const epochs = a.epochs === undefined ? 1 : checkPositiveInt('epochs', a.epochs);
    const batchSize = a.batchSize === undefined ? 32 : checkPositiveInt('batchSize', a.batchSize);
    const shuffle = a.shuffle === undefined ? true : checkBoolean('shuffle', a.shuffle);
    const initialEpoch = a.initialEpoch === undefined ? 0 : checkNonNegInt('initialEpoch', a.initialEpoch);
    const split = a.validationSplit === undefined ? 0 : checkNumber('validationSplit', a.validationSplit, { min: 0, max: 1, maxExclusive: true });
    const seed = a.seed === undefined ? undefined : checkNonNegInt('seed', a.seed);
    const callbacks = a.callbacks === undefined ? [] : Array.isArray(a.callbacks) ? a.callbacks : [a.callbacks];
    for (const cb of callbacks) {
      if (cb === null || typeof cb !== 'object') throw typeError('an object of callback functions', 'callbacks', cb);
      for (const k of CALLBACK_KEYS) {
        const f = (cb as Record<string, unknown>)[k];
        if (f !== undefined && typeof f !== 'function') throw typeError('a function', `callbacks.${k}`, f);
      }
    }
    const signal = a.signal;

    const xt = this.inputTensor(x);
    const inDim = xt.shape[1];
    this.graph(inDim);
    this.checkTrainRows(Math.min(batchSize + 1, xt.shape[0]), 'batchSize');
    const yAll = this.targetTensor(y, xt.shape[0], c.loss);
    checkFinite(xt.data, 'x');
    const yPerRow = yAll.length / xt.shape[0];
    let rows = xt.shape[0];
    let valX: Float32Array | undefined;
    let valY: Float32Array | undefined;
    let valRows = 0;
    if (a.validationData !== undefined) {
      if (!Array.isArray(a.validationData) || a.validationData.length !== 2) {
        throw typeError('[xVal, yVal]', 'validationData', a.validationData);
      }
      const vx = this.inputTensor(a.validationData[0], 'validationData[0]');
      checkFinite(vx.data, 'validationData[0]');
      valX = vx.data;
      valRows = vx.shape[0];
      valY = this.targetTensor(a.validationData[1], valRows, c.loss, 'validationData[1]');
    } else if (split > 0) {
      valRows = Math.floor(rows * split);
      if (valRows < 1 || valRows >= rows) {
        throw new RangeError(`Expected a validationSplit leaving rows on both sides for validationSplit but received ${split} of ${rows} rows`);
      }
      rows -= valRows;
      valX = xt.data.subarray(rows * inDim);
      valY = yAll.subarray(rows * yPerRow);
    }
    const hasTrainableBn = this._layers.some((l) => l instanceof BatchNormalization && l.trainable);
    if (hasTrainableBn && rows < 2) {
      throw new RangeError(`Expected at least 2 training rows for batch normalization but received ${rows}`);
    }
    if (hasTrainableBn && batchSize < 2) {
      throw new RangeError(`Expected a batchSize of at least 2 (batch normalization needs batch statistics of 2 or more rows) for batchSize but received ${batchSize}`);
    }

    const rng = new Rng(seed ?? Math.floor(globalRng().next() * 0x100000000));
    const order = new Int32Array(rows);
    for (let i = 0; i < rows; i++) order[i] = i;
    const maxBatch = Math.min(batchSize + 1, rows);
    const bx = new Float32Array(maxBatch * inDim);
    const by = new Float32Array(maxBatch * yPerRow);

    const history: History = { epoch: [], history: { loss: [] } };
    if (c.accuracy) history.history.acc = [];
    if (valX) {
      history.history.val_loss = [];
      if (c.accuracy) history.history.val_acc = [];
    }
    // Batches run natively, an epoch per hop, unless a callback wants to see each batch.
    const fast = !callbacks.some((cb) => cb.onBatchBegin !== undefined || cb.onBatchEnd !== undefined);
    const maxBatches = Math.ceil(rows / batchSize);
    const bounds = new Int32Array(fast ? 2 * maxBatches : 0);
    const batchOut = new Float64Array(fast ? 3 * maxBatches : 0);
    const xTrain = xt.data.subarray(0, rows * inDim);
    const yTrain = yAll.subarray(0, rows * yPerRow);
    // Read by the native loop before each batch: set when the signal aborts or stopTraining is set.
    const stop = new Int32Array(1);
    this.fitStop = stop;
    const onAbort = (): void => { stop[0] = 1; };
    signal?.addEventListener('abort', onAbort);
    this.fitting = true;
    this.stopTraining = false;
    try {
      for (const cb of callbacks) await cb.onTrainBegin?.();
      for (let epoch = initialEpoch; epoch < initialEpoch + epochs; epoch++) {
        for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
        if (shuffle) rng.shuffle(order);
        let lossSum = 0;
        let correct = 0;
        let count = 0;
        let batchIndex = 0;
        if (fast) {
          // No callback looks at single batches: the epoch's batches run natively in one hop off
          // the event loop (same batches, same order, same steps), instead of one round trip per
          // batch, which costs a small model like W1 as much as its step on a busy machine.
          let nb = 0;
          for (let start = 0; start < rows; start += batchSize) {
            let n = Math.min(batchSize, rows - start);
            if (hasTrainableBn && rows - (start + n) === 1) n += 1;
            bounds[2 * nb] = start;
            bounds[2 * nb + 1] = n;
            nb++;
            start += n - Math.min(batchSize, rows - start);
          }
          const net = this.graph(inDim);
          net.setLearningRate(c.optimizer.learningRate);
          stop[0] = this.stopTraining || signal?.aborted ? 1 : 0;
          const r = await net.trainBatchesAsync(xTrain, yTrain, yPerRow, order, bounds.subarray(0, 2 * nb), c.optimizer.iterations + 1, stop, batchOut.subarray(0, 3 * nb));
          for (let b = 0; b < r.done; b++) {
            lossSum += batchOut[3 * b] * bounds[2 * b + 1];
            correct += batchOut[3 * b + 1];
            count += batchOut[3 * b + 2];
          }
          c.optimizer.iterations += r.done;
          batchIndex = r.done;
          if (r.error !== undefined) {
            throw new DensenormError(
              `Training failed at epoch ${epoch}, batch ${r.done}: ${r.error}; the weights are left as they were before this batch`,
              'ERR_TRAINING',
              { cause: new Error(r.error) },
            );
          }
        }
        for (let start = 0; !fast && start < rows; start += batchSize) {
          if (this.stopTraining || signal?.aborted) break;  // set before this batch (as the native loop does)
          let n = Math.min(batchSize, rows - start);
          // A trailing single row cannot be batch-normalized: fold it into this batch.
          if (hasTrainableBn && rows - (start + n) === 1) n += 1;
          for (const cb of callbacks) await cb.onBatchBegin?.(batchIndex);
          // Natively: one typed-array view per row cost ~130 µs a W1 batch, a third of its step.
          native.gatherRows(xt.data, inDim, order, start, n, bx);
          native.gatherRows(yAll, yPerRow, order, start, n, by);
          const net = this.graph(inDim);
          net.setLearningRate(c.optimizer.learningRate);
          let res: StepResult;
          try {
            res = await net.trainStepAsync(bx.subarray(0, n * inDim), n, by.subarray(0, n * yPerRow), c.optimizer.iterations + 1);
          } catch (e) {
            // The native step checks the loss before backward and update: weights, moving
            // statistics and optimizer state are still those from before this batch.
            throw new DensenormError(
              `Training failed at epoch ${epoch}, batch ${batchIndex}: ${(e as Error).message}; the weights are left as they were before this batch`,
              'ERR_TRAINING',
              { cause: e },
            );
          }
          c.optimizer.iterations++;
          lossSum += res.loss * n;
          correct += res.correct;
          count += res.count;
          const logs: Logs = { batch: batchIndex, size: n, loss: res.loss };
          if (c.accuracy) logs.acc = res.count > 0 ? res.correct / res.count : NaN;
          for (const cb of callbacks) await cb.onBatchEnd?.(batchIndex, logs);
          batchIndex++;
          start += n - Math.min(batchSize, rows - start);
          if (this.stopTraining || signal?.aborted) break;
        }
        const logs: Logs = { loss: lossSum / rows };
        if (c.accuracy) logs.acc = correct / count;
        if (valX && valY) {
          const v = this.evaluateArrays(valX, valY, valRows, Math.min(PREDICT_CHUNK, this.maxRowsPerCall()));
          logs.val_loss = v.loss;
          if (c.accuracy) logs.val_acc = v.acc;
        }
        history.epoch.push(epoch);
        for (const k of Object.keys(logs)) {
          const v = logs[k];
          if (v !== undefined) (history.history[k] ??= []).push(v);
        }
        if (a.verbose) process.stderr.write(`Epoch ${epoch + 1}/${initialEpoch + epochs} ${formatLogs(logs)}\n`);
        for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
        if (this.stopTraining || signal?.aborted) break;
      }
      for (const cb of callbacks) await cb.onTrainEnd?.();
    } finally {
      this.fitting = false;
      this.fitStop = undefined;
      signal?.removeEventListener('abort', onAbort);
    }
    return history;
  }

  /**
   * Precise BN: replaces each batch-norm layer's moving statistics by the exact mean and
   * (unbiased) variance of its input over x, computed in inference mode layer by layer with the
   * weights frozen.
   */
  recalibrateBatchNorm(x: TensorLike, args: { batchSize?: number } = {}): void {
    this.notFitting('recalibrate');
    const xt = this.inputTensor(x);
    const net = this.graph(xt.shape[1]);
    const bs = this.inferenceChunk(args, 'recalibrateBatchNorm');
    if (xt.shape[0] < 2) throw new RangeError(`Expected at least 2 rows for x but received ${xt.shape[0]}`);
    net.recalibrate(xt.data, xt.shape[0], bs);
    for (const l of this._layers) if (l instanceof BatchNormalization) l.numBatchesTracked[0] = 1;
  }

  /** Copies of all weights, Keras order, layer by layer. */
  getWeights(): Tensor[] {
    return this._layers.flatMap((l) => l.weights.map((w) => new Tensor(w.value.slice(), w.shape)));
  }

  /** Sets all weights (same order and shapes as getWeights), copying into the live arrays. */
  setWeights(weights: TensorLike[]): void {
    this.notFitting('setWeights');
    if (!Array.isArray(weights)) throw typeError('an array of tensors', 'weights', weights);
    const all = this._layers.flatMap((l) => l.weights.map((w) => ({ l, w })));
    if (weights.length !== all.length) {
      throw new RangeError(`Expected ${all.length} tensors for weights but received ${weights.length}`);
    }
    const values: Float32Array[] = weights.map((t, i) => {
      const { w, l } = all[i];
      const data = t instanceof Tensor ? t.data : toTensor2D(t, `weights[${i}]`).data;
      if (t instanceof Tensor && t.shape.join(',') !== w.shape.join(',')) {
        throw new RangeError(`Expected shape [${w.shape}] for weights[${i}] (${l.name}/${w.name}) but received [${t.shape}]`);
      }
      if (data.length !== w.value.length) {
        throw new RangeError(`Expected ${w.value.length} values (shape [${w.shape}]) for weights[${i}] (${l.name}/${w.name}) but received ${data.length}`);
      }
      return data;
    });
    let i = 0;
    for (const l of this._layers) {
      const n = l.weights.length;
      if (n > 0) l.setWeightValues(values.slice(i, i + n));
      i += n;
    }
  }

  countParams(): number {
    return this._layers.reduce((n, l) => n + l.countParams(), 0);
  }

  /** Prints a Keras-like table: layer, output shape, parameters, and which layers run fused. */
  summary(printFn: (line: string) => void = console.log): void {
    const rows: string[][] = [['Layer (type)', 'Output shape', 'Param #']];
    let dim = this.inputDim;
    let trainable = 0;
    let total = 0;
    for (const l of this._layers) {
      dim = dim === undefined ? undefined : l.outputDim(dim);
      const p = l.countParams();
      total += p;
      trainable += l.weights.filter((w) => w.trainable).reduce((s, w) => s + w.value.length, 0);
      rows.push([`${l.name} (${l.className})`, dim === undefined ? '[null, ?]' : `[null,${dim}]`, String(p)]);
    }
    const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)) + 2);
    const line = (ch: string) => ch.repeat(widths.reduce((s, w) => s + w, 0));
    printFn(`Model: "${this.name}"`);
    printFn(line('_'));
    rows.forEach((r, i) => {
      printFn(r.map((cell, c) => cell.padEnd(widths[c])).join(''));
      printFn(line(i === 0 ? '=' : '_'));
    });
    printFn(`Total params: ${total}`);
    printFn(`Trainable params: ${trainable}`);
    printFn(`Non-trainable params: ${total - trainable}`);
    const fused = this.fusedBlocks().map((b) => b.join(' → '));
    printFn(`Fused native blocks: ${fused.length}`);
    for (const f of fused) printFn(`  [${f}]`);
  }

  /**
   * Writes model.json (architecture, configs, batch-norm conventions) and weights.safetensors
   * into dir, creating it if needed; each file is replaced atomically.
   */
  save(dir: string): Promise<void> {
    this.notFitting('save');
    return saveModel(this, dir);
  }

  /** Frees the native graph now (it is rebuilt if the model is used again). */
  dispose(): void {
    this.notFitting('dispose');
    this.invalidate();
  }

  /** Whether fit() is running. */
  get isTraining(): boolean {
    return this.fitting;
  }

}

function weightMap(l: Layer): Record<string, Float32Array> {
  const m: Record<string, Float32Array> = {};
  for (const w of l.weights) m[w.name] = w.value;
  return m;
}

function checkFinite(data: Float32Array, argName: string): void {
  // Natively: a JS loop over W1's 60×784 batch took 60-130 µs, a sixth of the training step.
  const i = native.firstNonFinite(data);
  if (i >= 0) {
    throw new RangeError(`Expected finite values for ${argName} but received ${describe(data[i])} at index ${i}`);
  }
}

function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${(v as number).toFixed(4)}`)
    .join(' ');
}

export function sequential(args?: SequentialArgs): Sequential {
  return new Sequential(args);
}

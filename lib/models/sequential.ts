/**
 * Sequential model, tfjs-layers style. The layers describe the network and own the weights;
 * a native graph (NativeNet) built from their fused blocks runs every forward, backward and
 * optimizer step in C++. This file holds the layer list, compile and the public methods; the
 * work is in native_graph.ts, training.ts, inference.ts, inputs.ts, summary.ts and save.ts.
 */
import { NativeNet } from '../native';
import { BatchNormalization, Layer } from '../layers';
import { Optimizer } from '../optimizers/optimizer';
import { getOptimizer } from '../optimizers';
import { LossName, checkLoss } from '../losses';
import { Tensor, TensorLike, toTensor2D } from '../tensor';
import { Rng, globalRng, identityOrder } from '../random';
import { checkObject, checkUnknownKeys, typeError } from '../validate';
import { Precision, checkPrecision } from '../precision';
import { fusedLayerGroups, NativeGraph } from './native_graph';
import { FitArgs, History, epochRun, hasTrainableBatchNorm, parseFitArgs, planBatches, runEpoch, trainEpochs } from './training';
import { PREDICT_CHUNK, checkFinite, checkTrainRows, holdOut, inferenceChunk, maxRowsPerCall, sampleWeights, targetTensor, weightValues } from './inputs';
import { MetricSums, NativeMetric, parseMetrics } from '../metrics';
import { evaluateChunks, predictChunks, predictChunksAsync } from './inference';
import { printSummary } from './summary';
import { saveModel, SaveOptions } from './save';
import { readTorchWeights } from './torch_weights';
import { foldedLayers, foldLayers } from './fold';
import { QuantizeArgs, quantizeLayers } from './quantize';
import { QuantizedModel } from './quantized_model';

import { Dataset, FitDatasetArgs, StepBatch, batchParts, evaluateDataset, fitDatasetLoop, isValidationPair, parseFitDatasetArgs } from './fit_dataset';

export type { Callbacks, FitArgs, FitParams, History, Logs } from './training';
export type { Dataset, DatasetBatch, FitDatasetArgs } from './fit_dataset';

export interface CompileArgs {
  /** An optimizer object, or 'sgd' | 'adam' | 'rmsprop' with defaults. */
  optimizer: Optimizer | string;
  /** 'categoricalCrossentropy' | 'sparseCategoricalCrossentropy' | 'binaryCrossentropy' | 'meanSquaredError'. */
  loss: string;
  /** ['accuracy'] (or ['acc']) adds accuracy to logs and history as `acc`. */
  metrics?: string[];
  /** Keras's dtype policy: 'float32' (default) or 'mixed_bfloat16' (bf16 GEMM operands, fp32 everything else; README). */
  precision?: Precision;
}

export interface EvaluateResult {
  loss: number;
  accuracy?: number;
  /** Every other compiled metric, by its Keras log key (e.g. `auc`, `mae`). */
  [metric: string]: number | undefined;
}

export interface SequentialArgs {
  layers?: Layer[];
  name?: string;
}

interface Compiled {
  optimizer: Optimizer;
  loss: LossName;
  accuracy: boolean;
  metrics: readonly NativeMetric[];
  precision: Precision;
}

let modelCounter = 0;

export class Sequential {
  readonly name: string;
  private readonly _layers: Layer[] = [];
  private compiled?: Compiled;
  private readonly nativeGraph = new NativeGraph();
  private fitting = false;
  /** While fit runs its callbacks: no native step is in flight, so weights may be read and set. */
  private callbackWindow = false;
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
    checkUnknownKeys('compile args', a, ['optimizer', 'loss', 'metrics', 'precision']);
    if (this.fitting) throw new Error('Cannot compile while fit() is running');
    const optimizer = getOptimizer(a.optimizer, 'optimizer');
    const loss = checkLoss(a.loss, 'loss');
    const metrics = parseMetrics(a.metrics);
    const precision = checkPrecision(a.precision, 'precision');
    this.compiled = { optimizer, loss, accuracy: metrics.accuracy, metrics: metrics.native, precision };
    this.invalidate();
  }

  get optimizer(): Optimizer | undefined {
    return this.compiled?.optimizer;
  }

  private invalidate(): void {
    this.nativeGraph.invalidate();
  }

  /** The fused native graph, rebuilt when layers, trainable flags or the compile settings change. */
  private graph(inputDim: number): NativeNet {
    this.buildFor(inputDim);
    return this.nativeGraph.get(this._layers, inputDim, this.compiled);
  }

  /** The fused blocks, as layer-name groups (what runs as one native pass). */
  fusedBlocks(): string[][] {
    return fusedLayerGroups(this._layers);
  }

  private needCompiled(what: string): Compiled {
    if (!this.compiled) throw new Error(`The model must be compiled before ${what}; call model.compile({ optimizer, loss })`);
    return this.compiled;
  }

  /** Throws while fit() runs, except (when inCallbacks) while fit awaits its callbacks between steps. */
  private notFitting(what: string, inCallbacks = false): void {
    if (this.fitting && !(inCallbacks && this.callbackWindow)) {
      throw new Error(`Cannot ${what} while fit() is running on this model; await it first${inCallbacks ? ', or do it from a callback' : ''}`);
    }
  }

  private maxRowsPerCall(): number {
    return maxRowsPerCall(this._layers, this.inputDim);
  }

  private inputTensor(x: TensorLike, argName = 'x'): Tensor {
    return toTensor2D(x, argName, this.inputDim ?? this._layers[0]?.batchInputShape?.[1]);
  }

  private targetTensor(y: TensorLike, rows: number, loss: LossName, argName = 'y'): Float32Array {
    return targetTensor(y, rows, loss, this.outputDim!, argName);
  }

  /** One training step on one batch; returns the loss (before the update, as Keras reports it). */
  trainOnBatch(x: TensorLike, y: TensorLike): number {
    const c = this.needCompiled('trainOnBatch');
    this.notFitting('trainOnBatch');
    const xt = this.inputTensor(x);
    const net = this.graph(xt.shape[1]);
    checkTrainRows(this.maxRowsPerCall(), xt.shape[0], 'x');
    const yt = this.targetTensor(y, xt.shape[0], c.loss);
    checkFinite(xt.data, 'x');
    net.setLearningRate(c.optimizer.learningRate);
    const r = net.trainStep(xt.data, xt.shape[0], yt, c.optimizer.iterations + 1);
    c.optimizer.iterations++;
    return r.loss;
  }

  /** Inference with the moving statistics; rows are independent of each other. */
  predict(x: TensorLike, args: { batchSize?: number } = {}): Tensor {
    this.notFitting('predict', true);
    const xt = this.inputTensor(x);
    const chunk = inferenceChunk(args, 'predict', this.maxRowsPerCall());
    const net = this.graph(xt.shape[1]);
    const outDim = this.outputDim!;
    return new Tensor(predictChunks(net, xt.data, xt.shape[0], xt.shape[1], outDim, chunk), [xt.shape[0], outDim]);
  }

  /** predict() on a worker thread: the event loop stays free. */
  async predictAsync(x: TensorLike): Promise<Tensor> {
    this.notFitting('predict', true);
    const xt = this.inputTensor(x);
    const net = this.graph(xt.shape[1]);
    const outDim = this.outputDim!;
    const out = await predictChunksAsync(net, xt.data, xt.shape[0], xt.shape[1], outDim, this.maxRowsPerCall());
    return new Tensor(out, [xt.shape[0], this.outputDim!]);
  }

  /** evaluate() on a worker thread: the event loop stays free. */
  async evaluateAsync(x: TensorLike, y: TensorLike): Promise<EvaluateResult> {
    const c = this.needCompiled('evaluate');
    this.notFitting('evaluate', true);
    const xt = this.inputTensor(x);
    const net = this.graph(xt.shape[1]);
    const yt = this.targetTensor(y, xt.shape[0], c.loss);
    const r = await net.evaluateAsync(xt.data, xt.shape[0], yt);
    const accuracy = r.count > 0 ? r.correct / r.count : NaN;
    const m = new MetricSums(c.metrics);
    m.add(r.metrics);
    return { ...(c.accuracy ? { loss: r.loss, accuracy } : { loss: r.loss }), ...m.values() };
  }

  /** Loss (and accuracy when compiled with it) in inference mode. */
  evaluate(x: TensorLike, y: TensorLike, args: { batchSize?: number } = {}): EvaluateResult {
    const c = this.needCompiled('evaluate');
    this.notFitting('evaluate', true);
    const xt = this.inputTensor(x);
    const net = this.graph(xt.shape[1]);
    const yt = this.targetTensor(y, xt.shape[0], c.loss);
    const chunk = inferenceChunk(args, 'evaluate', this.maxRowsPerCall());
    const r = evaluateChunks(net, xt.data, yt, xt.shape[0], xt.shape[1], chunk, c.metrics);
    return { ...(c.accuracy ? { loss: r.loss, accuracy: r.acc } : { loss: r.loss }), ...r.metrics };
  }

  async fit(x: TensorLike, y: TensorLike, args: FitArgs = {}): Promise<History> {
    const c = this.needCompiled('fit');
    if (this.fitting) throw new Error('fit() is already running on this model; await it before calling fit() again');
    const o = parseFitArgs(args);
    const { batchSize, signal } = o;
    const xt = this.inputTensor(x);
    const inDim = xt.shape[1];
    this.graph(inDim);
    checkTrainRows(this.maxRowsPerCall(), Math.min(batchSize + 1, xt.shape[0]), 'batchSize');
    const yAll = this.targetTensor(y, xt.shape[0], c.loss);
    checkFinite(xt.data, 'x');
    const yPerRow = yAll.length / xt.shape[0];
    const { rows, valX, valY, valRows } = holdOut(o, xt, yAll, inDim, this.outputDim!, c.loss);
    const weights = sampleWeights(o, yAll, xt.shape[0], this.outputDim!, c.loss);
    const hasTrainableBn = hasTrainableBatchNorm(this._layers);
    if (hasTrainableBn && rows < 2) {
      throw new RangeError(`Expected at least 2 training rows for batch normalization but received ${rows}`);
    }
    if (hasTrainableBn && batchSize < 2) {
      throw new RangeError(`Expected a batchSize of at least 2 (batch normalization needs batch statistics of 2 or more rows) for batchSize but received ${batchSize}`);
    }

    const rng = new Rng(o.seed ?? Math.floor(globalRng().next() * 0x100000000));
    const stopRequested = (): boolean => this.stopTraining || !!signal?.aborted;
    const run = epochRun({
      x: xt.data.subarray(0, rows * inDim),
      y: yAll.subarray(0, rows * yPerRow),
      inDim,
      yPerRow,
      order: identityOrder(rows),
      // A trailing single row cannot be batch-normalized: it joins the batch before it.
      plan: planBatches(rows, batchSize, hasTrainableBn),
      optimizer: c.optimizer,
      accuracy: c.accuracy,
      metrics: c.metrics,
      sampleWeight: weights?.subarray(0, rows),
      net: () => this.graph(inDim),
      stop: new Int32Array(1),
      stopRequested,
      callbacks: o.callbacks,
      callbackWindow: (open) => { this.callbackWindow = open; },
    });
    this.fitStop = run.stop;
    const onAbort = (): void => { run.stop[0] = 1; };
    signal?.addEventListener('abort', onAbort);
    this.fitting = true;
    this.stopTraining = false;
    const validate = valX && valY ? () => evaluateChunks(this.nativeGraph.current!, valX, valY, valRows, inDim, Math.min(PREDICT_CHUNK, this.maxRowsPerCall()), c.metrics) : undefined;
    try {
      return await trainEpochs(run, o, {
        runEpoch: (epoch) => {
          if (o.shuffle) rng.shuffle(run.order);
          return runEpoch(run, epoch);
        },
        rows,
        steps: run.plan.batches,
        batchSize,
        accuracy: c.accuracy,
        validate,
        model: this,
      });
    } finally {
      this.fitting = false;
      this.callbackWindow = false;
      this.fitStop = undefined;
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Trains on batches pulled from an (async) iterable of { xs, ys } (tfjs's fitDataset): one
   * optimizer step per batch, the same steps, logs and History as fit on the concatenation with
   * shuffle: false, holding only the batch in hand.
   */
  async fitDataset(dataset: Dataset, args: FitDatasetArgs = {}): Promise<History> {
    const c = this.needCompiled('fitDataset');
    if (this.fitting) throw new Error('fit() is already running on this model; await it before calling fitDataset() again');
    const o = parseFitDatasetArgs(dataset, args);
    const { signal } = o;
    const toRows = (value: unknown, where: string): StepBatch => {
      const { xs, ys } = batchParts(value, where);
      const xt = this.inputTensor(xs, `${where}.xs`);
      this.graph(xt.shape[1]);
      const n = xt.shape[0];
      const y = this.targetTensor(ys, n, c.loss, `${where}.ys`);
      checkFinite(xt.data, `${where}.xs`);
      return { x: xt.data, n, y };
    };
    const batch = (value: unknown, where: string): StepBatch => {
      const b = toRows(value, where);
      checkTrainRows(this.maxRowsPerCall(), b.n, `${where}.xs`);
      if (b.n < 2 && hasTrainableBatchNorm(this._layers)) {
        throw new RangeError(`Expected at least 2 rows per batch (batch normalization needs batch statistics of 2 or more rows) for ${where}.xs but received ${b.n}`);
      }
      return b;
    };
    const evalBatch = (value: unknown, where: string) => {
      const b = toRows(value, where);
      checkTrainRows(this.maxRowsPerCall(), b.n, `${where}.xs`);
      const r = this.graph(this.inputDim!).evaluate(b.x, b.n, b.y);
      return { loss: r.loss, correct: r.correct, count: r.count, n: b.n, metrics: r.metrics };
    };
    const v = o.validationData;
    let pair: StepBatch | undefined;
    const checkPair = (): StepBatch => (pair ??= toRows({ xs: (v as unknown[])[0], ys: (v as unknown[])[1] }, 'validationData'));
    if (isValidationPair(v) && this.inputDim !== undefined) checkPair();
    const validate =
      v === undefined
        ? undefined
        : !isValidationPair(v)
          ? () => evaluateDataset(v, evalBatch, c.metrics)
          : async () => {
              const p = checkPair();
              return evaluateChunks(this.graph(this.inputDim!), p.x, p.y, p.n, this.inputDim!, Math.min(PREDICT_CHUNK, this.maxRowsPerCall()), c.metrics);
            };
    this.fitStop = new Int32Array(1);
    this.fitting = true;
    this.stopTraining = false;
    try {
      return await fitDatasetLoop({
        dataset,
        o,
        optimizer: c.optimizer,
        accuracy: c.accuracy,
        metrics: c.metrics,
        callbacks: o.callbacks,
        callbackWindow: (open) => { this.callbackWindow = open; },
        net: () => this.graph(this.inputDim!),
        batch,
        validate,
        model: this,
        stopRequested: () => this.stopTraining || !!signal?.aborted,
      });
    } finally {
      this.fitting = false;
      this.callbackWindow = false;
      this.fitStop = undefined;
    }
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
    const bs = inferenceChunk(args, 'recalibrateBatchNorm', this.maxRowsPerCall());
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
    this.notFitting('setWeights', true);
    const values = weightValues(this._layers, weights);
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
    printSummary(this, printFn);
  }

  /**
   * Writes the model to path. Default format: a directory of model.json (architecture, configs,
   * batch-norm conventions) and weights.safetensors, created if needed; 'tfjs' a TensorFlow.js
   * layers-model directory (model.json + weights.bin); 'onnx' one .onnx file; 'torch' one PyTorch
   * state-dict .safetensors file. Each file is replaced atomically, and the weights are copied
   * before this returns, so a save started from a fit callback holds that moment's weights.
   */
  save(path: string, options?: SaveOptions): Promise<void> {
    this.notFitting('save', true);
    return saveModel(this, path, options);
  }

  /** Reads weights saved by PyTorch (a safetensors state dict, torch.nn.Sequential names) into this model of the same shape. */
  async loadWeights(path: string, options: { format: 'torch' } = { format: 'torch' }): Promise<void> {
    this.notFitting('loadWeights');
    const apply = await readTorchWeights(this, path, options);
    this.notFitting('loadWeights');
    apply();
  }

  /** An fp32 inference copy with batch norm folded into the Dense layers (fold.ts), compiled like this one. */
  foldBatchNorm(): Sequential {
    const inputDim = this.lowPrecisionInput('foldBatchNorm');
    const m = new Sequential({ name: `${this.name}_folded`, layers: foldedLayers(foldLayers(this._layers, inputDim), inputDim) });
    if (this.compiled) m.compile({ optimizer: 'sgd', loss: this.compiled.loss, metrics: this.compiled.accuracy ? ['accuracy'] : [] });
    return m;
  }

  /** An int8 inference model: BN folded, per-channel s8 weights, u8 activations calibrated on calibrationData (quantize.ts). */
  quantize(args: QuantizeArgs): QuantizedModel {
    const inputDim = this.lowPrecisionInput('quantize');
    const layers = quantizeLayers(this._layers, inputDim, args);
    return new QuantizedModel({ name: `${this.name}_int8`, inputDim, layers, loss: this.compiled?.loss, metrics: this.compiled?.accuracy ? ['accuracy'] : [] });
  }

  private lowPrecisionInput(what: string): number {
    this.notFitting(what, true);
    if (this.inputDim === undefined) throw new Error(`Cannot ${what === 'quantize' ? 'quantize' : 'fold'} a model whose input size is unknown; give the first layer an inputShape or fit it first`);
    return this.inputDim;
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

export function sequential(args?: SequentialArgs): Sequential {
  return new Sequential(args);
}

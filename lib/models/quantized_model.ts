/**
 * An int8 inference model (model.quantize(...) or dn.loadModel of its directory): predict,
 * predictAsync (on a worker thread), evaluate and save, like a Sequential's. The native chain
 * runs the int32 GEMMs with requantization and ReLU fused; the last layer's softmax, sigmoid or
 * tanh runs here in fp64 on its fp32 outputs.
 */
import { checkLoss, LossName } from '../losses';
import { native, NativeQuantizedNet } from '../native';
import { Int8Layer, writeInt8Model } from '../io/int8_files';
import { Tensor, TensorLike, toTensor2D } from '../tensor';
import { checkObject, checkString, checkUnknownKeys } from '../validate';
import { checkFinite, inferenceChunk, targetTensor } from './inputs';
import { quantizedSpec } from './quantize';

export interface QuantizedModelArgs {
  name: string;
  inputDim: number;
  layers: Int8Layer[];
  /** The loss evaluate reports (the source model's, when it was compiled). */
  loss?: string;
  metrics?: string[];
}

const EPS = 1e-7;

export class QuantizedModel {
  readonly name: string;
  readonly inputDim: number;
  readonly outputDim: number;
  readonly layers: readonly Int8Layer[];
  private loss?: LossName;
  private accuracy: boolean;
  private net?: NativeQuantizedNet;

  constructor(args: QuantizedModelArgs) {
    this.name = args.name;
    this.inputDim = args.inputDim;
    this.layers = args.layers;
    this.outputDim = args.layers[args.layers.length - 1].units;
    this.loss = args.loss === undefined ? undefined : checkLoss(args.loss, 'loss');
    this.accuracy = (args.metrics ?? []).some((m) => m === 'accuracy' || m === 'acc');
  }

  /** The int8 kernel path this process runs (densenorm info prints it too). */
  get path(): string {
    return this.native().path;
  }

  /** Sets the loss (and ['accuracy']) evaluate reports; an optimizer is accepted and unused. */
  compile(args: { loss: string; metrics?: string[]; optimizer?: unknown }): void {
    const a = checkObject('compile args', args);
    checkUnknownKeys('compile args', a, ['loss', 'metrics', 'optimizer']);
    this.loss = checkLoss(a.loss, 'loss');
    this.accuracy = Array.isArray(a.metrics) && a.metrics.some((m) => m === 'accuracy' || m === 'acc');
  }

  countParams(): number {
    return this.layers.reduce((n, l) => n + l.inDim * l.units + 2 * l.units, 0);
  }

  private native(): NativeQuantizedNet {
    return (this.net ??= new native.QuantizedNet(quantizedSpec(this.layers)));
  }

  private input(x: TensorLike): Tensor {
    const xt = toTensor2D(x, 'x', this.inputDim);
    checkFinite(xt.data, 'x');
    return xt;
  }

  /** The last layer's activation on the native fp32 outputs, in place. */
  private finish(out: Float32Array): Float32Array {
    const act = this.layers[this.layers.length - 1].activation;
    const d = this.outputDim;
    if (act === 'softmax') {
      for (let r = 0; r < out.length; r += d) {
        let m = -Infinity;
        for (let j = 0; j < d; j++) m = Math.max(m, out[r + j]);
        let s = 0;
        for (let j = 0; j < d; j++) s += Math.exp(out[r + j] - m);
        for (let j = 0; j < d; j++) out[r + j] = Math.exp(out[r + j] - m) / s;
      }
    } else if (act === 'sigmoid') {
      for (let i = 0; i < out.length; i++) out[i] = 1 / (1 + Math.exp(-out[i]));
    } else if (act === 'tanh') {
      for (let i = 0; i < out.length; i++) out[i] = Math.tanh(out[i]);
    }
    return out;
  }

  predict(x: TensorLike, args: { batchSize?: number } = {}): Tensor {
    const xt = this.input(x);
    const rows = xt.shape[0];
    const chunk = inferenceChunk(args, 'predict', 1 << 20);
    const out = new Float32Array(rows * this.outputDim);
    const net = this.native();
    for (let r = 0; r < rows; r += chunk) {
      const n = Math.min(chunk, rows - r);
      net.predict(xt.data.subarray(r * this.inputDim, (r + n) * this.inputDim), n, out.subarray(r * this.outputDim, (r + n) * this.outputDim));
    }
    return new Tensor(this.finish(out), [rows, this.outputDim]);
  }

  /** predict() on a worker thread: the event loop stays free. */
  async predictAsync(x: TensorLike): Promise<Tensor> {
    const xt = this.input(x);
    const rows = xt.shape[0];
    const out = new Float32Array(rows * this.outputDim);
    await this.native().predictAsync(xt.data, rows, out);
    return new Tensor(this.finish(out), [rows, this.outputDim]);
  }

  /** Loss (and accuracy when the source model was compiled with it) of the int8 outputs. */
  evaluate(x: TensorLike, y: TensorLike, args: { batchSize?: number } = {}): { loss: number; accuracy?: number } {
    if (!this.loss) throw new Error('The quantized model has no loss: quantize a compiled model, or call quantized.compile({ loss })');
    const p = this.predict(x, args);
    const rows = p.shape[0];
    const d = this.outputDim;
    const t = targetTensor(y, rows, this.loss, d, 'y');
    const pr = p.data;
    let loss = 0;
    let correct = 0;
    let count = 0;
    const clip = (v: number): number => Math.min(1 - EPS, Math.max(EPS, v));
    const argmax = (a: Float32Array, o: number): number => {
      let b = 0;
      for (let j = 1; j < d; j++) if (a[o + j] > a[o + b]) b = j;
      return b;
    };
    for (let i = 0; i < rows; i++) {
      const o = i * d;
      if (this.loss === 'sparseCategoricalCrossentropy') {
        const label = t[i];
        loss -= Math.log(clip(pr[o + label]));
        correct += argmax(pr, o) === label ? 1 : 0;
        count++;
      } else if (this.loss === 'categoricalCrossentropy') {
        for (let j = 0; j < d; j++) loss -= t[o + j] * Math.log(clip(pr[o + j]));
        correct += argmax(pr, o) === argmax(t, o) ? 1 : 0;
        count++;
      } else if (this.loss === 'binaryCrossentropy') {
        for (let j = 0; j < d; j++) {
          const v = clip(pr[o + j]);
          loss -= (t[o + j] * Math.log(v) + (1 - t[o + j]) * Math.log(1 - v)) / d;
          correct += (pr[o + j] > 0.5) === (t[o + j] > 0.5) ? 1 : 0;
          count++;
        }
      } else {
        for (let j = 0; j < d; j++) loss += (pr[o + j] - t[o + j]) ** 2 / d;
      }
    }
    const res: { loss: number; accuracy?: number } = { loss: loss / rows };
    if (this.accuracy) res.accuracy = count > 0 ? correct / count : NaN;
    return res;
  }

  /** Writes model.json + weights.safetensors (int8 kernels, fp32 scales and biases) to dir. */
  async save(dir: string): Promise<void> {
    checkString('path', dir);
    await writeInt8Model(dir, { name: this.name, inputDim: this.inputDim, loss: this.loss, metrics: this.accuracy ? ['accuracy'] : [], layers: [...this.layers] });
  }

  /** Prints one line per int8 layer. */
  summary(printFn: (line: string) => void = console.log): void {
    printFn(`Quantized (int8) model "${this.name}", ${this.path} kernels`);
    for (const l of this.layers) {
      printFn(`  ${l.name}: ${l.inDim} -> ${l.units}, ${l.activation}, input scale ${l.inputScale.toPrecision(4)} zero point ${l.inputZeroPoint}`);
    }
    printFn(`Parameters: ${this.countParams()}`);
  }
}

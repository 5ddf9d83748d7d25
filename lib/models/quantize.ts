/**
 * Post-training int8 quantization of a folded Dense chain (fold.ts): per-output-channel symmetric
 * s8 weights (scale max|W'[:,n]|/127), per-layer u8 activations from min/max calibration (zero
 * point 0 when the calibrated input is non-negative, as after a ReLU; otherwise asymmetric), the
 * folded bias kept in fp32. quantizedSpec turns the parameters into what the native chain runs.
 */
import type { ActivationName } from '../activations';
import { DensenormError } from '../errors';
import type { Layer } from '../layers';
import { native, NativeQuantizedSpec } from '../native';
import { toTensor2D, TensorLike } from '../tensor';
import { checkObject, checkPositiveInt, checkUnknownKeys } from '../validate';
import { FoldedDense, foldLayers } from './fold';
import { checkFinite } from './inputs';

/** One int8 Dense as it is stored: the dequantized kernel is kernel[k,n] · kernelScale[n]. */
export interface QuantizedDense {
  name: string;
  inDim: number;
  units: number;
  activation: ActivationName;
  kernel: Int8Array;
  kernelScale: Float32Array;
  bias: Float32Array;
  /** The layer input x ≈ inputScale · (q − inputZeroPoint), q in 0..255. */
  inputScale: number;
  inputZeroPoint: number;
}

/** Activations a hidden int8 layer fuses (the last layer's runs in fp32 after the int32 sums). */
export const HIDDEN_ACTIVATIONS: readonly ActivationName[] = ['linear', 'relu'];

const f = Math.fround;

/** Native spec of the chain; the same bits whether the parameters come from quantize or a file. */
export function quantizedSpec(layers: readonly QuantizedDense[], path?: NativeQuantizedSpec['path']): NativeQuantizedSpec {
  return {
    ...(path ? { path } : {}),
    inputInv: f(1 / layers[0].inputScale),
    inputZeroPoint: layers[0].inputZeroPoint,
    layers: layers.map((l, i) => {
      const next = layers[i + 1];
      return {
        in: l.inDim,
        out: l.units,
        weights: l.kernel,
        mult: Float32Array.from(l.kernelScale, (s) => f(l.inputScale * s)),
        bias: l.bias,
        zeroPointIn: l.inputZeroPoint,
        relu: l.activation === 'relu',
        outInv: next ? f(1 / next.inputScale) : 1,
        outZeroPoint: next ? next.inputZeroPoint : 0,
      };
    }),
  };
}

/** u8 scale and zero point covering [min, max] (and 0). */
export function activationRange(min: number, max: number): { scale: number; zeroPoint: number } {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  if (hi - lo <= 0) return { scale: 1, zeroPoint: 0 };
  if (lo === 0) return { scale: f(hi / 255), zeroPoint: 0 };
  const scale = f((hi - lo) / 255);
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-lo / scale))) };
}

/** Per-column symmetric s8 weights of a folded kernel. */
export function quantizeKernel(d: FoldedDense): { kernel: Int8Array; kernelScale: Float32Array } {
  const { inDim, units } = d;
  const kernelScale = new Float32Array(units);
  for (let n = 0; n < units; n++) {
    let m = 0;
    for (let k = 0; k < inDim; k++) m = Math.max(m, Math.abs(d.kernel[k * units + n]));
    kernelScale[n] = m > 0 ? m / 127 : 1;
  }
  const kernel = new Int8Array(inDim * units);
  for (let k = 0; k < inDim; k++) {
    for (let n = 0; n < units; n++) kernel[k * units + n] = Math.max(-127, Math.min(127, Math.round(d.kernel[k * units + n] / kernelScale[n])));
  }
  return { kernel, kernelScale };
}

/** act(x·W + b) in fp32 through the native GEMM (calibration only). */
function denseForward(x: Float32Array, rows: number, d: FoldedDense, w: Float32Array): Float32Array {
  const y = new Float32Array(rows * d.units);
  native.gemm(null, false, false, rows, d.units, d.inDim, x, w, y, false);
  for (let i = 0; i < rows; i++) {
    for (let n = 0; n < d.units; n++) {
      const v = y[i * d.units + n] + d.bias[n];
      y[i * d.units + n] = d.activation === 'relu' ? Math.max(v, 0) : v;
    }
  }
  return y;
}

export interface QuantizeArgs {
  /** Rows representative of the inputs (a few hundred to a few thousand): [rows, inputDim]. */
  calibrationData: TensorLike;
  /** Rows per calibration forward pass. Default 256. */
  batchSize?: number;
}

/** The int8 parameters of a built model's layers. */
export function quantizeLayers(layers: readonly Layer[], inputDim: number, args: QuantizeArgs): QuantizedDense[] {
  const a = checkObject('quantize args', args);
  checkUnknownKeys('quantize args', a, ['calibrationData', 'batchSize']);
  if (a.calibrationData === undefined) throw new TypeError('Expected calibrationData (a Tensor, Float32Array or number[][] of [rows, inputDim]) for calibrationData but received undefined');
  const batchSize = a.batchSize === undefined ? 256 : checkPositiveInt('batchSize', a.batchSize);
  const steps = foldLayers(layers, inputDim, 'quantize');
  const dense: FoldedDense[] = steps.map((s) => {
    if (s.kind !== 'dense') {
      throw new DensenormError(`quantize: activation layer "${s.name}" does not follow a linear Dense; int8 inference fuses one activation per Dense`, 'ERR_DENSENORM');
    }
    return s.dense;
  });
  if (dense.length === 0) throw new DensenormError('quantize: the model has no Dense layer', 'ERR_DENSENORM');
  dense.forEach((d, i) => {
    if (i < dense.length - 1 && !HIDDEN_ACTIVATIONS.includes(d.activation)) {
      throw new DensenormError(`quantize: hidden Dense "${d.name}" has activation '${d.activation}'; int8 hidden layers support 'relu' and 'linear'`, 'ERR_DENSENORM');
    }
    if (d.inDim > 65536) throw new RangeError(`Expected at most 65536 inputs per int8 Dense (int32 sums) for layer "${d.name}" but received ${d.inDim}`);
  });
  const xt = toTensor2D(a.calibrationData as TensorLike, 'calibrationData', inputDim);
  const rows = xt.shape[0];
  if (rows < 1) throw new RangeError('Expected at least 1 row for calibrationData but received 0');
  checkFinite(xt.data, 'calibrationData');
  const mins = dense.map(() => Infinity);
  const maxs = dense.map(() => -Infinity);
  const w32 = dense.map((d) => Float32Array.from(d.kernel));
  for (let r = 0; r < rows; r += batchSize) {
    const n = Math.min(batchSize, rows - r);
    let x = xt.data.subarray(r * inputDim, (r + n) * inputDim);
    dense.forEach((d, i) => {
      for (let j = 0; j < x.length; j++) {
        const v = x[j];
        if (v < mins[i]) mins[i] = v;
        if (v > maxs[i]) maxs[i] = v;
      }
      if (i < dense.length - 1) x = denseForward(x, n, d, w32[i]);
    });
  }
  return dense.map((d, i) => {
    const { scale, zeroPoint } = activationRange(mins[i], maxs[i]);
    const { kernel, kernelScale } = quantizeKernel(d);
    return { name: d.name, inDim: d.inDim, units: d.units, activation: d.activation, kernel, kernelScale, bias: Float32Array.from(d.bias), inputScale: scale, inputZeroPoint: zeroPoint };
  });
}

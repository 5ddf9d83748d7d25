/**
 * Batch-norm folding for inference: the model's layers lowered to a chain of Dense (+ activation)
 * steps with every BatchNormalization merged into a neighbouring Dense, in float64 and rounded
 * once. A BN right after a linear Dense scales that Dense's columns (W' = W·diag(a),
 * b' = (b − μ)·a + β with a = γ/√(σ²+ε)); a BN after a nonlinearity (or at the input) is an
 * affine map of the next Dense's input, folded into its rows (W' = diag(a)·W, b' = b + c·W with
 * c = β − μ·a). A BN with no Dense after its nonlinearity cannot be folded: an error.
 */
import type { ActivationName } from '../activations';
import { DensenormError } from '../errors';
import { Activation, BatchNormalization, Dense, Dropout, Layer } from '../layers';

/** One Dense of the folded chain: W [inDim × units] row-major. */
export interface FoldedDense {
  name: string;
  inDim: number;
  units: number;
  kernel: Float64Array;
  bias: Float64Array;
  activation: ActivationName;
}

/** A step of the folded chain: a Dense, or an activation that could not merge into one. */
export type FoldedStep = { kind: 'dense'; dense: FoldedDense } | { kind: 'activation'; name: string; activation: ActivationName };

function unsupported(what: string, l: Layer): never {
  throw new DensenormError(
    `${what}: layer "${l.name}" (${l.className}) is not supported (supported: Dense, BatchNormalization, Activation, Dropout)`,
    'ERR_DENSENORM',
  );
}

/** The folded chain of layers (built, input width inputDim). */
export function foldLayers(layers: readonly Layer[], inputDim: number, what = 'foldBatchNorm'): FoldedStep[] {
  const steps: FoldedStep[] = [];
  let pending: { a: Float64Array; c: Float64Array; name: string } | undefined;
  let dim = inputDim;
  const lastDense = (): FoldedDense | undefined => {
    const s = steps[steps.length - 1];
    return s?.kind === 'dense' ? s.dense : undefined;
  };
  for (const l of layers) {
    if (l instanceof Dense) {
      const w = l.weights;
      const kernel = Float64Array.from(w.find((x) => x.name === 'kernel')!.value);
      const b = w.find((x) => x.name === 'bias')?.value;
      const units = l.units;
      const bias = b ? Float64Array.from(b) : new Float64Array(units);
      if (pending) {
        const { a, c } = pending;
        for (let k = 0; k < dim; k++) {
          for (let n = 0; n < units; n++) {
            const v = kernel[k * units + n];
            bias[n] += c[k] * v;
            kernel[k * units + n] = v * a[k];
          }
        }
        pending = undefined;
      }
      steps.push({ kind: 'dense', dense: { name: l.name, inDim: dim, units, kernel, bias, activation: l.activation } });
      dim = units;
    } else if (l instanceof BatchNormalization) {
      const get = (n: string): Float32Array | undefined => l.weights.find((x) => x.name === n)?.value;
      const gamma = get('gamma');
      const beta = get('beta');
      const mean = get('moving_mean')!;
      const variance = get('moving_variance')!;
      const eps = Math.fround(l.epsilon);
      const a = Float64Array.from({ length: dim }, (_, j) => (gamma ? gamma[j] : 1) / Math.sqrt(variance[j] + eps));
      const c = Float64Array.from({ length: dim }, (_, j) => (beta ? beta[j] : 0) - mean[j] * a[j]);
      const d = lastDense();
      if (!pending && d && d.activation === 'linear') {
        for (let k = 0; k < d.inDim; k++) for (let n = 0; n < dim; n++) d.kernel[k * dim + n] *= a[n];
        for (let n = 0; n < dim; n++) d.bias[n] = d.bias[n] * a[n] + c[n];
      } else if (pending) {
        const p = pending;
        for (let j = 0; j < dim; j++) {
          p.c[j] = p.c[j] * a[j] + c[j];
          p.a[j] *= a[j];
        }
      } else {
        pending = { a, c, name: l.name };
      }
    } else if (l instanceof Activation) {
      const d = lastDense();
      if (pending) {
        throw new DensenormError(
          `${what}: batch normalization "${pending.name}" is followed by activation "${l.name}" before any Dense; it cannot be folded`,
          'ERR_DENSENORM',
        );
      }
      if (l.activation === 'linear') continue;
      if (d && d.activation === 'linear') d.activation = l.activation;
      else steps.push({ kind: 'activation', name: l.name, activation: l.activation });
    } else if (l instanceof Dropout) {
      // The identity at inference.
    } else {
      unsupported(what, l);
    }
  }
  if (pending) {
    throw new DensenormError(
      `${what}: batch normalization "${pending.name}" follows a nonlinearity and no Dense comes after it to fold it into`,
      'ERR_DENSENORM',
    );
  }
  return steps;
}

/** The folded chain as new layers: Dense (with bias) and Activation, float32 weights set. */
export function foldedLayers(steps: readonly FoldedStep[], inputDim: number): Layer[] {
  return steps.map((s, i) => {
    if (s.kind === 'activation') return new Activation({ activation: s.activation, name: s.name });
    const d = s.dense;
    const layer = new Dense({ units: d.units, activation: d.activation, name: d.name, ...(i === 0 ? { inputShape: [inputDim] } : {}) });
    layer.build(d.inDim);
    layer.setWeightValues([Float32Array.from(d.kernel), Float32Array.from(d.bias)]);
    return layer;
  });
}

/**
 * compile's metrics: `'accuracy'` (the loss's own accuracy, logged as `acc`, as tfjs does) and the
 * metrics the native core accumulates (cpp/core/metrics.cc): each batch adds its counts or sums
 * into a state, states add up over an epoch (or an evaluation), and the value is taken from the
 * state here, with Keras's definitions.
 */
import { describe, typeError } from './validate';

/** A metric compile accepts, by its tfjs/Keras names. */
export type MetricName =
  | 'accuracy' | 'acc'
  | 'binaryAccuracy' | 'binary_accuracy'
  | 'categoricalAccuracy' | 'categorical_accuracy'
  | 'precision' | 'recall' | 'auc' | 'AUC'
  | 'mae' | 'meanAbsoluteError' | 'mean_absolute_error'
  | 'mse' | 'meanSquaredError' | 'mean_squared_error';

/** One metric the core accumulates: its native name, log key, state size and value. */
export interface NativeMetric {
  native: string;
  key: string;
  size: number;
  value(s: ArrayLike<number>, at: number): number;
}

/** 0 when the denominator is 0, as Keras's divide_no_nan. */
const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** AUC's 200 thresholds, as Keras's AUC(num_thresholds=200, curve='ROC', summation 'interpolation'). */
const AUC_THRESHOLDS = 200;

/**
 * ROC AUC from the state: for each threshold k the values above exactly k thresholds (positives,
 * then negatives), then the totals. tp[k] and fp[k] are suffix sums; the area is the trapezoidal
 * sum over (fpr, tpr) as Keras computes it.
 */
function aucValue(s: ArrayLike<number>, at: number): number {
  const n = AUC_THRESHOLDS;
  const P = s[at + 2 * n];
  const N = s[at + 2 * n + 1];
  const tpr = new Float64Array(n);
  const fpr = new Float64Array(n);
  let tp = 0;
  let fp = 0;
  for (let k = n - 1; k >= 0; k--) {
    tp += s[at + k];
    fp += s[at + n + k];
    tpr[k] = ratio(tp, P);
    fpr[k] = ratio(fp, N);
  }
  let area = 0;
  for (let k = 0; k < n - 1; k++) area += (fpr[k] - fpr[k + 1]) * (tpr[k] + tpr[k + 1]) / 2;
  return area;
}

const NATIVE: Record<string, NativeMetric> = {
  binaryAccuracy: { native: 'binary_accuracy', key: 'binary_accuracy', size: 2, value: (s, i) => ratio(s[i], s[i + 1]) },
  categoricalAccuracy: { native: 'categorical_accuracy', key: 'categorical_accuracy', size: 2, value: (s, i) => ratio(s[i], s[i + 1]) },
  precision: { native: 'precision', key: 'precision', size: 3, value: (s, i) => ratio(s[i], s[i] + s[i + 1]) },
  recall: { native: 'recall', key: 'recall', size: 3, value: (s, i) => ratio(s[i], s[i] + s[i + 2]) },
  auc: { native: 'auc', key: 'auc', size: 2 * AUC_THRESHOLDS + 2, value: aucValue },
  mae: { native: 'mae', key: 'mae', size: 2, value: (s, i) => ratio(s[i], s[i + 1]) },
  mse: { native: 'mse', key: 'mse', size: 2, value: (s, i) => ratio(s[i], s[i + 1]) },
};

const ALIASES: Record<string, string> = {
  binary_accuracy: 'binaryAccuracy',
  categorical_accuracy: 'categoricalAccuracy',
  AUC: 'auc',
  meanAbsoluteError: 'mae',
  mean_absolute_error: 'mae',
  meanSquaredError: 'mse',
  mean_squared_error: 'mse',
};

/** What compile's `metrics` asks for. */
export interface CompiledMetrics {
  /** The loss's accuracy ('accuracy' / 'acc'), logged as acc. */
  accuracy: boolean;
  /** The core's metrics, in the order given (duplicates dropped). */
  native: NativeMetric[];
}

export function parseMetrics(metrics: unknown): CompiledMetrics {
  const out: CompiledMetrics = { accuracy: false, native: [] };
  if (metrics === undefined || metrics === null) return out;
  const ms = typeof metrics === 'string' ? [metrics] : metrics;
  if (!Array.isArray(ms)) throw typeError("an array of metric names (['accuracy'])", 'metrics', metrics);
  const known = ['accuracy', 'acc', ...Object.keys(NATIVE)];
  for (const m of ms) {
    if (m === 'accuracy' || m === 'acc') {
      out.accuracy = true;
      continue;
    }
    const name = typeof m === 'string' ? (ALIASES[m] ?? m) : m;
    const def = typeof name === 'string' ? NATIVE[name] : undefined;
    if (!def) {
      const msg = `Expected one of ${known.map((k) => `'${k}'`).join(', ')} for metrics but received ${describe(m)}`;
      throw typeof m === 'string' ? new RangeError(msg) : new TypeError(msg);
    }
    if (!out.native.includes(def)) out.native.push(def);
  }
  return out;
}

/** Sums metric states (batch by batch, or chunk by chunk) and reads the values off them. */
export class MetricSums {
  private readonly sums: Float64Array;

  constructor(readonly metrics: readonly NativeMetric[]) {
    this.sums = new Float64Array(metrics.reduce((n, m) => n + m.size, 0));
  }

  /** Adds a state laid out as the core writes it (metric after metric) from src[at ..]. */
  add(src: ArrayLike<number> | undefined, at = 0): void {
    if (!src) return;
    for (let i = 0; i < this.sums.length; i++) this.sums[i] += src[at + i];
  }

  /** { key: value } of every metric, prefixed (e.g. 'val_'). */
  values(prefix = ''): Record<string, number> {
    const out: Record<string, number> = {};
    let at = 0;
    for (const m of this.metrics) {
      out[prefix + m.key] = m.value(this.sums, at);
      at += m.size;
    }
    return out;
  }
}

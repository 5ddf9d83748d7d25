/**
 * `densenorm train`'s training-loop flags turned into the library's objects: --l2, --early-stopping,
 * --lr-schedule, --class-weight, --metrics and --precision (the model and data flags are in train.ts).
 */
import * as dn from '../index';
import { choiceFlag, intFlag, numFlag, str, Values } from './args';
import { usageError } from './errors';

export const LOOP_OPTIONS = {
  l2: { type: 'string' },
  'early-stopping': { type: 'string' },
  'lr-schedule': { type: 'string' },
  'class-weight': { type: 'string' },
  metrics: { type: 'string' },
  precision: { type: 'string' },
} as const;

export const LOOP_HELP = `  --l2 X                   L2 penalty l2·Σw² on every Dense kernel (default 0: none)
  --early-stopping N       stop after N epochs without improvement of val_loss (loss without a
                           validation split) and restore the best weights (default: off)
  --lr-schedule NAME       cosine (cosine decay to 0 over the run) | exponential (×0.9 per epoch) |
                           step (÷10 at 50% and 75% of the steps) | plateau (halve after 2 epochs
                           without improvement); default: a constant rate
  --class-weight balanced  weigh each class n / (classes · n_class) in the loss (classification)
  --metrics a,b            extra metrics: binaryAccuracy, categoricalAccuracy, precision, recall,
                           auc, mae, mse (reported per epoch and kept in history.json)
  --precision fp32|bf16    bf16: compile precision 'mixed_bfloat16' (bf16 GEMMs with fp32
                           accumulation, fp32 weights and update); default fp32`;

export interface LoopSettings {
  l2: number;
  /** Extra compile metrics (beyond accuracy). */
  metrics: string[];
  callbacks: dn.Callback[];
  classWeight?: Record<number, number>;
  /** The optimizer's learning rate: the base rate, or a schedule of it. */
  learningRate: number | dn.LearningRateSchedule;
  schedule: string;
  /** compile's dtype policy (--precision). */
  precision: 'float32' | 'mixed_bfloat16';
}

export interface LoopContext {
  /** The optimizer's rate without a schedule (the --lr value or its default). */
  baseRate: number;
  epochs: number;
  stepsPerEpoch: number;
  validation: boolean;
  classify: boolean;
  streamed: boolean;
  /** Training class ids (classification, in memory). */
  yTrain?: Float32Array;
  classes: number;
}

export function loopSettings(values: Values, c: LoopContext): LoopSettings {
  const l2 = numFlag(values, 'l2', 0, (v) => v >= 0, 'a number >= 0')!;
  const patience = str(values, 'early-stopping') === undefined ? undefined : intFlag(values, 'early-stopping', 0, 0, 1_000_000);
  const schedule = choiceFlag(values, 'lr-schedule', 'constant', ['constant', 'cosine', 'exponential', 'step', 'plateau'] as const);
  const monitor = c.validation ? 'val_loss' : 'loss';
  const callbacks: dn.Callback[] = [];
  if (patience !== undefined) callbacks.push(dn.callbacks.earlyStopping({ monitor, patience, restoreBestWeights: true }));
  const total = Math.max(1, c.epochs * c.stepsPerEpoch);
  let learningRate: number | dn.LearningRateSchedule = c.baseRate;
  const lr = c.baseRate;
  if (schedule === 'cosine') learningRate = dn.schedules.cosineDecay({ initialLearningRate: lr, decaySteps: total });
  else if (schedule === 'exponential') learningRate = dn.schedules.exponentialDecay({ initialLearningRate: lr, decaySteps: Math.max(1, c.stepsPerEpoch), decayRate: 0.9 });
  else if (schedule === 'step') {
    const b1 = Math.max(1, Math.round(total * 0.5));
    const b2 = Math.max(b1 + 1, Math.round(total * 0.75));
    learningRate = dn.schedules.piecewiseConstantDecay({ boundaries: [b1, b2], values: [lr, lr / 10, lr / 100] });
  } else if (schedule === 'plateau') callbacks.push(dn.callbacks.reduceLROnPlateau({ monitor, factor: 0.5, patience: 2 }));

  const cw = str(values, 'class-weight');
  let classWeight: Record<number, number> | undefined;
  if (cw !== undefined) {
    if (cw.toLowerCase() !== 'balanced') throw usageError(`--class-weight expects balanced, got "${cw}"`);
    if (!c.classify) throw usageError('--class-weight applies to classification, not regression');
    if (c.streamed || !c.yTrain) throw usageError('--class-weight needs the data in memory (raise --max-memory)');
    classWeight = balancedClassWeight(c.yTrain, c.classes);
  }
  const m = str(values, 'metrics');
  const metrics = m === undefined ? [] : m.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const precision = choiceFlag(values, 'precision', 'fp32', ['fp32', 'bf16'] as const) === 'bf16' ? 'mixed_bfloat16' : 'float32';
  return { l2, metrics, callbacks, classWeight, learningRate, schedule, precision };
}

/** scikit-learn's "balanced": n / (classes · n_c) for each class present. */
export function balancedClassWeight(y: Float32Array, classes: number): Record<number, number> {
  const counts = new Array<number>(classes).fill(0);
  for (const v of y) counts[v]++;
  const present = counts.filter((n) => n > 0).length;
  const w: Record<number, number> = {};
  counts.forEach((n, c) => {
    if (n > 0) w[c] = y.length / (present * n);
  });
  return w;
}

const SHOWN = new Set(['loss', 'acc', 'learning_rate', 'batch', 'size']);

/** "auc 0.9123  val_auc 0.9011" for the extra metrics in an epoch's logs (loss and acc are shown apart). */
export function metricParts(logs: dn.Logs): string[] {
  const parts: string[] = [];
  for (const [key, v] of Object.entries(logs)) {
    if (key.startsWith('val_') || SHOWN.has(key) || typeof v !== 'number') continue;
    parts.push(`${key} ${v.toFixed(4)}`);
    const val = logs[`val_${key}`];
    if (typeof val === 'number') parts.push(`val_${key} ${val.toFixed(4)}`);
  }
  return parts;
}

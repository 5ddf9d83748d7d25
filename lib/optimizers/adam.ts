import { OPTIMIZER_CODES, NativeOptimizerSpec } from '../native';
import { checkNumber, checkObject, checkUnknownKeys } from '../validate';
import type { LearningRateSchedule } from './schedules';
import { COMMON_OPTIMIZER_KEYS, Optimizer, OptimizerCommonArgs } from './optimizer';

export interface AdamArgs extends OptimizerCommonArgs {
  /** Step size (>= 0) or a schedule of the step (dn.schedules.*). Default 1e-3. */
  learningRate?: number | LearningRateSchedule;
  /** Decay of the first-moment average. Default 0.9. */
  beta1?: number;
  /** Decay of the second-moment average. Default 0.999. */
  beta2?: number;
  /** Added to √v for stability. Default 1e-7 (Keras). */
  epsilon?: number;
  /** Decoupled weight decay (AdamW): p -= learningRate·weightDecay·p each step. Default 0. */
  weightDecay?: number;
}

/** Adam (Kingma & Ba) as Keras computes it; with weightDecay it is AdamW. */
export class Adam extends Optimizer {
  readonly name = 'adam' as const;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;

  constructor(args: AdamArgs = {}) {
    const a = checkObject('adam args', args);
    checkUnknownKeys('adam args', a, [...COMMON_OPTIMIZER_KEYS, 'beta1', 'beta2', 'epsilon', 'weightDecay']);
    super(a, 1e-3);
    this.beta1 = checkNumber('beta1', a.beta1 ?? 0.9, { min: 0, max: 1 });
    this.beta2 = checkNumber('beta2', a.beta2 ?? 0.999, { min: 0, max: 1 });
    if (this.beta1 >= 1) throw new RangeError(`Expected a number in [0, 1) for beta1 but received ${this.beta1}`);
    if (this.beta2 >= 1) throw new RangeError(`Expected a number in [0, 1) for beta2 but received ${this.beta2}`);
    this.epsilon = checkNumber('epsilon', a.epsilon ?? 1e-7, { min: 0, minExclusive: true });
    this.weightDecay = checkNumber('weightDecay', a.weightDecay ?? 0, { min: 0 });
  }

  protected stateCount(): number {
    return 2;
  }

  nativeSpec(): NativeOptimizerSpec {
    return {
      type: OPTIMIZER_CODES.adam,
      ...this.commonSpec(),
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
    };
  }

  getConfig(): Record<string, unknown> {
    return { ...this.commonConfig(), beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay };
  }
}

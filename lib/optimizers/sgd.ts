import { OPTIMIZER_CODES, NativeOptimizerSpec } from '../native';
import { checkBoolean, checkNumber, checkObject, checkUnknownKeys } from '../validate';
import type { LearningRateSchedule } from './schedules';
import { COMMON_OPTIMIZER_KEYS, Optimizer, OptimizerCommonArgs } from './optimizer';

export interface SgdArgs extends OptimizerCommonArgs {
  /** Step size (>= 0) or a schedule of the step (dn.schedules.*). Default 0.01 (Keras). */
  learningRate?: number | LearningRateSchedule;
  /** Heavy-ball momentum in [0, 1). Default 0. */
  momentum?: number;
  /** Nesterov momentum. Default false. */
  nesterov?: boolean;
  /** Decoupled weight decay: p -= learningRate·weightDecay·p each step. Default 0. */
  weightDecay?: number;
}

/** Stochastic gradient descent, Keras semantics: v = m·v − lr·g; p += v (Nesterov: p += m·v − lr·g). */
export class SGD extends Optimizer {
  readonly name = 'sgd' as const;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;

  constructor(args: SgdArgs = {}) {
    const a = checkObject('sgd args', args);
    checkUnknownKeys('sgd args', a, [...COMMON_OPTIMIZER_KEYS, 'momentum', 'nesterov', 'weightDecay']);
    super(a, 0.01);
    this.momentum = checkNumber('momentum', a.momentum ?? 0, { min: 0, max: 1 });
    this.nesterov = checkBoolean('nesterov', a.nesterov ?? false);
    this.weightDecay = checkNumber('weightDecay', a.weightDecay ?? 0, { min: 0 });
  }

  protected stateCount(): number {
    return this.momentum > 0 ? 1 : 0;
  }

  nativeSpec(): NativeOptimizerSpec {
    return {
      type: OPTIMIZER_CODES.sgd,
      ...this.commonSpec(),
      momentum: this.momentum,
      nesterov: this.nesterov,
      weightDecay: this.weightDecay,
    };
  }

  getConfig(): Record<string, unknown> {
    return { ...this.commonConfig(), momentum: this.momentum, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }
}

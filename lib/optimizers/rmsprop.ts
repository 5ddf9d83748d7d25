import { OPTIMIZER_CODES, NativeOptimizerSpec } from '../native';
import { checkNumber, checkObject, checkUnknownKeys } from '../validate';
import type { LearningRateSchedule } from './schedules';
import { COMMON_OPTIMIZER_KEYS, Optimizer, OptimizerCommonArgs } from './optimizer';

export interface RmspropArgs extends OptimizerCommonArgs {
  /** Step size (>= 0) or a schedule of the step (dn.schedules.*). Default 1e-3 (Keras). */
  learningRate?: number | LearningRateSchedule;
  /** Decay of the mean square (Keras `rho`). Default 0.9. */
  rho?: number;
  /** Same as rho, under tfjs's name. */
  decay?: number;
  /** Momentum in [0, 1). Default 0. */
  momentum?: number;
  /** Added to the root mean square. Default 1e-7. */
  epsilon?: number;
  /** Decoupled weight decay. Default 0. */
  weightDecay?: number;
}

/** RMSprop, Keras semantics (not centered). */
export class RMSprop extends Optimizer {
  readonly name = 'rmsprop' as const;
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly weightDecay: number;

  constructor(args: RmspropArgs = {}) {
    const a = checkObject('rmsprop args', args);
    checkUnknownKeys('rmsprop args', a, [...COMMON_OPTIMIZER_KEYS, 'rho', 'decay', 'momentum', 'epsilon', 'weightDecay']);
    super(a, 1e-3);
    this.rho = checkNumber(a.rho !== undefined ? 'rho' : 'decay', a.rho ?? a.decay ?? 0.9, { min: 0, max: 1 });
    this.momentum = checkNumber('momentum', a.momentum ?? 0, { min: 0, max: 1 });
    this.epsilon = checkNumber('epsilon', a.epsilon ?? 1e-7, { min: 0, minExclusive: true });
    this.weightDecay = checkNumber('weightDecay', a.weightDecay ?? 0, { min: 0 });
  }

  protected stateCount(): number {
    return this.momentum > 0 ? 2 : 1;
  }

  nativeSpec(): NativeOptimizerSpec {
    return {
      type: OPTIMIZER_CODES.rmsprop,
      ...this.commonSpec(),
      rho: this.rho,
      momentum: this.momentum,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
    };
  }

  getConfig(): Record<string, unknown> {
    return { ...this.commonConfig(), rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, weightDecay: this.weightDecay };
  }
}

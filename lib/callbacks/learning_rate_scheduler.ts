/** LearningRateScheduler, Keras 3 semantics (keras/src/callbacks/learning_rate_scheduler.py). */
import { plainLearningRate } from '../models/training';
import { describe, typeError } from '../validate';
import { Callback } from './callback';

/** (epoch (0-based), current learning rate) → the learning rate for this epoch. */
export type ScheduleFn = (epoch: number, lr: number) => number | Promise<number>;

const WHO = 'learningRateScheduler';

/**
 * At each epoch begin, sets optimizer.learningRate = schedule(epoch, optimizer.learningRate); the
 * epoch's logs then carry it as learning_rate. A result that is not a finite number >= 0 is an error
 * (TypeError for a non-number, RangeError for NaN, ±Infinity or a negative rate).
 */
export class LearningRateScheduler extends Callback {
  readonly schedule: ScheduleFn;

  constructor(schedule: ScheduleFn) {
    super();
    if (typeof schedule !== 'function') throw typeError('a function (epoch, lr) => newLr', 'schedule', schedule);
    this.schedule = schedule;
  }

  onTrainBegin(): void {
    plainLearningRate(this.requireModel(WHO).optimizer, WHO);
  }

  async onEpochBegin(epoch: number): Promise<void> {
    const optimizer = this.requireModel(WHO).optimizer!;
    const lr = await this.schedule(epoch, plainLearningRate(optimizer, WHO));
    if (typeof lr !== 'number') throw new TypeError(`${WHO}: schedule(${epoch}, lr) must return a number but returned ${describe(lr)}`);
    if (!Number.isFinite(lr) || lr < 0) {
      throw new RangeError(`${WHO}: schedule(${epoch}, lr) must return a finite learning rate >= 0 but returned ${lr}`);
    }
    optimizer.learningRate = lr;
  }
}

export function learningRateScheduler(schedule: ScheduleFn): LearningRateScheduler {
  return new LearningRateScheduler(schedule);
}

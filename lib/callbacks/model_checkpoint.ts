/** ModelCheckpoint, Keras 3 semantics (keras/src/callbacks/model_checkpoint.py), saving with model.save. */
import type { Logs } from '../models/training';
import { checkBoolean, checkString } from '../validate';
import { Callback, MonitorMode, callbackArgs, checkMode, checkMonitor, isImprovement, maximizes, monitorValue } from './callback';
import { formatTemplate } from './format';

export interface ModelCheckpointArgs {
  /**
   * The directory model.save writes, a Python-style template: `{epoch}` is the 1-based epoch (as
   * Keras's `epoch + 1`), any log key (`{val_loss}`, `{acc}`) its value; format specs such as
   * `{epoch:02d}` and `{val_loss:.2f}` as in Python. Without fields, every save replaces the last.
   */
  filepath: string;
  /** Log key compared when saveBestOnly. Default 'val_loss'. */
  monitor?: string;
  /** Save only when the monitored value improves on the best so far. Default false. */
  saveBestOnly?: boolean;
  /** 'auto' (from the monitor's name), 'min' or 'max'. Default 'auto'. */
  mode?: MonitorMode;
}

const KEYS = ['filepath', 'monitor', 'saveBestOnly', 'mode'];
const WHO = 'modelCheckpoint';

/**
 * At each epoch end, saves the model (model.save: each file replaced atomically, the pair
 * crash-safe) to filepath filled from the epoch and its logs, and waits for the save. With
 * saveBestOnly, only when the monitor improves (min: current < best; max: current > best; the
 * first epoch always does).
 */
export class ModelCheckpoint extends Callback {
  readonly filepath: string;
  readonly monitor: string;
  readonly saveBestOnly: boolean;
  readonly mode: MonitorMode;
  /** Best monitored value so far (saveBestOnly). */
  best: number | undefined = undefined;
  /** The directories saved to, in order. */
  readonly saved: string[] = [];
  private max: boolean | undefined = undefined;

  constructor(args: ModelCheckpointArgs) {
    super();
    const a = callbackArgs(WHO, args, KEYS);
    this.filepath = checkString('filepath', a.filepath);
    if (this.filepath === '') throw new RangeError('Expected a non-empty path for filepath but received ""');
    this.monitor = checkMonitor(a.monitor);
    this.saveBestOnly = a.saveBestOnly === undefined ? false : checkBoolean('saveBestOnly', a.saveBestOnly);
    this.mode = checkMode(a.mode);
    // A malformed template fails now rather than after the first epoch.
    formatTemplate(this.filepath, new Proxy({}, { get: () => 1 }));
  }

  onTrainBegin(): void {
    this.best = undefined;
  }

  /** The directory for this epoch's save. */
  filePathFor(epoch: number, logs?: Logs): string {
    return formatTemplate(this.filepath, { ...logs, epoch: epoch + 1 }, ['epoch', 'batch']);
  }

  async onEpochEnd(epoch: number, logs?: Logs): Promise<void> {
    if (this.saveBestOnly) {
      const current = monitorValue(logs, this.monitor, WHO);
      this.max ??= maximizes(this.monitor, this.mode, WHO);
      if (!isImprovement(current, this.best, 0, this.max)) return;
      this.best = current;
    }
    const dir = this.filePathFor(epoch, logs);
    await this.requireModel(WHO).save(dir);
    this.saved.push(dir);
  }
}

export function modelCheckpoint(args: ModelCheckpointArgs): ModelCheckpoint {
  return new ModelCheckpoint(args);
}

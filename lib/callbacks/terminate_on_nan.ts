/** TerminateOnNaN: Keras's check of each batch's loss, on densenorm's native step (see onNonFiniteLoss). */
import type { DensenormError } from '../errors';
import { checkBoolean } from '../validate';
import { Callback, callbackArgs } from './callback';

export interface TerminateOnNaNArgs {
  /** Reject fit with the ERR_TRAINING error instead of stopping cleanly (Keras 3.13's raise_error). Default false. */
  raiseError?: boolean;
}

/**
 * Keras stops after a batch whose loss is NaN or ±Infinity, with that batch's update applied. In
 * densenorm the native step finds such a loss before it writes anything and throws ERR_TRAINING;
 * with this callback, fit instead ends cleanly: the weights stay those from before the failing
 * batch, the unfinished epoch is neither recorded nor passed to onEpochEnd, onTrainEnd runs (so an
 * earlyStopping still restores its best weights), and fit resolves with the history of the
 * completed epochs. It prints "Epoch E, batch B: invalid loss, terminating training" to stderr and
 * keeps where it happened in `terminated`.
 */
export class TerminateOnNaN extends Callback {
  readonly raiseError: boolean;
  /** Where training was terminated (0-based epoch and batch), if it was. */
  terminated: { epoch: number; batch: number; message: string } | undefined = undefined;

  constructor(args: TerminateOnNaNArgs = {}) {
    super();
    const a = callbackArgs('terminateOnNaN', args, ['raiseError']);
    this.raiseError = a.raiseError === undefined ? false : checkBoolean('raiseError', a.raiseError);
  }

  onTrainBegin(): void {
    this.terminated = undefined;
  }

  onNonFiniteLoss(epoch: number, batch: number, error: DensenormError): boolean {
    this.terminated = { epoch, batch, message: error.message };
    if (this.raiseError) return false;
    if (this.model) this.model.stopTraining = true;
    process.stderr.write(`Epoch ${epoch + 1}, batch ${batch}: invalid loss, terminating training\n`);
    return true;
  }
}

export function terminateOnNaN(args?: TerminateOnNaNArgs): TerminateOnNaN {
  return new TerminateOnNaN(args);
}

/**
 * What fit hands its callbacks: the Callbacks interface, the logs and params they receive, and
 * callEach, which runs one hook on every callback with the model open to them meanwhile.
 */
import type { DensenormError } from '../errors';

/**
 * Values passed to callbacks; `acc` only when compiled with metrics: ['accuracy']. Epoch logs also
 * carry `learning_rate`, the optimizer's rate during the epoch (as Keras 3).
 */
export interface Logs {
  loss: number;
  acc?: number;
  val_loss?: number;
  val_acc?: number;
  learning_rate?: number;
  batch?: number;
  size?: number;
  [key: string]: number | undefined;
}

export interface Callbacks {
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs: Logs): void | Promise<void>;
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  /** Called by fit with the model, before onTrainBegin (as tfjs's BaseCallback.setModel). */
  setModel?(model: unknown): void;
  /** Called by fit with the run's parameters, before onTrainBegin. */
  setParams?(params: FitParams): void;
  /**
   * Called when a training step's loss is NaN or ±Infinity (the step threw before writing anything,
   * so the weights are those from before that batch). Returning true ends fit cleanly: the failed
   * epoch is not recorded, onEpochEnd is not called for it, onTrainEnd is, and fit resolves with the
   * history of the completed epochs. Otherwise fit rejects with the ERR_TRAINING error.
   */
  onNonFiniteLoss?(epoch: number, batch: number, error: DensenormError): boolean | Promise<boolean>;
  /**
   * true: onBatchEnd only watches (a progress bar, a log): it is fed from the native loop as
   * batches finish, with the same logs, while training goes on without pausing for it, so fit
   * keeps its one-hop-per-epoch speed. A stopTraining it sets takes effect at the next batch the
   * loop starts. Such a callback may not have onBatchBegin.
   */
  observesBatches?: boolean;
}

/** What setParams receives (tfjs's callback params, plus Keras's `steps`). */
export interface FitParams {
  epochs: number;
  initialEpoch: number;
  /** Training rows per epoch (undefined for fitDataset: not known ahead). */
  samples?: number;
  /** Batches per epoch (undefined when not known ahead). */
  steps?: number;
  batchSize?: number;
  verbose: number;
  doValidation: boolean;
  /** The keys the epoch logs will have. */
  metrics: string[];
}

/** The callbacks of a fit and its callback window (see callEach). */
export interface CallbackHost {
  callbacks: readonly Callbacks[];
  /** Told true while callbacks run (no native step is in flight then), false after. */
  callbackWindow?(open: boolean): void;
}

/** Calls f on every callback in order, awaiting each, with the callback window open meanwhile. */
export async function callEach(run: CallbackHost, f: (cb: Callbacks) => unknown): Promise<void> {
  if (run.callbacks.length === 0) return;
  run.callbackWindow?.(true);
  try {
    for (const cb of run.callbacks) await f(cb);
  } finally {
    run.callbackWindow?.(false);
  }
}

/** An epoch's batch plan: fit, fitDataset's callers and the CLI's progress counts use the same one. */
import { checkNonNegInt, checkPositiveInt } from '../validate';

/** How an epoch's rows split into batches: consecutive runs of the (shuffled) row order. */
export interface BatchPlan {
  readonly rows: number;
  readonly batchSize: number;
  /** Number of batches. */
  readonly batches: number;
  /** Rows in the largest batch (batchSize + 1 when a trailing row was folded in). */
  readonly maxSize: number;
  /** First row (position in the order) of batch i. */
  startOf(i: number): number;
  /** Rows in batch i. */
  sizeOf(i: number): number;
}

/**
 * Batches of batchSize rows and a shorter last one. With foldTrailingRow, a last batch of a single
 * row (which batch normalization cannot normalize) joins the batch before it.
 */
export function planBatches(rows: number, batchSize: number, foldTrailingRow = true): BatchPlan {
  checkNonNegInt('rows', rows);
  checkPositiveInt('batchSize', batchSize);
  let batches = Math.ceil(rows / batchSize);
  let last = rows - (batches - 1) * batchSize;
  if (foldTrailingRow && batches > 1 && last === 1) {
    batches--;
    last = batchSize + 1;
  }
  return {
    rows,
    batchSize,
    batches,
    maxSize: batches === 0 ? 0 : Math.max(last, batches > 1 ? batchSize : 0),
    startOf: (i) => i * batchSize,
    sizeOf: (i) => (i < batches - 1 ? batchSize : last),
  };
}

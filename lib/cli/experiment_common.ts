/**
 * What `densenorm experiment` and `experiment --compare norms` share: the data (bundled MNIST or
 * a file), a seeded batch sampler, a text table, number formatting.
 */
import * as dn from '../index';
import { identityOrder, Rng, shuffledOrder } from '../random';
import { featureStats, gatherRows, loadTable, makeTargets, standardize } from './data';
import { CliError, usageError } from './errors';
import { fmtInt } from './progress';

export interface Dataset {
  name: string;
  xTrain: Float32Array;
  yTrain: Float32Array;
  xTest: dn.Tensor;
  yTest: dn.Tensor;
  cols: number;
  classes: number;
}

export async function loadData(file: string | undefined, label: string | undefined, seed: number): Promise<Dataset> {
  if (file === undefined) {
    if (label !== undefined) throw usageError('--label needs --data');
    const m = dn.loadMnist();
    return {
      name: `MNIST (bundled): ${fmtInt(m.xTrain.shape[0])} train / ${fmtInt(m.xTest.shape[0])} test rows`,
      xTrain: m.xTrain.data,
      yTrain: Float32Array.from(m.labelsTrain),
      xTest: m.xTest,
      yTest: dn.tensor(Float32Array.from(m.labelsTest), [m.labelsTest.length, 1]),
      cols: 784,
      classes: 10,
    };
  }
  const t = await loadTable(file, label);
  const targets = makeTargets(t.labels, t.labelName, 'classification');
  const cols = t.featureNames.length;
  const order = shuffledOrder(t.rows, new Rng(seed));
  const nTest = Math.max(1, Math.floor(t.rows * 0.2));
  const nTrain = t.rows - nTest;
  if (nTrain < 2) throw new CliError(`${file}: ${t.rows} rows are too few for the experiment`);
  const stats = featureStats(t.x, cols, order.subarray(0, nTrain));
  standardize(t.x, cols, stats.mean, stats.std);
  const pick = (from: number, to: number) => ({ x: gatherRows(t.x, cols, order.subarray(from, to)), y: gatherRows(targets.y, 1, order.subarray(from, to)) });
  const tr = pick(0, nTrain);
  const te = pick(nTrain, t.rows);
  return {
    name: `${file}: ${fmtInt(nTrain)} train / ${fmtInt(nTest)} test rows, ${cols} features, ${targets.classes!.length} classes`,
    xTrain: tr.x,
    yTrain: tr.y,
    xTest: dn.tensor(te.x, [nTest, cols]),
    yTest: dn.tensor(te.y, [nTest, 1]),
    cols,
    classes: targets.classes!.length,
  };
}

/** Mini-batches in a seeded order, reshuffled each pass, written into reused tensors. */
export class BatchSampler {
  readonly x: dn.Tensor;
  readonly y: dn.Tensor;
  private readonly bx: Float32Array<ArrayBuffer>;
  private readonly by: Float32Array<ArrayBuffer>;
  private readonly rng: Rng;
  private readonly order: Int32Array;
  private pos: number;

  constructor(private readonly ds: Dataset, private readonly batchSize: number, seed: number) {
    this.bx = new Float32Array(batchSize * ds.cols);
    this.by = new Float32Array(batchSize);
    this.x = dn.tensor(this.bx, [batchSize, ds.cols]);
    this.y = dn.tensor(this.by, [batchSize, 1]);
    this.rng = new Rng(seed);
    this.order = identityOrder(ds.yTrain.length);
    this.pos = this.order.length;
  }

  next(): void {
    const n = this.order.length;
    if (this.pos + this.batchSize > n) {
      this.rng.shuffle(this.order);
      this.pos = 0;
    }
    const idx = this.order.subarray(this.pos, this.pos + this.batchSize);
    gatherRows(this.ds.xTrain, this.ds.cols, idx, this.bx);
    gatherRows(this.ds.yTrain, 1, idx, this.by);
    this.pos += this.batchSize;
  }
}

/** Columns padded to width, the first `leftCols` left-aligned, a rule under the header. */
/** One training step on the sampler's batch: its loss, NaN where the step diverged (non-finite loss), and its time. */
export function timedStep(model: dn.Sequential, batches: BatchSampler): { loss: number; ms: number } {
  const ts = performance.now();
  let loss: number;
  try {
    loss = model.trainOnBatch(batches.x, batches.y);
  } catch (e) {
    if (!/finite|NaN|Infinity/i.test((e as Error).message)) throw e;
    loss = NaN;
  }
  return { loss, ms: performance.now() - ts };
}

export function formatTable(head: string[], rows: string[][], leftCols = 1): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const lines = [head, ...rows].map((r) => r.map((c, i) => (i < leftCols ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines;
}

export function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(2)}%` : '-';
}

export function nullIfNaN(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

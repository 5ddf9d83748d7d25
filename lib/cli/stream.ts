/**
 * `densenorm train --data FILE` for files over the --max-memory budget: the file is read as a
 * stream, never whole. A first pass counts the rows, finds the classes (or that the label is a
 * regression target) and checks every value; a second computes the standardization statistics
 * over the training rows (skipped without a validation split: the first pass has them). Then each
 * epoch streams the training rows (the first rows of the file) through a seeded shuffle buffer
 * (tf.data's dataset.shuffle(bufferSize)) into model.fitDataset, and validation streams the last
 * --validation-split fraction of the rows, as Keras's validationSplit takes the last rows.
 */
import * as dn from '../index';
import { Rng } from '../random';
import { classKey, labelText, MAX_NUMERIC_CLASSES, nonNumeric, openTable, Row, Table, Task, toNumber, unknownColumn } from './data';
import { CliError, usageError } from './errors';
import { RegressionAccumulator } from './metrics';
import { Preprocessing, PREPROCESSING_FORMAT } from './model_dir';

/** Most distinct label strings kept while scanning (string classes beyond this are refused). */
const MAX_LABELS = 65536;

class Welford {
  n = 0;
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  constructor(cols: number) {
    this.mean = new Float64Array(cols);
    this.m2 = new Float64Array(cols);
  }
  add(v: ArrayLike<number>): void {
    this.n++;
    for (let j = 0; j < this.mean.length; j++) {
      const d = v[j] - this.mean[j];
      this.mean[j] += d / this.n;
      this.m2[j] += d * (v[j] - this.mean[j]);
    }
  }
  /** Means and population standard deviations (1 for constant columns), as featureStats. */
  result(): { mean: number[]; std: number[] } {
    const std = Array.from(this.m2, (s) => {
      const sd = this.n > 1 ? Math.sqrt(s / this.n) : 0;
      return sd > 1e-12 ? sd : 1;
    });
    return { mean: Array.from(this.mean), std };
  }
}

export interface StreamedData {
  description: string;
  task: Task;
  cols: number;
  outputs: number;
  nTrain: number;
  nVal: number;
  pre: Preprocessing;
  /** Variance of the validation targets in their own units (regression), for r². */
  valVar: number;
  /** A dataset of training batches: planBatches' sizes, rows through a shuffle buffer reseeded each epoch. */
  train(plan: { batches: number; sizeOf(i: number): number }, shuffleBuffer: number, seed: number): dn.Dataset;
  /** The validation rows in batches, or undefined without a split. */
  validation(): dn.Dataset | undefined;
  /** The first rows (at most maxRows) of the training part, standardized: for precise BN. */
  sample(maxRows: number): Promise<{ x: Float32Array; rows: number }>;
  /** Metrics over the validation rows: loss/accuracy (classification) or mse/mae/r2 in the target's units. */
  evaluate(model: dn.Sequential): Promise<Record<string, number>>;
}

/** Reads `file` as a stream; see the file comment. */
export async function streamTable(file: string, labelArg: string | undefined, forced: Task | undefined, split: number): Promise<StreamedData> {
  const open = async (): Promise<Table> => openTable(file);
  const t0 = await open();
  const labelName = labelArg ?? t0.header[t0.header.length - 1];
  const labelIdx = t0.header.indexOf(labelName);
  if (labelIdx < 0) throw unknownColumn(t0, labelName, 'given with --label');
  const featureIdx = t0.header.map((_, i) => i).filter((i) => i !== labelIdx);
  if (featureIdx.length === 0) throw new CliError(`${file}: only the label column "${labelName}"; at least one feature column is needed`);
  const cols = featureIdx.length;
  const features = featureIdx.map((i) => t0.header[i]);
  const raw = new Float64Array(cols);
  const readRow = (table: Table, r: Row): string => {
    for (let j = 0; j < cols; j++) {
      const v = r.fields[featureIdx[j]];
      const n = toNumber(v);
      if (Number.isNaN(n)) throw nonNumeric(table, r.line, features[j], v);
      raw[j] = n;
    }
    const l = labelText(r.fields[labelIdx]);
    if (l === undefined) throw new CliError(`${file} line ${r.line}: the label column "${labelName}" is empty`);
    return l;
  };

  // Pass 1: rows, classes or regression, every value checked; statistics over all rows.
  let rows = 0;
  let allNumeric = true;
  let allInteger = true;
  const numbers = new Set<number>();
  const strings = new Set<string>();
  const allStats = new Welford(cols);
  const allTarget = new Welford(1);
  for await (const r of t0.rows) {
    const l = readRow(t0, r);
    rows++;
    allStats.add(raw);
    const n = toNumber(l);
    if (Number.isNaN(n)) allNumeric = false;
    else {
      if (!Number.isInteger(n)) allInteger = false;
      if (numbers.size <= MAX_NUMERIC_CLASSES) numbers.add(n);
      allTarget.add([n]);
    }
    if (strings.size < MAX_LABELS) strings.add(l);
    else if (!strings.has(l) && !allNumeric) throw new CliError(`${file}: more than ${MAX_LABELS} distinct labels in "${labelName}"; too many classes`);
  }
  if (rows === 0) throw new CliError(`${file}: no data rows after the header`);
  let task: Task;
  if (forced) {
    task = forced;
    if (task === 'regression' && !allNumeric) throw new CliError(`--task regression needs a numeric label, but "${labelName}" has non-numeric values`);
  } else task = !allNumeric || (allInteger && numbers.size <= MAX_NUMERIC_CLASSES) ? 'classification' : 'regression';
  let classes: string[] | undefined;
  if (task === 'classification') {
    if (allNumeric && numbers.size > MAX_NUMERIC_CLASSES) throw new CliError(`${file}: more than ${MAX_NUMERIC_CLASSES} distinct numeric labels; use --task regression, or string labels`);
    classes = allNumeric ? [...numbers].sort((a, b) => a - b).map(String) : [...strings].sort();
    if (classes.length < 2) throw new CliError(`the label "${labelName}" has a single value (${classes[0]}); classification needs at least 2 classes`);
  }
  const classId = new Map((classes ?? []).map((c, i) => [c, i]));
  const nVal = split > 0 ? Math.max(1, Math.floor(rows * split)) : 0;
  const nTrain = rows - nVal;
  if (nVal >= rows - 1 && split > 0) throw usageError(`--validation-split ${split} leaves no training rows out of ${rows}`);
  if (nTrain < 2) throw usageError(`${file}: ${rows} row(s); training needs at least 2`);

  // Pass 2 (with a split): statistics over the training rows, target variance of the validation rows.
  let stats = allStats.result();
  let targetStats = allTarget.result();
  const valTarget = new Welford(1);
  if (nVal > 0) {
    const s = new Welford(cols);
    const ts = new Welford(1);
    const t = await open();
    let i = 0;
    for await (const r of t.rows) {
      const l = readRow(t, r);
      if (i++ < nTrain) {
        s.add(raw);
        if (task === 'regression') ts.add([toNumber(l)]);
      } else if (task === 'regression') valTarget.add([toNumber(l)]);
    }
    stats = s.result();
    targetStats = ts.result();
  }
  const target = task === 'regression' ? { mean: targetStats.mean[0], std: targetStats.std[0] } : undefined;
  const { mean, std } = stats;
  /** The row's standardized features into x at row k, its target into y[k]. */
  const put = (table: Table, r: Row, x: Float32Array, y: Float32Array, k: number): void => {
    const l = readRow(table, r);
    for (let j = 0; j < cols; j++) x[k * cols + j] = (raw[j] - mean[j]) / std[j];
    y[k] = target ? (toNumber(l) - target.mean) / target.std : classId.get(classKey(l, allNumeric))!;
  };
  /** Batches of rows [from, to) of the file in order, `size` rows each (the last shorter). */
  async function* inOrder(from: number, to: number, size: number): AsyncGenerator<{ x: Float32Array; y: Float32Array; rows: number }> {
    const t = await open();
    let i = 0;
    let x = new Float32Array(size * cols);
    let y = new Float32Array(size);
    let k = 0;
    for await (const r of t.rows) {
      if (i >= to) break;
      if (i++ < from) continue;
      put(t, r, x, y, k++);
      if (k === size) {
        yield { x, y, rows: k };
        x = new Float32Array(size * cols);
        y = new Float32Array(size);
        k = 0;
      }
    }
    if (k > 0) yield { x: x.subarray(0, k * cols), y: y.subarray(0, k), rows: k };
  }
  const batch = (x: Float32Array, y: Float32Array, n: number): dn.DatasetBatch => ({ xs: dn.tensor(x, [n, cols]), ys: dn.tensor(y, [n, 1]) });
  const outputs = classes ? classes.length : 1;

  return {
    description:
      `${file} (streamed): ${nTrain.toLocaleString('en-US')} train / ${nVal.toLocaleString('en-US')} validation rows · ${cols} features · label "${labelName}" · ` +
      (classes ? `classification, ${outputs} classes (${classes.slice(0, 8).join(', ')}${outputs > 8 ? ', ...' : ''})` : 'regression'),
    task,
    cols,
    outputs,
    nTrain,
    nVal,
    valVar: valTarget.n > 0 ? valTarget.result().std[0] ** 2 : 1,
    pre: { format: PREPROCESSING_FORMAT, formatVersion: 1, task, source: file, features, mean, std, label: labelName, classes, numericClasses: classes ? allNumeric : undefined, target },
    train(plan, shuffleBuffer, seed) {
      let epoch = 0;
      return {
        async *[Symbol.asyncIterator]() {
          const rng = new Rng((seed + 0x9e3779b9 * ++epoch) >>> 0);
          const cap = Math.min(shuffleBuffer, nTrain);
          const bufX = new Float32Array(cap * cols);
          const bufY = new Float32Array(cap);
          let filled = 0;
          let b = 0;
          let bx = new Float32Array(plan.sizeOf(0) * cols);
          let by = new Float32Array(plan.sizeOf(0));
          let k = 0;
          // Moves buffered row j into the batch; yields when the batch has its plan's size.
          const take = (j: number): boolean => {
            bx.set(bufX.subarray(j * cols, (j + 1) * cols), k * cols);
            by[k++] = bufY[j];
            return k === plan.sizeOf(b);
          };
          const t = await open();
          let i = 0;
          const rowX = new Float32Array(cols);
          const rowY = new Float32Array(1);
          for await (const r of t.rows) {
            if (i++ >= nTrain) break;
            if (filled < cap) {
              put(t, r, bufX, bufY, filled++);
              continue;
            }
            put(t, r, rowX, rowY, 0);
            const j = rng.int(cap);
            const full = take(j);
            bufX.set(rowX, j * cols);
            bufY[j] = rowY[0];
            if (full) {
              yield batch(bx, by, k);
              if (++b < plan.batches) {
                bx = new Float32Array(plan.sizeOf(b) * cols);
                by = new Float32Array(plan.sizeOf(b));
              }
              k = 0;
            }
          }
          // Drain the buffer in random order.
          const order = Int32Array.from({ length: filled }, (_, q) => q);
          rng.shuffle(order);
          for (const j of order) {
            if (take(j)) {
              yield batch(bx, by, k);
              if (++b < plan.batches) {
                bx = new Float32Array(plan.sizeOf(b) * cols);
                by = new Float32Array(plan.sizeOf(b));
              }
              k = 0;
            }
          }
        },
      };
    },
    validation() {
      if (nVal === 0) return undefined;
      return {
        async *[Symbol.asyncIterator]() {
          for await (const c of inOrder(nTrain, rows, 4096)) yield batch(c.x, c.y, c.rows);
        },
      };
    },
    async sample(maxRows) {
      const n = Math.min(maxRows, nTrain);
      const x = new Float32Array(n * cols);
      let at = 0;
      for await (const c of inOrder(0, n, 4096)) {
        x.set(c.x, at * cols);
        at += c.rows;
      }
      return { x, rows: at };
    },
    async evaluate(model) {
      let loss = 0;
      let correct = 0;
      const acc = new RegressionAccumulator();
      for await (const c of inOrder(nTrain, rows, 4096)) {
        if (classes) {
          const r = model.evaluate(dn.tensor(c.x, [c.rows, cols]), dn.tensor(c.y, [c.rows, 1]));
          loss += r.loss * c.rows;
          correct += (r.accuracy ?? NaN) * c.rows;
        } else {
          const p = model.predict(dn.tensor(c.x, [c.rows, cols])).data;
          for (let q = 0; q < c.rows; q++) acc.add(p[q] * target!.std + target!.mean, c.y[q] * target!.std + target!.mean);
        }
      }
      const out: Record<string, number> = classes ? { rows: nVal, loss: loss / nVal, accuracy: correct / nVal } : { rows: nVal, ...acc.result() };
      return out;
    },
  };
}

/**
 * Tabular input for the CLI: CSV with a header (streamed through csv-parse: quoted fields,
 * blank lines, CRLF, a BOM) or JSON lines (one object per line). Rows come out one at a time
 * with their line number, so a file larger than memory can be predicted on, and every error
 * names the file and the line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { parse } from 'csv-parse';
import { CliError } from './errors';

export type TableFormat = 'csv' | 'jsonl';

export interface Row {
  /** One value per header column (strings from CSV; any JSON value from JSON lines). */
  fields: unknown[];
  /** 1-based line where the row starts. */
  line: number;
}

export interface Table {
  file: string;
  format: TableFormat;
  header: string[];
  rows: AsyncGenerator<Row>;
}

function fileError(file: string, e: NodeJS.ErrnoException): CliError {
  if (e.code === 'ENOENT') return new CliError(`${file}: no such file`);
  if (e.code === 'EISDIR') return new CliError(`${file}: is a directory, expected a data file`);
  if (e.code === 'EACCES') return new CliError(`${file}: permission denied`);
  return new CliError(`${file}: cannot read (${e.code ?? e.message})`);
}

/** Checks the file is readable and guesses its format from the extension, else from the first byte. */
async function detectFormat(file: string): Promise<TableFormat> {
  let fh: fs.promises.FileHandle;
  try {
    const st = await fs.promises.stat(file);
    if (st.isDirectory()) throw Object.assign(new Error('dir'), { code: 'EISDIR' });
    fh = await fs.promises.open(file, 'r');
  } catch (e) {
    throw fileError(file, e as NodeJS.ErrnoException);
  }
  try {
    const ext = path.extname(file).toLowerCase();
    if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
    if (ext === '.csv' || ext === '.tsv' || ext === '.txt') return 'csv';
    const buf = Buffer.alloc(256);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart();
    return head.startsWith('{') ? 'jsonl' : 'csv';
  } finally {
    await fh.close();
  }
}

function countBreaks(s: string): { breaks: number; crlf: number } {
  let breaks = 0;
  let crlf = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10) breaks++;
    else if (c === 13) {
      if (s.charCodeAt(i + 1) === 10) {
        crlf++;
        breaks++;
        i++;
      } else breaks++;
    }
  }
  return { breaks, crlf };
}

async function* csvRecords(file: string): AsyncGenerator<Row> {
  const parser = fs.createReadStream(file).pipe(
    parse({ bom: true, skip_empty_lines: true, skip_records_with_empty_values: true, info: true, trim: true, delimiter: path.extname(file).toLowerCase() === '.tsv' ? '\t' : ',' }),
  );
  // csv-parse counts a CRLF inside a quoted field as two lines; undo that to report true line numbers.
  let crlfOverCount = 0;
  try {
    for await (const r of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      let breaks = 0;
      let crlf = 0;
      for (const f of r.record) {
        const b = countBreaks(f);
        breaks += b.breaks;
        crlf += b.crlf;
      }
      crlfOverCount += crlf;
      const endLine = r.info.lines - crlfOverCount;
      yield { fields: r.record, line: endLine - breaks };
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).syscall) throw fileError(file, e as NodeJS.ErrnoException);
    const msg = (e as Error).message.replace(/^Invalid Record Length: /, '');
    throw new CliError(`${file}: invalid CSV: ${msg}`);
  } finally {
    parser.destroy();
  }
}

async function* jsonlRecords(file: string): AsyncGenerator<{ obj: Record<string, unknown>; line: number }> {
  const input = fs.createReadStream(file, { encoding: 'utf8' });
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      const t = (line === 1 ? text.replace(/^\uFEFF/, '') : text).trim();
      if (t === '') continue;
      let obj: unknown;
      try {
        obj = JSON.parse(t);
      } catch (e) {
        throw new CliError(`${file} line ${line}: invalid JSON (${(e as Error).message})`);
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
        throw new CliError(`${file} line ${line}: expected a JSON object like {"x1": 0.5, "label": "a"}`);
      }
      yield { obj: obj as Record<string, unknown>, line };
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).syscall) throw fileError(file, e as NodeJS.ErrnoException);
    throw e;
  } finally {
    rl.close();
    input.destroy();
  }
}

/** Opens a data file and reads its header (CSV) or the keys of its first object (JSON lines). */
export async function openTable(file: string): Promise<Table> {
  const format = await detectFormat(file);
  if (format === 'csv') {
    const it = csvRecords(file);
    const first = await it.next();
    if (first.done) throw new CliError(`${file}: the file is empty (expected a header line, then one row per line)`);
    const header = (first.value.fields as string[]).map((h) => h.trim());
    const seen = new Set<string>();
    header.forEach((h, i) => {
      if (h === '') throw new CliError(`${file} line ${first.value.line}: column ${i + 1} of the header has no name`);
      if (seen.has(h)) throw new CliError(`${file} line ${first.value.line}: the header names column "${h}" twice`);
      seen.add(h);
    });
    return { file, format, header, rows: it };
  }
  const it = jsonlRecords(file);
  const first = await it.next();
  if (first.done) throw new CliError(`${file}: the file is empty (expected one JSON object per line)`);
  const header = Object.keys(first.value.obj);
  if (header.length === 0) throw new CliError(`${file} line ${first.value.line}: the first object has no keys`);
  async function* rows(): AsyncGenerator<Row> {
    const f = first.value!;
    yield { fields: header.map((k) => f.obj[k]), line: f.line };
    for await (const r of it) yield { fields: header.map((k) => r.obj[k]), line: r.line };
  }
  return { file, format, header, rows: rows() };
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The number a field holds, or NaN when it is not a plain finite number. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : NaN;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'string') return NaN;
  const t = v.trim();
  return NUMBER_RE.test(t) ? Number(t) : NaN;
}

function showValue(v: unknown): string {
  if (v === undefined) return 'nothing (missing)';
  if (typeof v === 'string') return v.trim() === '' ? 'an empty value' : JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v);
  return JSON.stringify(v);
}

export function nonNumeric(table: Table, line: number, column: string, v: unknown): CliError {
  return new CliError(`${table.file} line ${line}: column "${column}" should be a number but has ${showValue(v)}`);
}

export function unknownColumn(table: Table, name: string, what: string): CliError {
  const cols = table.header.length > 12 ? table.header.slice(0, 12).join(', ') + `, ... (${table.header.length} in all)` : table.header.join(', ');
  return new CliError(`${table.file}: no column "${name}" (${what}); the columns are: ${cols}`);
}

/** The label as a string key; undefined when missing. */
export function labelText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const s = typeof v === 'string' ? v.trim() : String(v);
  return s === '' ? undefined : s;
}

export interface LoadedTable {
  file: string;
  format: TableFormat;
  featureNames: string[];
  labelName: string;
  rows: number;
  /** [rows, features] row-major. */
  x: Float32Array;
  labels: string[];
}

/** Reads a whole training file: all columns but the label are numeric features. */
export async function loadTable(file: string, label: string | undefined): Promise<LoadedTable> {
  const table = await openTable(file);
  const labelName = label ?? table.header[table.header.length - 1];
  const labelIdx = table.header.indexOf(labelName);
  if (labelIdx < 0) throw unknownColumn(table, labelName, 'given with --label');
  const featureIdx = table.header.map((_, i) => i).filter((i) => i !== labelIdx);
  if (featureIdx.length === 0) throw new CliError(`${file}: only the label column "${labelName}"; at least one feature column is needed`);
  const cols = featureIdx.length;
  let x = new Float32Array(cols * 1024);
  const labels: string[] = [];
  let rows = 0;
  for await (const r of table.rows) {
    if ((rows + 1) * cols > x.length) {
      const bigger = new Float32Array(x.length * 2);
      bigger.set(x);
      x = bigger;
    }
    for (let j = 0; j < cols; j++) {
      const v = r.fields[featureIdx[j]];
      const n = toNumber(v);
      if (Number.isNaN(n)) throw nonNumeric(table, r.line, table.header[featureIdx[j]], v);
      x[rows * cols + j] = n;
    }
    const l = labelText(r.fields[labelIdx]);
    if (l === undefined) throw new CliError(`${file} line ${r.line}: the label column "${labelName}" is empty`);
    labels.push(l);
    rows++;
  }
  if (rows === 0) throw new CliError(`${file}: no data rows after the header`);
  return { file, format: table.format, featureNames: featureIdx.map((i) => table.header[i]), labelName, rows, x: x.slice(0, rows * cols), labels };
}

export type Task = 'classification' | 'regression';

/** Most distinct integer values a numeric label may have and still be read as classes. */
export const MAX_NUMERIC_CLASSES = 20;

/** Canonical class name: numbers by value ("1.0" and "1" are one class), strings as written. */
export function classKey(label: string, numeric: boolean): string {
  return numeric ? String(Number(label)) : label;
}

export interface Targets {
  task: Task;
  classes?: string[];
  /** Whether class names are numbers (compared by value). */
  numericClasses?: boolean;
  /** Class ids (classification) or raw values (regression), one per row. */
  y: Float32Array;
}

/** String labels, or integers with few distinct values: classes; any other numbers: regression. */
export function makeTargets(labels: string[], labelName: string, forced?: Task): Targets {
  const nums = labels.map((l) => toNumber(l));
  const numeric = nums.every((n) => !Number.isNaN(n));
  let task: Task;
  if (forced) {
    task = forced;
    if (task === 'regression' && !numeric) {
      const i = nums.findIndex((n) => Number.isNaN(n));
      throw new CliError(`--task regression needs a numeric label, but "${labelName}" has ${JSON.stringify(labels[i])} (row ${i + 1})`);
    }
  } else {
    const distinct = new Set(nums).size;
    task = !numeric || (nums.every((n) => Number.isInteger(n)) && distinct <= MAX_NUMERIC_CLASSES) ? 'classification' : 'regression';
  }
  if (task === 'regression') return { task, y: Float32Array.from(nums) };
  const keys = labels.map((l) => classKey(l, numeric));
  const classes = [...new Set(keys)];
  if (numeric) classes.sort((a, b) => Number(a) - Number(b));
  else classes.sort();
  if (classes.length < 2) throw new CliError(`the label "${labelName}" has a single value (${classes[0]}); classification needs at least 2 classes`);
  const id = new Map(classes.map((c, i) => [c, i]));
  return { task, classes, numericClasses: numeric, y: Float32Array.from(keys, (k) => id.get(k)!) };
}

/** Column means and standard deviations over the given rows (std 1 for constant columns). */
export function featureStats(x: Float32Array, cols: number, rowIdx: ArrayLike<number>): { mean: number[]; std: number[] } {
  const mean = new Float64Array(cols);
  const m2 = new Float64Array(cols);
  let n = 0;
  for (let k = 0; k < rowIdx.length; k++) {
    const r = rowIdx[k];
    n++;
    for (let j = 0; j < cols; j++) {
      const v = x[r * cols + j];
      const d = v - mean[j];
      mean[j] += d / n;
      m2[j] += d * (v - mean[j]);
    }
  }
  const std = Array.from(m2, (s) => {
    const sd = n > 1 ? Math.sqrt(s / n) : 0;
    return sd > 1e-12 ? sd : 1;
  });
  return { mean: Array.from(mean), std };
}

/** In place: (x - mean) / std per column. */
/** Rows idx[0], idx[1], ... of x (rows of `cols` values), copied into out (default: a new array). */
export function gatherRows(x: Float32Array, cols: number, idx: ArrayLike<number>, out = new Float32Array(idx.length * cols)): Float32Array {
  for (let k = 0; k < idx.length; k++) out.set(x.subarray(idx[k] * cols, (idx[k] + 1) * cols), k * cols);
  return out;
}

export function standardize(x: Float32Array, cols: number, mean: readonly number[], std: readonly number[]): void {
  for (let i = 0; i < x.length; i += cols) {
    for (let j = 0; j < cols; j++) x[i + j] = (x[i + j] - mean[j]) / std[j];
  }
}

export interface Chunk {
  x: Float32Array;
  rows: number;
  /** Raw label strings (undefined where missing), when labels were asked for. */
  labels: (string | undefined)[];
  lines: number[];
}

/**
 * Streams a file in chunks of feature rows laid out as `features` (matched by column name),
 * standardized with `mean`/`std`. With `label`, the label column must exist.
 */
export async function* featureChunks(
  table: Table,
  features: readonly string[],
  mean: readonly number[],
  std: readonly number[],
  label: string | undefined,
  chunkRows = 1024,
): AsyncGenerator<Chunk> {
  const idx = features.map((f) => {
    const i = table.header.indexOf(f);
    if (i < 0) throw unknownColumn(table, f, 'a feature the model was trained on');
    return i;
  });
  const labelIdx = label === undefined ? -1 : table.header.indexOf(label);
  if (label !== undefined && labelIdx < 0) throw unknownColumn(table, label, 'the label column');
  const cols = features.length;
  let x = new Float32Array(chunkRows * cols);
  let labels: (string | undefined)[] = [];
  let lines: number[] = [];
  let n = 0;
  let any = false;
  for await (const r of table.rows) {
    any = true;
    for (let j = 0; j < cols; j++) {
      const v = r.fields[idx[j]];
      const num = toNumber(v);
      if (Number.isNaN(num)) throw nonNumeric(table, r.line, features[j], v);
      x[n * cols + j] = (num - mean[j]) / std[j];
    }
    if (labelIdx >= 0) labels.push(labelText(r.fields[labelIdx]));
    lines.push(r.line);
    n++;
    if (n === chunkRows) {
      yield { x, rows: n, labels, lines };
      x = new Float32Array(chunkRows * cols);
      labels = [];
      lines = [];
      n = 0;
    }
  }
  if (!any) throw new CliError(`${table.file}: no data rows after the header`);
  if (n > 0) yield { x: x.subarray(0, n * cols), rows: n, labels, lines };
}

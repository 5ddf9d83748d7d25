/** CSVLogger, Keras 3 semantics (keras/src/callbacks/csv_logger.py). */
import * as fs from 'node:fs';
import type { Logs } from '../models/training';
import { checkBoolean, checkString } from '../validate';
import { Callback, callbackArgs } from './callback';
import { pyFloatRepr } from './format';

export interface CSVLoggerArgs {
  /** The CSV file written. */
  filename: string;
  /** Field separator. Default ','. */
  separator?: string;
  /** Append to an existing file (no second header when it is not empty) instead of replacing it. Default false. */
  append?: boolean;
}

const WHO = 'csvLogger';

/** A field as Python's csv module (excel dialect) writes it: quoted when it holds the separator, a quote or a newline. */
function field(s: string, sep: string): string {
  return s.includes(sep) || /["\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Writes one row per epoch: `epoch` (0-based, as Keras) and the epoch's logs, in columns
 * `epoch,<keys of the first epoch's logs, sorted>`; floats as Python prints them, a key missing in a
 * later epoch as NA. Each row is written (appended to the file) at its epoch's end, so a crash loses
 * no finished epoch. Without append, the file is emptied when training begins.
 */
export class CSVLogger extends Callback {
  readonly filename: string;
  readonly separator: string;
  readonly append: boolean;
  private keys: string[] | undefined = undefined;
  private writeHeader = true;

  constructor(args: CSVLoggerArgs) {
    super();
    const a = callbackArgs(WHO, args, ['filename', 'separator', 'append']);
    this.filename = checkString('filename', a.filename);
    if (this.filename === '') throw new RangeError('Expected a non-empty path for filename but received ""');
    this.separator = a.separator === undefined ? ',' : checkString('separator', a.separator);
    if (this.separator.length !== 1) throw new RangeError(`Expected a one-character separator for separator but received ${JSON.stringify(this.separator)}`);
    this.append = a.append === undefined ? false : checkBoolean('append', a.append);
  }

  onTrainBegin(): void {
    this.keys = undefined;
    if (this.append) {
      let size = 0;
      try {
        size = fs.statSync(this.filename).size;
      } catch {
        // no file yet: it gets a header
      }
      this.writeHeader = size === 0;
    } else {
      fs.writeFileSync(this.filename, '');
      this.writeHeader = true;
    }
  }

  onEpochEnd(epoch: number, logs?: Logs): void {
    const l: Partial<Logs> = logs ?? {};
    const sep = this.separator;
    let text = '';
    if (this.keys === undefined) {
      this.keys = Object.keys(l).sort();
      if (this.writeHeader) text += ['epoch', ...this.keys].map((k) => field(k, sep)).join(sep) + '\n';
    }
    const values = this.keys.map((k) => {
      const v = l[k];
      return typeof v === 'number' ? pyFloatRepr(v) : v === undefined ? 'NA' : field(String(v), sep);
    });
    text += [String(epoch), ...values].join(sep) + '\n';
    fs.appendFileSync(this.filename, text);
  }
}

export function csvLogger(args: CSVLoggerArgs): CSVLogger {
  return new CSVLogger(args);
}

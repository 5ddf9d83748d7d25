/**
 * Training output in three modes: a progress bar per epoch on a terminal (cli-progress), one
 * plain line per epoch when stdout is not a terminal, and one JSON object per line with --json.
 * Human messages go to stdout, except in JSON mode where stdout carries only JSON.
 */
import { SingleBar } from 'cli-progress';

export type OutputMode = 'bar' | 'lines' | 'json';

export function outputMode(json: boolean, stream: NodeJS.WriteStream = process.stdout): OutputMode {
  if (json) return 'json';
  return stream.isTTY && process.env.TERM !== 'dumb' ? 'bar' : 'lines';
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

export function fmtMetric(v: number | undefined, digits = 4): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(3);
  return v.toFixed(digits);
}

export class Reporter {
  readonly mode: OutputMode;
  private bar?: SingleBar;
  private readonly out: NodeJS.WriteStream;

  constructor(mode: OutputMode, out: NodeJS.WriteStream = process.stdout) {
    this.mode = mode;
    this.out = out;
  }

  /** A human line: stdout, or stderr in JSON mode. Clears a running bar first. */
  info(line: string): void {
    if (this.mode === 'json') {
      process.stderr.write(line + '\n');
      return;
    }
    if (this.bar) {
      this.bar.stop();
      this.bar = undefined;
    }
    this.out.write(line + '\n');
  }

  /** A line only in human modes. */
  human(line: string): void {
    if (this.mode !== 'json') this.info(line);
  }

  json(obj: Record<string, unknown>): void {
    if (this.mode === 'json') this.out.write(JSON.stringify(obj) + '\n');
  }

  startEpoch(epoch: number, epochs: number, samples: number, withAcc: boolean): void {
    if (this.mode !== 'bar') return;
    this.bar = new SingleBar({
      format:
        `epoch ${epoch}/${epochs} [{bar}] {percentage}% | loss {loss}` +
        (withAcc ? ' | acc {acc}' : '') +
        ' | {speed} samples/s | ETA {eta_formatted}',
      stream: this.out,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
      fps: 10,
      barCompleteChar: '=',
      barIncompleteChar: ' ',
    });
    this.bar.start(samples, 0, { loss: '-', acc: '-', speed: '-' });
  }

  batch(samplesDone: number, loss: number, acc: number | undefined, samplesPerSec: number): void {
    this.bar?.update(samplesDone, {
      loss: fmtMetric(loss),
      acc: acc === undefined ? '-' : `${(acc * 100).toFixed(2)}%`,
      speed: fmtInt(samplesPerSec),
    });
  }

  /** Ends the bar (if any) and prints the epoch's summary line (human modes). */
  endEpoch(line: string, json: Record<string, unknown>): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = undefined;
    }
    if (this.mode === 'json') this.json(json);
    else this.out.write(line + '\n');
  }

  stop(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = undefined;
    }
  }
}

/**
 * The training curves `densenorm train` keeps beside the model: history.json (Keras's
 * history.history, one array per key, plus the 0-based epoch list) and history.svg (a panel per
 * quantity, training solid and validation dashed, over the 1-based epoch).
 */
import * as path from 'node:path';
import type { History } from '../index';
import { writeFileAtomic } from '../io/atomic';
import { lineChartSvg, Panel } from './svg';

export const HISTORY_JSON = 'history.json';
export const HISTORY_SVG = 'history.svg';

export interface HistoryFile {
  /** Keras's History.epoch: 0-based epoch indices. */
  epoch: number[];
  loss: number[];
  [key: string]: number[];
}

/**
 * The history as the CLI reports it: loss (the model's training loss), acc for classification,
 * mse in the target's units for regression, each also as val_* when there is validation data.
 */
export function historyFile(h: History, classify: boolean, yScale: number): HistoryFile {
  const out: HistoryFile = { epoch: h.epoch.slice(), loss: (h.history.loss ?? []).slice() };
  const copy = (k: string, v: number[] | undefined): void => {
    if (v) out[k] = v.slice();
  };
  if (classify) copy('acc', h.history.acc);
  else copy('mse', h.history.loss?.map((v) => v * yScale));
  copy('val_loss', h.history.val_loss);
  if (classify) copy('val_acc', h.history.val_acc);
  else copy('val_mse', h.history.val_loss?.map((v) => v * yScale));
  // every other key fit logged: compiled metrics (and their val_), the learning rate
  for (const [k, v] of Object.entries(h.history)) if (!(k in out) && !['acc', 'val_acc'].includes(k)) copy(k, v);
  return out;
}

const TITLES: Record<string, string> = { loss: 'Loss', acc: 'Accuracy', mse: 'Mean squared error', learning_rate: 'Learning rate', auc: 'AUC' };

/** One panel per quantity (loss, acc or mse): training solid blue, validation dashed orange. */
export function historySvg(f: HistoryFile, title: string): string {
  const x = f.epoch.map((e) => e + 1);
  const panels: Panel[] = [];
  for (const k of Object.keys(f)) {
    if (k === 'epoch' || k.startsWith('val_')) continue;
    if (k === 'learning_rate' && f[k].every((v) => v === f[k][0])) continue; // a constant rate says nothing drawn
    const series = [{ label: 'training', x, y: f[k], color: '#1f77b4' }];
    if (f[`val_${k}`]) series.push({ label: 'validation', x, y: f[`val_${k}`], color: '#ff7f0e', dashed: true } as (typeof series)[0]);
    panels.push({ title: TITLES[k] ?? k, series, yLabel: k });
  }
  return lineChartSvg(panels, { title, xLabel: 'epoch', yLabel: 'value', independentY: true });
}

/** Writes history.json and history.svg into dir (each atomically); returns their paths. */
export async function writeHistoryFiles(dir: string, h: History, classify: boolean, yScale: number, title: string): Promise<{ json: string; svg: string }> {
  const f = historyFile(h, classify, yScale);
  const json = path.join(dir, HISTORY_JSON);
  const svg = path.join(dir, HISTORY_SVG);
  await writeFileAtomic(json, JSON.stringify(f, null, 1) + '\n');
  await writeFileAtomic(svg, historySvg(f, title));
  return { json, svg };
}

/** model.summary(): a Keras-like table of layers, output shapes and parameters, and the fused blocks. */
import type { Layer } from '../layers/layer';
import { fusedLayerGroups } from './native_graph';

/** What the summary shows of a model (a structural type, so this module does not import Sequential). */
export interface SummarizedModel {
  readonly name: string;
  readonly inputDim: number | undefined;
  readonly layers: Layer[];
}

export function printSummary(model: SummarizedModel, printFn: (line: string) => void): void {
  const layers = model.layers;
  const rows: string[][] = [['Layer (type)', 'Output shape', 'Param #']];
  let dim = model.inputDim;
  let trainable = 0;
  let total = 0;
  for (const l of layers) {
    dim = dim === undefined ? undefined : l.outputDim(dim);
    const p = l.countParams();
    total += p;
    trainable += l.weights.filter((w) => w.trainable).reduce((s, w) => s + w.value.length, 0);
    rows.push([`${l.name} (${l.className})`, dim === undefined ? '[null, ?]' : `[null,${dim}]`, String(p)]);
  }
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)) + 2);
  const line = (ch: string) => ch.repeat(widths.reduce((s, w) => s + w, 0));
  printFn(`Model: "${model.name}"`);
  printFn(line('_'));
  rows.forEach((r, i) => {
    printFn(r.map((cell, c) => cell.padEnd(widths[c])).join(''));
    printFn(line(i === 0 ? '=' : '_'));
  });
  printFn(`Total params: ${total}`);
  printFn(`Trainable params: ${trainable}`);
  printFn(`Non-trainable params: ${total - trainable}`);
  const fused = fusedLayerGroups(layers).map((g) => g.join(' → '));
  printFn(`Fused native blocks: ${fused.length}`);
  for (const f of fused) printFn(`  [${f}]`);
}

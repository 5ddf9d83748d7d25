/** densenorm predict: one CSV line per input row, streamed (the input may be larger than memory). */
import * as fs from 'node:fs';
import { once } from 'node:events';
import * as dn from '../../index';
import { flag, OptionSpec, parseCommandArgs, str } from '../args';
import { featureChunks, openTable } from '../data';
import { CliError, usageError } from '../errors';
import { loadModelDir, rawFeatures } from '../model_dir';

export const PREDICT_OPTIONS: OptionSpec = {
  model: { type: 'string', short: 'm' },
  data: { type: 'string', short: 'd' },
  output: { type: 'string', short: 'o' },
};

export const PREDICT_HELP = `Usage: densenorm predict --model DIR --data FILE [--output FILE]

Writes one CSV line per input row: "class,probability" for classifiers, "value" for
regressors, after a header line. Features are matched by column name and standardized as in
training; the label column, if present, is ignored. Output goes to stdout unless --output.
DIR may also be a TensorFlow.js layers model (see densenorm evaluate --help).`;

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function predict(argv: string[]): Promise<number> {
  const values = parseCommandArgs('predict', argv, PREDICT_OPTIONS);
  if (flag(values, 'help')) {
    console.log(PREDICT_HELP);
    return 0;
  }
  const dir = str(values, 'model');
  const file = str(values, 'data');
  if (dir === undefined) throw usageError('densenorm predict: --model DIR is required');
  if (file === undefined) throw usageError('densenorm predict: --data FILE is required');
  const { model, pre } = await loadModelDir(dir);
  const table = await openTable(file);
  // Without preprocessing.json (a tfjs model) every column is a feature.
  rawFeatures(pre, table.header, pre.raw && table.header.length !== model.inputDim ? table.header[table.header.length - 1] : undefined, model.inputDim!, file);
  const outPath = str(values, 'output');
  const out: NodeJS.WritableStream = outPath === undefined ? process.stdout : fs.createWriteStream(outPath);
  let outError: Error | undefined;
  out.on('error', (e: Error) => {
    outError = e;
  });
  const write = async (s: string) => {
    if (outError) throw new CliError(`${outPath ?? 'stdout'}: cannot write (${(outError as NodeJS.ErrnoException).code ?? outError.message})`);
    if (!out.write(s)) await Promise.race([once(out, 'drain'), once(out, 'error')]);
  };
  const classify = pre.task === 'classification';
  const k = model.outputDim!;
  await write(classify ? 'class,probability\n' : 'value\n');
  let rows = 0;
  for await (const c of featureChunks(table, pre.features, pre.mean, pre.std, undefined)) {
    const p = model.predict(dn.tensor(c.x, [c.rows, pre.features.length])).data;
    let s = '';
    for (let i = 0; i < c.rows; i++) {
      if (classify) {
        let best = 0;
        for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + best]) best = j;
        s += `${csvField(pre.classes![best])},${p[i * k + best].toPrecision(6)}\n`;
      } else {
        s += `${(p[i] * pre.target!.std + pre.target!.mean).toPrecision(7)}\n`;
      }
    }
    await write(s);
    rows += c.rows;
  }
  if (outPath !== undefined) {
    (out as fs.WriteStream).end();
    await once(out, 'finish');
    if (outError) throw new CliError(`${outPath}: cannot write (${outError.message})`);
    process.stderr.write(`Wrote ${rows} predictions to ${outPath}\n`);
  }
  return 0;
}

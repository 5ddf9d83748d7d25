/**
 * The densenorm command line: train, evaluate, predict, export, info, experiment.
 * Errors print one line on stderr and exit non-zero; --verbose adds the stack trace.
 */
import * as dn from '../index';
import { CliError } from './errors';
import { train, TRAIN_HELP } from './commands/train';
import { evaluate, EVALUATE_HELP } from './commands/evaluate';
import { predict, PREDICT_HELP } from './commands/predict';
import { info, INFO_HELP } from './commands/info';
import { experiment, EXPERIMENT_HELP } from './commands/experiment';
import { exportModel, EXPORT_HELP } from './commands/export';
import { quantize, QUANTIZE_HELP } from './commands/quantize';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string; summary: string }> = {
  train: { run: train, help: TRAIN_HELP, summary: 'train a model on a CSV/JSONL file, or on the bundled MNIST by default' },
  evaluate: { run: evaluate, help: EVALUATE_HELP, summary: 'loss and accuracy (or MSE, MAE, R²) of a saved model on a file' },
  predict: { run: predict, help: PREDICT_HELP, summary: 'one prediction per input row, as CSV (streaming)' },
  export: { run: exportModel, help: EXPORT_HELP, summary: 'a saved model as ONNX, TensorFlow.js or a PyTorch state dict' },
  quantize: { run: quantize, help: QUANTIZE_HELP, summary: 'an int8 inference copy of a saved model, calibrated on data' },
  info: { run: info, help: INFO_HELP, summary: 'version, kernel ISA, threads; a model summary with --model' },
  experiment: { run: experiment, help: EXPERIMENT_HELP, summary: 'Ioffe & Szegedy (2015) Fig. 1a: sigmoid MLP with vs without batch norm on MNIST' },
};

export const HELP = `densenorm ${dn.version}: dense networks with batch normalization, on native SIMD kernels

Usage: densenorm <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([k, c]) => `  ${k.padEnd(12)}${c.summary}`)
  .join('\n')}

Run "densenorm <command> --help" for a command's options. Examples:
  densenorm train                                   # MNIST, reports test accuracy
  densenorm train --data houses.csv --label price --out house-model
  densenorm predict --model house-model --data new.csv --output predictions.csv
  densenorm export --model house-model --format onnx --out house.onnx
  densenorm experiment --steps 2000 --out bn-experiment`;

function errorMessage(e: unknown): string {
  if (e instanceof CliError) return e.message;
  if (e instanceof Error) {
    // Library errors are already worded for users (Expected ... but received ...).
    return e.message;
  }
  return String(e);
}

export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  try {
    const [cmd, ...rest] = argv;
    if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
      const topic = cmd === 'help' ? rest[0] : undefined;
      if (topic !== undefined && COMMANDS[topic]) console.log(COMMANDS[topic].help);
      else console.log(HELP);
      return cmd === undefined ? 2 : 0;
    }
    if (cmd === '--version' || cmd === 'version') {
      console.log(dn.version);
      return 0;
    }
    const c = COMMANDS[cmd];
    if (!c) throw new CliError(`unknown command "${cmd}"; the commands are: ${Object.keys(COMMANDS).join(', ')} (densenorm --help)`, 2);
    return await c.run(rest);
  } catch (e) {
    process.stderr.write(`densenorm: error: ${errorMessage(e)}\n`);
    if (verbose && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
    return e instanceof CliError ? e.exitCode : 1;
  }
}

/** Entry point for bin/densenorm.js. */
export function cli(argv: string[] = process.argv.slice(2)): void {
  // A closed pipe (densenorm predict ... | head) is a normal end, not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`densenorm: error: ${errorMessage(e)}\n`);
      process.exitCode = 1;
    },
  );
}

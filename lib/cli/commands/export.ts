/** densenorm export: a saved model (densenorm or TensorFlow.js directory) as ONNX, tfjs or a PyTorch state dict. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as dn from '../../index';
import { choiceFlag, flag, OptionSpec, parseCommandArgs, str } from '../args';
import { CliError, usageError } from '../errors';
import { PREPROCESSING_FILE } from '../model_dir';
import { writeFileAtomic } from '../../io/atomic';

export const EXPORT_OPTIONS: OptionSpec = {
  model: { type: 'string', short: 'm' },
  format: { type: 'string', short: 'f' },
  out: { type: 'string', short: 'o' },
  'fold-batch-norm': { type: 'boolean' },
};

const FORMATS = ['onnx', 'tfjs', 'torch'] as const;

export const EXPORT_HELP = `Usage: densenorm export --model DIR --format onnx|tfjs|torch --out PATH [--fold-batch-norm]

Writes the model in DIR (written by densenorm train or model.save, or a TensorFlow.js layers
model) for another runtime: onnx one .onnx file (IR 8, opset 17, for onnxruntime), torch one
PyTorch state-dict .safetensors file (torch.nn.Sequential names; the README shows the Python that
loads it), tfjs a directory with model.json and weights.bin for tf.loadLayersModel; a tfjs export
keeps preprocessing.json, so densenorm evaluate and predict accept it. --fold-batch-norm (onnx)
folds each batch norm that follows a linear Dense into its Gemm.`;

export async function exportModel(argv: string[]): Promise<number> {
  const values = parseCommandArgs('export', argv, EXPORT_OPTIONS);
  if (flag(values, 'help')) {
    console.log(EXPORT_HELP);
    return 0;
  }
  const dir = str(values, 'model');
  const out = str(values, 'out');
  if (dir === undefined) throw usageError('densenorm export: --model DIR is required');
  if (str(values, 'format') === undefined) throw usageError(`densenorm export: --format ${FORMATS.join('|')} is required`);
  if (out === undefined) throw usageError('densenorm export: --out PATH is required');
  const format = choiceFlag(values, 'format', 'onnx', FORMATS);
  const fold = flag(values, 'fold-batch-norm');
  if (fold && format !== 'onnx') throw usageError('densenorm export: --fold-batch-norm only goes with --format onnx');
  if (path.resolve(out) === path.resolve(dir)) throw usageError('densenorm export: --out must differ from --model');
  let model: dn.Sequential;
  try {
    const m = await dn.loadModel(dir);
    if (!(m instanceof dn.Sequential)) throw new Error(`${dir}: is an int8 quantized model, which has no ${format} export`);
    model = m;
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  await model.save(out, format === 'onnx' ? { format, foldBatchNorm: fold } : { format });
  const pre = path.join(dir, PREPROCESSING_FILE);
  if (format === 'tfjs' && fs.existsSync(pre)) await writeFileAtomic(path.join(out, PREPROCESSING_FILE), await fs.promises.readFile(pre));
  const what = format === 'onnx' ? 'ONNX model' : format === 'torch' ? 'PyTorch state dict (safetensors)' : 'TensorFlow.js layers model';
  console.log(`Wrote ${what} to ${out}`);
  if (format !== 'tfjs' && fs.existsSync(pre)) {
    console.log(`Inputs are standardized with the mean/std in ${pre}: apply them before feeding the exported model.`);
  }
  return 0;
}

/** saveModel(model, path, { format }): a model's ModelArtifacts, written by lib/io in the chosen format. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BatchNormalization } from '../layers/batch_normalization';
import type { Layer } from '../layers/layer';
import { ModelArtifacts, writeModelFiles } from '../io/model_files';
import type { NamedTensor } from '../io/safetensors';
import { writeTfjsModel } from '../io/tfjs_writer';
import { encodeOnnx } from '../io/onnx';
import { encodeTorch } from '../io/torch_format';
import { writeFileAtomic } from '../io/atomic';
import { checkBoolean, checkObject, checkOneOf, checkString, checkUnknownKeys } from '../validate';

/** What saving needs of a model (a structural type, so this module does not import Sequential). */
export interface SavableModel {
  readonly name: string;
  readonly inputDim: number | undefined;
  readonly layers: Layer[];
}

/** 'densenorm' (default) and 'tfjs' write a directory; 'onnx' and 'torch' one file (.onnx, .safetensors). */
export type SaveFormat = 'densenorm' | 'tfjs' | 'onnx' | 'torch';
export const SAVE_FORMATS: readonly SaveFormat[] = ['densenorm', 'tfjs', 'onnx', 'torch'];

export interface SaveOptions {
  /** File format; default 'densenorm' (model.json + weights.safetensors). */
  format?: SaveFormat;
  /** ONNX only: fold each BatchNormalization that follows a linear Dense into its Gemm. Default false. */
  foldBatchNorm?: boolean;
}

/** The model as plain data: layer configs, weights named "<layer>/<weight>", batch-norm counters. */
export function modelArtifacts(model: SavableModel, inputDim: number): ModelArtifacts {
  const tensors: NamedTensor[] = [];
  const bnState: Record<string, number> = {};
  const layers = model.layers;
  for (const l of layers) {
    for (const w of l.weights) tensors.push({ name: `${l.name}/${w.name}`, shape: w.shape, data: w.value });
    if (l instanceof BatchNormalization) bnState[l.name] = l.numBatchesTracked[0];
  }
  return { name: model.name, inputDim, layers: layers.map((l) => ({ className: l.className, config: l.getConfig() })), tensors, bnState };
}

function knownInputDim(model: SavableModel): number {
  const inputDim = model.inputDim;
  if (inputDim === undefined) {
    throw new Error('Cannot save a model whose input size is unknown; give the first layer an inputShape or fit it first');
  }
  return inputDim;
}

/** The options, checked; foldBatchNorm only goes with ONNX. */
export function parseSaveOptions(options: unknown): { format: SaveFormat; foldBatchNorm: boolean } {
  const o = checkObject('save options', options ?? {});
  checkUnknownKeys('save options', o, ['format', 'foldBatchNorm']);
  const format = o.format === undefined ? 'densenorm' : checkOneOf('format', o.format, SAVE_FORMATS);
  const foldBatchNorm = o.foldBatchNorm === undefined ? false : checkBoolean('foldBatchNorm', o.foldBatchNorm);
  if (foldBatchNorm && format !== 'onnx') throw new RangeError(`Expected format 'onnx' with foldBatchNorm but received format '${format}'`);
  return { format, foldBatchNorm };
}

const version = (): string => (require('../../package.json') as { version: string }).version;

/** The model as an ONNX ModelProto (IR 8, opset 17). */
export function toOnnx(model: SavableModel, options: { foldBatchNorm?: boolean } = {}): Uint8Array {
  const o = checkObject('toOnnx options', options);
  checkUnknownKeys('toOnnx options', o, ['foldBatchNorm']);
  const fold = o.foldBatchNorm === undefined ? false : checkBoolean('foldBatchNorm', o.foldBatchNorm);
  return encodeOnnx(modelArtifacts(model, knownInputDim(model)), { foldBatchNorm: fold, producerVersion: version() });
}

/** The model as PyTorch safetensors bytes (torch.nn.Sequential names, architecture in __metadata__). */
export function toTorch(model: SavableModel): Buffer {
  const inputDim = knownInputDim(model);
  const values = model.layers.map((l) => ({
    layer: { className: l.className, config: l.getConfig() },
    weights: new Map(l.weights.map((w) => [w.name, w.value] as [string, Float32Array])),
    numBatchesTracked: l instanceof BatchNormalization ? l.numBatchesTracked[0] : undefined,
  }));
  return encodeTorch(values, inputDim, `densenorm ${version()}`);
}

export async function saveModel(model: SavableModel, target: string, options?: SaveOptions): Promise<void> {
  checkString('path', target);
  const { format, foldBatchNorm } = parseSaveOptions(options);
  const inputDim = knownInputDim(model);
  // Encoded or copied now: the files are written after an await, and a fit callback may resume training meanwhile.
  if (format === 'onnx' || format === 'torch') {
    const bytes = format === 'onnx' ? toOnnx(model, { foldBatchNorm }) : toTorch(model);
    await fs.promises.mkdir(path.dirname(path.resolve(target)), { recursive: true });
    await writeFileAtomic(target, bytes);
    return;
  }
  const artifacts = modelArtifacts(model, inputDim);
  artifacts.tensors = artifacts.tensors.map((t) => ({ ...t, data: t.data.slice() }));
  if (format === 'tfjs') await writeTfjsModel(target, artifacts, `densenorm ${version()}`);
  else await writeModelFiles(target, artifacts);
}

/** saveModel(model, dir): a model's ModelArtifacts, written by lib/io/model_files. */
import { BatchNormalization } from '../layers/batch_normalization';
import type { Layer } from '../layers/layer';
import { ModelArtifacts, writeModelFiles } from '../io/model_files';
import type { NamedTensor } from '../io/safetensors';
import { checkString } from '../validate';

/** What saving needs of a model (a structural type, so this module does not import Sequential). */
export interface SavableModel {
  readonly name: string;
  readonly inputDim: number | undefined;
  readonly layers: Layer[];
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

export async function saveModel(model: SavableModel, dir: string): Promise<void> {
  checkString('dir', dir);
  const inputDim = model.inputDim;
  if (inputDim === undefined) {
    throw new Error('Cannot save a model whose input size is unknown; give the first layer an inputShape or fit it first');
  }
  const artifacts = modelArtifacts(model, inputDim);
  // Copied now: the files are written after an await, and a fit callback may resume training meanwhile.
  artifacts.tensors = artifacts.tensors.map((t) => ({ ...t, data: t.data.slice() }));
  await writeModelFiles(dir, artifacts);
}

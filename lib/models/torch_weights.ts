/** readTorchWeights: a PyTorch state dict (safetensors) for a model of the same shape, checked before anything is set. */
import * as fs from 'node:fs';
import { BatchNormalization } from '../layers/batch_normalization';
import { DensenormError, ERR_MODEL_FILE } from '../errors';
import { decodeTorch } from '../io/torch_format';
import { MAX_HEADER_BYTES } from '../io/safetensors';
import { checkObject, checkOneOf, checkString, checkUnknownKeys } from '../validate';
import type { SavableModel } from './save';

/**
 * Reads and checks a PyTorch state dict (safetensors, torch.nn.Sequential names) for model's layers;
 * returns the function that copies the values in (nothing changes on an error).
 */
export async function readTorchWeights(model: SavableModel & { countParams(): number }, file: string, options: unknown): Promise<() => void> {
  checkString('path', file);
  const o = checkObject('loadWeights options', options ?? {});
  checkUnknownKeys('loadWeights options', o, ['format']);
  checkOneOf('format', o.format ?? 'torch', ['torch']);
  const inputDim = model.inputDim;
  if (inputDim === undefined) throw new Error('Cannot load weights into a model whose input size is unknown; give the first layer an inputShape');
  const layers = model.layers;
  const params = model.countParams();
  let buf: Buffer;
  try {
    const st = await fs.promises.stat(file);
    if (!st.isFile()) throw new DensenormError(`${file}: not a regular file`, ERR_MODEL_FILE);
    // Weights as F64 plus one I64 counter per layer and the header: anything larger is not for this model.
    const max = 8 + MAX_HEADER_BYTES + 8 * params + 8 * layers.length;
    if (st.size > max) throw new DensenormError(`${file}: file is ${st.size} bytes, more than the ${max} bytes this model's ${params} weights can take`, ERR_MODEL_FILE);
    buf = await fs.promises.readFile(file);
  } catch (e) {
    if (e instanceof DensenormError) throw e;
    throw new DensenormError(`${file}: cannot read weights (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, ERR_MODEL_FILE);
  }
  const decoded = decodeTorch(buf, layers.map((l) => ({ className: l.className, config: l.getConfig() })), inputDim, file);
  return () =>
    layers.forEach((l, i) => {
      const d = decoded[i];
      if (l.weights.length) l.setWeightValues(l.weights.map((w) => d.weights.get(w.name)!));
      if (l instanceof BatchNormalization && d.numBatchesTracked !== undefined) l.numBatchesTracked[0] = d.numBatchesTracked;
    });
}

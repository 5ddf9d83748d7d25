/**
 * save(dir) / loadModel(dir): model.json (architecture, layer configs, batch-norm conventions)
 * and weights.safetensors (tensors named "<layer>/<weight>", readable by Python's safetensors).
 * The JSON records the SHA-256 of the weights file, so a pair from two different saves or a
 * corrupted weights file is detected at load time.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DensenormError, ERR_MODEL_FILE } from '../errors';
import { BatchNormalization } from '../layers/batch_normalization';
import { Layer } from '../layers/layer';
import { layerFromConfig } from '../layers/serialization';
import { Sequential } from '../models/sequential';
import { checkString, isPlainObject } from '../validate';
import { decodeSafetensorsWithMetadata, encodeSafetensors, NamedTensor } from './safetensors';
import { writeFileAtomic } from './atomic';

export const FORMAT = 'densenorm-model';
export const FORMAT_VERSION = 1;
const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.safetensors';

function fail(dir: string, msg: string): never {
  throw new DensenormError(`${path.join(dir, MODEL_FILE)}: ${msg}`, ERR_MODEL_FILE);
}

export async function saveModel(model: Sequential, dir: string): Promise<void> {
  checkString('dir', dir);
  if (model.inputDim === undefined) {
    throw new Error('Cannot save a model whose input size is unknown; give the first layer an inputShape or fit it first');
  }
  await fs.promises.mkdir(dir, { recursive: true });
  const tensors: NamedTensor[] = [];
  const bnState: Record<string, number> = {};
  for (const l of model.layers) {
    for (const w of l.weights) tensors.push({ name: `${l.name}/${w.name}`, shape: w.shape, data: w.value });
    if (l instanceof BatchNormalization) bnState[l.name] = l.numBatchesTracked[0];
  }
  const weights = encodeSafetensors(tensors, { format: 'pt', producer: 'densenorm' });
  const json = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    className: 'Sequential',
    name: model.name,
    inputDim: model.inputDim,
    layers: model.layers.map((l) => ({ className: l.className, config: l.getConfig() })),
    batchNormalization: {
      convention: 'moving = momentum * moving + (1 - momentum) * batch; the batch variance entering the moving average is unbiased (n/(n-1)); inference uses (x - movingMean) / sqrt(movingVariance + epsilon)',
      numBatchesTracked: bnState,
    },
    weights: { file: WEIGHTS_FILE, sha256: createHash('sha256').update(weights).digest('hex'), tensors: tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: 'float32' })) },
  };
  // Weights first: model.json is what makes a directory a model, and it names the weights' hash.
  await writeFileAtomic(path.join(dir, WEIGHTS_FILE), weights);
  await writeFileAtomic(path.join(dir, MODEL_FILE), JSON.stringify(json, null, 2) + '\n');
}

export async function loadModel(dir: string): Promise<Sequential> {
  checkString('dir', dir);
  const modelPath = path.join(dir, MODEL_FILE);
  let text: string;
  try {
    text = await fs.promises.readFile(modelPath, 'utf8');
  } catch (e) {
    throw new DensenormError(`${dir} is not a densenorm model directory: cannot read ${MODEL_FILE} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, ERR_MODEL_FILE);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(dir, `invalid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(json) || json.format !== FORMAT) fail(dir, `not a densenorm model (format is not "${FORMAT}")`);
  if (json.formatVersion !== FORMAT_VERSION) fail(dir, `unsupported formatVersion ${String(json.formatVersion)} (this version reads ${FORMAT_VERSION})`);
  if (json.className !== 'Sequential') fail(dir, `unsupported model class ${String(json.className)}`);
  const inputDim = json.inputDim;
  if (typeof inputDim !== 'number' || !Number.isSafeInteger(inputDim) || inputDim < 1 || inputDim > 1 << 24) fail(dir, `invalid inputDim ${String(inputDim)}`);
  if (!Array.isArray(json.layers) || json.layers.length === 0) fail(dir, 'layers must be a non-empty array');
  const weightsInfo = json.weights;
  if (!isPlainObject(weightsInfo) || typeof weightsInfo.sha256 !== 'string') fail(dir, 'missing weights.sha256');

  const layers: Layer[] = json.layers.map((entry: unknown, i: number) => {
    if (!isPlainObject(entry) || typeof entry.className !== 'string' || !isPlainObject(entry.config)) {
      fail(dir, `layers[${i}] must be { className, config }`);
    }
    const cfg = { ...entry.config };
    if (i > 0) delete cfg.batchInputShape;
    try {
      return layerFromConfig(entry.className, cfg);
    } catch (e) {
      fail(dir, `layers[${i}]: ${(e as Error).message}`);
    }
  });
  // Sizes are checked before anything is allocated: a hostile file must not ask for gigabytes.
  let dim = inputDim;
  let total = 0;
  for (const l of layers) {
    const out = l.outputDim(dim);
    total += dim * out + 4 * out;
    if (total > 1 << 30) fail(dir, 'the architecture would need more than 4 GiB of weights');
    dim = out;
  }
  const model = new Sequential({ name: typeof json.name === 'string' ? json.name : undefined });
  try {
    for (const l of layers) {
      if (model.layers.length === 0) l.build(inputDim);
      model.add(l);
    }
  } catch (e) {
    fail(dir, `architecture: ${(e as Error).message}`);
  }

  const weightsPath = path.join(dir, WEIGHTS_FILE);
  let buf: Buffer;
  try {
    buf = await fs.promises.readFile(weightsPath);
  } catch (e) {
    throw new DensenormError(`${weightsPath}: cannot read weights (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, ERR_MODEL_FILE);
  }
  const digest = createHash('sha256').update(buf).digest('hex');
  if (digest !== weightsInfo.sha256) {
    throw new DensenormError(`${weightsPath}: the weights file does not match ${MODEL_FILE} (SHA-256 differs: corrupted, or from another save)`, ERR_MODEL_FILE);
  }
  const { tensors } = decodeSafetensorsWithMetadata(buf, weightsPath);
  const expected = new Set<string>();
  for (const l of model.layers) {
    const values: Float32Array[] = [];
    for (const w of l.weights) {
      const key = `${l.name}/${w.name}`;
      expected.add(key);
      const t = tensors.get(key);
      if (!t) throw new DensenormError(`${weightsPath}: missing tensor "${key}"`, ERR_MODEL_FILE);
      if (t.shape.join(',') !== w.shape.join(',')) {
        throw new DensenormError(`${weightsPath}: tensor "${key}" has shape [${t.shape}], expected [${w.shape}]`, ERR_MODEL_FILE);
      }
      values.push(t.data);
    }
    if (values.length) l.setWeightValues(values);
  }
  for (const k of tensors.keys()) {
    if (!expected.has(k)) throw new DensenormError(`${weightsPath}: unexpected tensor "${k}"`, ERR_MODEL_FILE);
  }
  const bn = isPlainObject(json.batchNormalization) && isPlainObject(json.batchNormalization.numBatchesTracked) ? json.batchNormalization.numBatchesTracked : {};
  for (const l of model.layers) {
    const n = bn[l.name];
    if (l instanceof BatchNormalization && typeof n === 'number' && Number.isFinite(n) && n >= 0) l.numBatchesTracked[0] = n;
  }
  return model;
}

/** loadModel(dir): a Sequential from the ModelArtifacts that lib/io/model_files reads. */
import * as path from 'node:path';
// Registers the built-in layer classes before any model.json is read.
import { BatchNormalization, Layer, layerFromConfig } from '../layers';
import { DensenormError, ERR_MODEL_FILE } from '../errors';
import { modelFileError, ModelTopology, readModelFiles, WEIGHTS_FILE } from '../io/model_files';
import { MAX_MODEL_PARAMS } from '../limits';
import { checkString } from '../validate';
import { Sequential } from './sequential';

export async function loadModel(dir: string): Promise<Sequential> {
  checkString('dir', dir);
  let model: Sequential | undefined;
  const artifacts = await readModelFiles(dir, (topology) => {
    const built = modelFromTopology(dir, topology);
    model = built.model;
    return built.params;
  });
  const m = model!;
  const weightsPath = path.join(dir, WEIGHTS_FILE);
  const tensors = new Map(artifacts.tensors.map((t) => [t.name, t]));
  const expected = new Set<string>();
  for (const l of m.layers) {
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
  for (const l of m.layers) {
    const n = artifacts.bnState[l.name];
    if (l instanceof BatchNormalization && n !== undefined) l.numBatchesTracked[0] = n;
  }
  return m;
}

/** The built (weightless) model of a topology and its weight count, checked before any weight is allocated. */
function modelFromTopology(dir: string, topology: ModelTopology): { model: Sequential; params: number } {
  const fail = (msg: string): never => {
    throw modelFileError(dir, msg);
  };
  const layers: Layer[] = topology.layers.map((entry, i) => {
    const cfg = { ...entry.config };
    if (i > 0) delete cfg.batchInputShape;
    try {
      return layerFromConfig(entry.className, cfg);
    } catch (e) {
      return fail(`layers[${i}]: ${(e as Error).message}`);
    }
  });
  // Sizes are checked before anything is allocated: a hostile file must not ask for gigabytes.
  let dim = topology.inputDim;
  let total = 0;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    let out = 0;
    try {
      total += l.paramCountFor(dim);
      out = l.outputDim(dim);
    } catch (e) {
      fail(`layers[${i}]: ${(e as Error).message}`);
    }
    if (total > MAX_MODEL_PARAMS) {
      fail(`the architecture would need ${total} weights (more than the ${MAX_MODEL_PARAMS} limit, 4 GiB)`);
    }
    dim = out;
  }
  const model = new Sequential({ name: topology.name });
  try {
    for (const l of layers) {
      if (model.layers.length === 0) l.build(topology.inputDim);
      model.add(l);
    }
  } catch (e) {
    fail(`architecture: ${(e as Error).message}`);
  }
  return { model, params: total };
}

/**
 * loadModel(path): a Sequential from the ModelArtifacts that lib/io reads, from a densenorm model
 * directory or a TensorFlow.js layers model (its directory or model.json).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
// Registers the built-in layer classes before any model.json is read.
import { BatchNormalization, Layer, layerFromConfig } from '../layers';
import { DensenormError, ERR_MODEL_FILE } from '../errors';
import { FORMAT, MODEL_FILE, ModelArtifacts, ModelTopology, readModelFiles, WEIGHTS_FILE } from '../io/model_files';
import { isTfjsModelJson, readJsonFile, readTfjsModel } from '../io/tfjs_format';
import { MAX_MODEL_PARAMS } from '../limits';
import { checkString } from '../validate';
import { Sequential } from './sequential';
import { isInt8ModelJson, readInt8Model } from '../io/int8_files';
import { QuantizedModel } from './quantized_model';

/**
 * What p holds: a tfjs layers model (a JSON file, or a directory whose model.json has
 * modelTopology), or a densenorm model directory (also when p is that directory's model.json).
 */
async function resolveModel(p: string): Promise<{ tfjs: boolean; dir: string }> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(p);
  } catch {
    return { tfjs: false, dir: p }; // the densenorm reader reports the missing directory
  }
  const file = st.isFile() ? p : path.join(p, MODEL_FILE);
  const json = await readJsonFile(file).catch(() => undefined);
  if (st.isFile() && (json as { format?: unknown } | undefined)?.format === FORMAT) return { tfjs: false, dir: path.dirname(p) };
  return { tfjs: st.isFile() || isTfjsModelJson(json), dir: p };
}

/** A Sequential, or a QuantizedModel when the directory holds an int8 model (model.quantize(...).save). */
export async function loadAnyModel(p: string): Promise<Sequential | QuantizedModel> {
  checkString('path', p);
  const st = await fs.promises.stat(p).catch(() => undefined);
  const dir = st?.isFile() ? path.dirname(p) : p;
  const json = st ? await readJsonFile(path.join(dir, MODEL_FILE)).catch(() => undefined) : undefined;
  if (isInt8ModelJson(json)) {
    const a = await readInt8Model(dir);
    return new QuantizedModel({ name: a.name, inputDim: a.inputDim, layers: a.layers, loss: a.loss, metrics: a.metrics });
  }
  return loadModel(p);
}

export async function loadModel(p: string): Promise<Sequential> {
  checkString('path', p);
  let model: Sequential | undefined;
  const build = (source: string) => (topology: ModelTopology): number => {
    const built = modelFromTopology(source, topology);
    model = built.model;
    return built.params;
  };
  const { tfjs, dir } = await resolveModel(p);
  if (tfjs) {
    const { artifacts, file } = await readTfjsModel(p, build(p));
    setWeights(model!, artifacts, file, true);
    return model!;
  }
  const artifacts = await readModelFiles(dir, build(path.join(dir, MODEL_FILE)));
  setWeights(model!, artifacts, path.join(dir, WEIGHTS_FILE), false);
  return model!;
}

/** Copies every expected "<layer>/<weight>" tensor into the model; missing, misshapen or extra tensors are errors. */
function setWeights(m: Sequential, artifacts: ModelArtifacts, source: string, tfjsNames: boolean): void {
  const tensors = new Map(artifacts.tensors.map((t) => [t.name, t]));
  const used = new Set<string>();
  for (const l of m.layers) {
    const values: Float32Array[] = [];
    for (const w of l.weights) {
      const key = `${l.name}/${w.name}`;
      let name = key;
      // tfjs also finds "a/b/c" as "a/c" (the cell scope TF 2.2 added); search the same way.
      if (!tensors.has(name) && tfjsNames) name = [...tensors.keys()].find((k) => k.startsWith(`${l.name}/`) && k.endsWith(`/${w.name}`) && !used.has(k)) ?? key;
      const t = tensors.get(name);
      if (!t) throw new DensenormError(`${source}: missing tensor "${key}"`, ERR_MODEL_FILE);
      if (t.shape.join(',') !== w.shape.join(',')) {
        throw new DensenormError(`${source}: tensor "${name}" has shape [${t.shape}], expected [${w.shape}]`, ERR_MODEL_FILE);
      }
      used.add(name);
      values.push(t.data);
    }
    if (values.length) l.setWeightValues(values);
  }
  for (const k of tensors.keys()) {
    if (!used.has(k)) throw new DensenormError(`${source}: unexpected tensor "${k}"`, ERR_MODEL_FILE);
  }
  for (const l of m.layers) {
    const n = artifacts.bnState[l.name];
    if (l instanceof BatchNormalization && n !== undefined) l.numBatchesTracked[0] = n;
  }
}

/** The built (weightless) model of a topology and its weight count, checked before any weight is allocated. */
function modelFromTopology(source: string, topology: ModelTopology): { model: Sequential; params: number } {
  const fail = (msg: string): never => {
    throw new DensenormError(`${source}: ${msg}`, ERR_MODEL_FILE);
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

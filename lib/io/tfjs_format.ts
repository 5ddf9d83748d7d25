/**
 * TensorFlow.js layers-model files (model.json + weights.bin or groupN-shardKofM.bin shards), both
 * ways, as plain ModelArtifacts. Reads the tfjs-layers, converted Keras 2 and Keras 3 dialects of a
 * Sequential of Dense, BatchNormalization, Activation, Dropout, LayerNormalization, GroupNormalization (and an InputLayer); tfjs_writer.ts
 * writes what tfjs-node writes, so tf.loadLayersModel reads it. Files are untrusted: every size, offset and
 * shape is checked before anything is read or allocated (layout: /work/shared/design/formats.md §1).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { endianness } from 'node:os';
import { DensenormError, ERR_MODEL_FILE } from '../errors';
import { MAX_FEATURES, MAX_MODEL_PARAMS } from '../limits';
import { isPlainObject } from '../validate';
import type { LayerArtifact, ModelArtifacts, ModelTopology } from './model_files';
import type { NamedTensor } from './safetensors';

export const TFJS_MODEL_FILE = 'model.json';
/** Largest model.json read; real ones are a few KiB per layer. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;
/** Most layers, manifest groups, shard files and weight specs one file may declare. */
const MAX_ENTRIES = 100_000;
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** Layer classes this reader maps to densenorm layers (InputLayer only sets the input size). */
export const TFJS_LAYER_CLASSES = ['InputLayer', 'Dense', 'BatchNormalization', 'Activation', 'Dropout', 'LayerNormalization', 'GroupNormalization'] as const;
const ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh', 'softmax'];

class TfjsFileError extends DensenormError {
  constructor(file: string, msg: string) {
    super(`${file}: ${msg}`, ERR_MODEL_FILE);
  }
}

/** model.json's path for a tfjs model given as its directory or as the JSON file itself. */
export function tfjsModelJsonPath(p: string): string {
  try {
    if (fs.statSync(p).isDirectory()) return path.join(p, TFJS_MODEL_FILE);
  } catch {
    // reported by the reader
  }
  return p;
}

/** Whether a parsed model.json is a tfjs layers model (it has modelTopology and weightsManifest). */
export function isTfjsModelJson(json: unknown): boolean {
  return isPlainObject(json) && 'modelTopology' in json && ('weightsManifest' in json || json.format === 'layers-model');
}

/** Reads and parses a JSON file of bounded size; unreadable or malformed files are ERR_MODEL_FILE. */
export async function readJsonFile(file: string, maxBytes = MAX_JSON_BYTES): Promise<unknown> {
  let text: string;
  try {
    const st = await fs.promises.stat(file);
    if (!st.isFile()) throw new TfjsFileError(file, 'not a regular file');
    if (st.size > maxBytes) throw new TfjsFileError(file, `file is ${st.size} bytes, more than the ${maxBytes}-byte limit for a model description`);
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof DensenormError) throw e;
    throw new TfjsFileError(file, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TfjsFileError(file, `invalid JSON (${(e as Error).message})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Keras 3 wraps values as { module, class_name, config, registered_name }; DTypePolicy objects become their name. */
function dtypeName(v: unknown): unknown {
  if (isPlainObject(v) && isPlainObject(v.config) && typeof v.config.name === 'string') return v.config.name;
  return v;
}

/** The feature count of a [null, n] (or [n]) shape; undefined when absent. */
function featuresOf(file: string, where: string, shape: unknown, withBatch: boolean): number | undefined {
  if (shape === undefined || shape === null) return undefined;
  const ok = Array.isArray(shape) && shape.length === (withBatch ? 2 : 1);
  const n = ok ? (shape as unknown[])[withBatch ? 1 : 0] : undefined;
  if (!ok || typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > MAX_FEATURES) {
    throw new TfjsFileError(file, `${where}: expected a shape ${withBatch ? '[null, features]' : '[features]'} with 1 to ${MAX_FEATURES} features but found ${JSON.stringify(shape)?.slice(0, 80)} (only rank-2 [batch, features] inputs are supported)`);
  }
  return n;
}

function camelActivation(file: string, where: string, v: unknown): string {
  if (v === undefined || v === null) return 'linear';
  const name = typeof v === 'string' ? v : isPlainObject(v) && typeof v.class_name === 'string' ? v.class_name : undefined;
  if (name === undefined || !ACTIVATIONS.includes(name.toLowerCase())) {
    throw new TfjsFileError(file, `${where}: activation ${JSON.stringify(v)?.slice(0, 80)} is not supported (supported: ${ACTIVATIONS.join(', ')})`);
  }
  return name.toLowerCase();
}

const VS_NAMES: Record<string, string> = {
  '1/fan_avg/uniform': 'glorotUniform',
  '1/fan_avg/normal': 'glorotNormal',
  '1/fan_avg/truncated_normal': 'glorotNormal',
  '2/fan_in/uniform': 'heUniform',
  '2/fan_in/normal': 'heNormal',
  '2/fan_in/truncated_normal': 'heNormal',
  '1/fan_in/uniform': 'lecunUniform',
  '1/fan_in/normal': 'lecunNormal',
  '1/fan_in/truncated_normal': 'lecunNormal',
};

/** A tfjs/Keras initializer as a densenorm spec; undefined when densenorm has no equivalent (the weights are loaded anyway). */
function initializerFrom(v: unknown): unknown {
  if (!isPlainObject(v) || typeof v.class_name !== 'string') return undefined;
  const c = isPlainObject(v.config) ? v.config : {};
  const seed = typeof c.seed === 'number' && Number.isSafeInteger(c.seed) && c.seed >= 0 && c.seed <= 0xffffffff ? { seed: c.seed } : {};
  const cls = v.class_name.replace(/_/g, '').toLowerCase();
  const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
  switch (cls) {
    case 'zeros':
      return 'zeros';
    case 'ones':
      return 'ones';
    case 'constant':
      return num(c.value) === undefined ? undefined : { className: 'constant', value: c.value };
    case 'randomnormal':
      return num(c.mean) !== undefined && num(c.stddev) !== undefined && (c.stddev as number) >= 0 ? { className: 'randomNormal', mean: c.mean, stddev: c.stddev, ...seed } : undefined;
    case 'randomuniform':
      return num(c.minval) !== undefined && num(c.maxval) !== undefined && (c.minval as number) <= (c.maxval as number) ? { className: 'randomUniform', minval: c.minval, maxval: c.maxval, ...seed } : undefined;
    case 'variancescaling': {
      const mode = String(c.mode).replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
      const dist = String(c.distribution).replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
      const name = VS_NAMES[`${c.scale}/${mode}/${dist}`];
      return name ? { className: name, ...seed } : undefined;
    }
    default: {
      const name = ['glorotuniform', 'glorotnormal', 'heuniform', 'henormal', 'lecununiform', 'lecunnormal'].find((n) => n === cls);
      return name ? { className: name, ...seed } : undefined;
    }
  }
}

function regularizerFrom(file: string, where: string, v: unknown): unknown {
  if (v === undefined || v === null) return undefined;
  const c = isPlainObject(v) && isPlainObject(v.config) ? v.config : undefined;
  if (!isPlainObject(v) || !['L1L2', 'L1', 'L2', 'l1_l2'].includes(String(v.class_name)) || !c) {
    throw new TfjsFileError(file, `${where}: regularizer ${JSON.stringify(v)?.slice(0, 80)} is not supported (supported: L1L2, L1, L2)`);
  }
  const cls = v.class_name === 'l1_l2' ? 'L1L2' : v.class_name;
  return { className: cls, config: { ...(c.l1 !== undefined ? { l1: c.l1 } : {}), ...(c.l2 !== undefined ? { l2: c.l2 } : {}) } };
}

function rejectSet(file: string, where: string, cfg: Record<string, unknown>, keys: string[]): void {
  for (const k of keys) {
    if (cfg[k] !== undefined && cfg[k] !== null && cfg[k] !== false) {
      throw new TfjsFileError(file, `${where}: "${k}" is set (${JSON.stringify(cfg[k])?.slice(0, 60)}), which densenorm does not support`);
    }
  }
}

/** One tfjs/Keras layer config → a densenorm layer artifact (camelCase config), or the input size of an InputLayer. */
function layerFrom(file: string, i: number, entry: unknown): { layer?: LayerArtifact; inputDim?: number } {
  const where = `layers[${i}]`;
  if (!isPlainObject(entry) || typeof entry.class_name !== 'string' || !isPlainObject(entry.config)) {
    throw new TfjsFileError(file, `${where} must be { class_name, config }`);
  }
  const cls = entry.class_name === 'BatchNormalizationV1' ? 'BatchNormalization' : entry.class_name;
  const c = entry.config;
  if (!(TFJS_LAYER_CLASSES as readonly string[]).includes(cls)) {
    throw new TfjsFileError(file, `${where}: layer class "${cls.slice(0, 80)}" is not supported (supported: ${TFJS_LAYER_CLASSES.join(', ')})`);
  }
  const dtype = dtypeName(c.dtype);
  if (dtype !== undefined && dtype !== null && dtype !== 'float32') {
    throw new TfjsFileError(file, `${where}: dtype ${JSON.stringify(dtype)?.slice(0, 40)} is not supported (only float32)`);
  }
  const inputDim = featuresOf(file, where, c.batch_input_shape ?? c.batch_shape, true) ?? featuresOf(file, where, c.input_shape, false);
  if (cls === 'InputLayer') return { inputDim };
  if (typeof c.name !== 'string' || !/^[A-Za-z0-9][-A-Za-z0-9._/]{0,255}$/.test(c.name)) {
    throw new TfjsFileError(file, `${where}: invalid layer name ${JSON.stringify(c.name)?.slice(0, 80)}`);
  }
  const base: Record<string, unknown> = { name: c.name };
  if (c.trainable !== undefined) base.trainable = c.trainable;
  if (inputDim !== undefined) base.batchInputShape = [null, inputDim];
  const put = (cfg: Record<string, unknown>, key: string, v: unknown): void => {
    if (v !== undefined) cfg[key] = v;
  };
  const layerWhere = `${where} (${cls} "${c.name}")`;
  if (cls === 'Dense') {
    rejectSet(file, layerWhere, c, ['activity_regularizer', 'kernel_constraint', 'bias_constraint', 'lora_rank', 'quantization_config']);
    const cfg: Record<string, unknown> = { ...base, units: c.units, activation: camelActivation(file, layerWhere, c.activation), useBias: c.use_bias ?? true };
    put(cfg, 'kernelInitializer', initializerFrom(c.kernel_initializer));
    put(cfg, 'biasInitializer', initializerFrom(c.bias_initializer));
    put(cfg, 'kernelRegularizer', regularizerFrom(file, layerWhere, c.kernel_regularizer));
    put(cfg, 'biasRegularizer', regularizerFrom(file, layerWhere, c.bias_regularizer));
    return { layer: { className: 'Dense', config: cfg }, inputDim };
  }
  if (cls === 'BatchNormalization') {
    rejectSet(file, layerWhere, c, ['beta_constraint', 'gamma_constraint', 'adjustment', 'synchronized']);
    let axis = c.axis ?? -1;
    if (Array.isArray(axis) && axis.length === 1) axis = axis[0];
    const cfg: Record<string, unknown> = { ...base, axis, momentum: c.momentum ?? 0.99, epsilon: c.epsilon ?? 1e-3, center: c.center ?? true, scale: c.scale ?? true };
    // tf.keras batch renormalization and ghost batch norm (weights renorm_mean, renorm_stddev).
    if (c.renorm === true) {
      cfg.renorm = true;
      put(cfg, 'renormMomentum', c.renorm_momentum ?? undefined);
      put(cfg, 'renormClipping', c.renorm_clipping ?? undefined);
    }
    put(cfg, 'virtualBatchSize', c.virtual_batch_size ?? undefined);
    put(cfg, 'gammaInitializer', initializerFrom(c.gamma_initializer));
    put(cfg, 'betaInitializer', initializerFrom(c.beta_initializer));
    put(cfg, 'movingMeanInitializer', initializerFrom(c.moving_mean_initializer));
    put(cfg, 'movingVarianceInitializer', initializerFrom(c.moving_variance_initializer));
    put(cfg, 'gammaRegularizer', regularizerFrom(file, layerWhere, c.gamma_regularizer));
    put(cfg, 'betaRegularizer', regularizerFrom(file, layerWhere, c.beta_regularizer));
    return { layer: { className: 'BatchNormalization', config: cfg }, inputDim };
  }
  if (cls === 'LayerNormalization' || cls === 'GroupNormalization') {
    // tfjs-layers and Keras LayerNormalization, Keras 3 GroupNormalization (weights gamma, beta).
    rejectSet(file, layerWhere, c, ['beta_constraint', 'gamma_constraint']);
    let axis = c.axis ?? -1;
    if (Array.isArray(axis) && axis.length === 1) axis = axis[0];
    const cfg: Record<string, unknown> = { ...base, axis, epsilon: c.epsilon ?? 1e-3, center: c.center ?? true, scale: c.scale ?? true };
    if (cls === 'LayerNormalization') put(cfg, 'rmsScaling', c.rms_scaling ?? undefined);
    else put(cfg, 'groups', c.groups ?? 32);
    put(cfg, 'gammaInitializer', initializerFrom(c.gamma_initializer));
    put(cfg, 'betaInitializer', initializerFrom(c.beta_initializer));
    put(cfg, 'gammaRegularizer', regularizerFrom(file, layerWhere, c.gamma_regularizer));
    put(cfg, 'betaRegularizer', regularizerFrom(file, layerWhere, c.beta_regularizer));
    return { layer: { className: cls, config: cfg }, inputDim };
  }
  if (cls === 'Activation') return { layer: { className: 'Activation', config: { ...base, activation: camelActivation(file, layerWhere, c.activation) } }, inputDim };
  const cfg: Record<string, unknown> = { ...base, rate: c.rate, noiseShape: c.noise_shape ?? null };
  if (c.seed !== undefined && c.seed !== null) cfg.seed = c.seed;
  return { layer: { className: 'Dropout', config: cfg }, inputDim };
}

/** modelTopology (tfjs, converter-nested or Keras 3) → input size and densenorm layer artifacts. */
export function tfjsTopology(file: string, json: Record<string, unknown>): ModelTopology {
  let topo: unknown = json.modelTopology;
  if (isPlainObject(topo) && isPlainObject(topo.model_config)) topo = topo.model_config;
  if (!isPlainObject(topo) || typeof topo.class_name !== 'string') throw new TfjsFileError(file, 'modelTopology must be { class_name, config }');
  if (topo.class_name !== 'Sequential') {
    throw new TfjsFileError(file, `model class "${topo.class_name.slice(0, 80)}" is not supported (only Sequential models)`);
  }
  const cfg = topo.config;
  const rawLayers = Array.isArray(cfg) ? cfg : isPlainObject(cfg) ? cfg.layers : undefined;
  if (!Array.isArray(rawLayers) || rawLayers.length === 0) throw new TfjsFileError(file, 'modelTopology.config.layers must be a non-empty array');
  if (rawLayers.length > MAX_ENTRIES) throw new TfjsFileError(file, `${rawLayers.length} layers, more than the ${MAX_ENTRIES} limit`);
  let inputDim = isPlainObject(cfg) ? featuresOf(file, 'config.build_input_shape', cfg.build_input_shape, true) : undefined;
  const layers: LayerArtifact[] = [];
  rawLayers.forEach((entry, i) => {
    const r = layerFrom(file, i, entry);
    if (r.inputDim !== undefined) {
      if (layers.length > 0) throw new TfjsFileError(file, `layers[${i}]: an input shape is only allowed on the first layer`);
      if (inputDim !== undefined && inputDim !== r.inputDim) throw new TfjsFileError(file, `layers[${i}]: input shape [null, ${r.inputDim}] disagrees with [null, ${inputDim}]`);
      inputDim = r.inputDim;
    }
    if (r.layer) layers.push(r.layer);
  });
  if (layers.length === 0) throw new TfjsFileError(file, 'the model has no layers besides its InputLayer');
  if (inputDim === undefined) throw new TfjsFileError(file, 'the input size is unknown (no batch_input_shape on the first layer and no InputLayer)');
  const first = layers[0].config;
  first.batchInputShape = [null, inputDim];
  const name = isPlainObject(cfg) && typeof cfg.name === 'string' ? cfg.name : undefined;
  return { name, inputDim, layers, bnState: {} };
}

interface WeightSpec {
  name: string;
  shape: number[];
  /** Byte offset within the group's concatenated files. */
  offset: number;
  bytes: number;
  /** In the "optimizer" group (tfjs save with includeOptimizer): read past, not loaded. */
  optimizer: boolean;
}

interface Group {
  files: string[];
  specs: WeightSpec[];
  bytes: number;
}

/** weightsManifest → groups with their shard files (resolved, confined to the model's directory) and spec offsets. */
function parseManifest(file: string, manifest: unknown): Group[] {
  if (!Array.isArray(manifest)) throw new TfjsFileError(file, 'weightsManifest must be an array');
  if (manifest.length > MAX_ENTRIES) throw new TfjsFileError(file, `weightsManifest has ${manifest.length} groups, more than ${MAX_ENTRIES}`);
  const dir = path.dirname(file);
  const seen = new Set<string>();
  let total = 0;
  let count = 0;
  return manifest.map((g, gi) => {
    const where = `weightsManifest[${gi}]`;
    if (!isPlainObject(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) throw new TfjsFileError(file, `${where} must be { paths, weights }`);
    count += g.paths.length + g.weights.length;
    if (count > MAX_ENTRIES) throw new TfjsFileError(file, `weightsManifest declares more than ${MAX_ENTRIES} files and weights`);
    const files = g.paths.map((p: unknown, pi: number) => {
      // Shards live beside model.json: an absolute path or ".." must not read other files.
      if (typeof p !== 'string' || p.length === 0 || p.length > 1024 || path.isAbsolute(p) || /^[a-z]+:/i.test(p) || p.split(/[\\/]/).includes('..')) {
        throw new TfjsFileError(file, `${where}.paths[${pi}]: ${JSON.stringify(p)?.slice(0, 80)} is not a relative path inside the model's directory`);
      }
      return path.join(dir, p);
    });
    if (files.length === 0 && g.weights.length > 0) throw new TfjsFileError(file, `${where} has weights but no paths`);
    let offset = 0;
    const specs = g.weights.map((w: unknown, wi: number): WeightSpec => {
      const ww = `${where}.weights[${wi}]`;
      if (!isPlainObject(w) || typeof w.name !== 'string' || !Array.isArray(w.shape)) throw new TfjsFileError(file, `${ww} must be { name, shape, dtype }`);
      if (seen.has(w.name)) throw new TfjsFileError(file, `${ww}: duplicate weight name ${JSON.stringify(w.name).slice(0, 80)}`);
      seen.add(w.name);
      // Optimizer state is skipped, so its int32 step counter only needs its 4 bytes per value counted.
      if (w.dtype !== 'float32' && !(w.group === 'optimizer' && w.dtype === 'int32')) throw new TfjsFileError(file, `${ww} ("${w.name.slice(0, 80)}"): dtype ${JSON.stringify(w.dtype)?.slice(0, 40)} is not supported (only float32)`);
      if (w.quantization !== undefined && w.quantization !== null) throw new TfjsFileError(file, `${ww} ("${w.name.slice(0, 80)}"): quantized weights are not supported`);
      let n = 1;
      for (const d of w.shape as unknown[]) {
        if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) throw new TfjsFileError(file, `${ww}: invalid shape ${JSON.stringify(w.shape).slice(0, 80)}`);
        n *= d;
        if (n > MAX_MODEL_PARAMS) throw new TfjsFileError(file, `${ww}: shape ${JSON.stringify(w.shape).slice(0, 80)} has more than ${MAX_MODEL_PARAMS} values`);
      }
      total += n;
      if (total > MAX_MODEL_PARAMS) throw new TfjsFileError(file, `the manifest declares more than ${MAX_MODEL_PARAMS} weights`);
      const spec = { name: w.name, shape: (w.shape as number[]).slice(), offset, bytes: n * 4, optimizer: w.group === 'optimizer' };
      offset += n * 4;
      return spec;
    });
    return { files, specs, bytes: offset };
  });
}

/** Stats every shard first (sizes must add up to the group's bytes), then reads them into one buffer per group. */
async function readGroup(file: string, g: Group, gi: number): Promise<Buffer> {
  const sizes: number[] = [];
  for (const f of g.files) {
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(f);
    } catch (e) {
      throw new TfjsFileError(f, `cannot read weights (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    if (!st.isFile()) throw new TfjsFileError(f, 'not a regular file');
    if (st.size > g.bytes) throw new TfjsFileError(f, `file is ${st.size} bytes, more than the ${g.bytes} bytes weightsManifest[${gi}] declares`);
    sizes.push(st.size);
  }
  const sum = sizes.reduce((a, b) => a + b, 0);
  if (sum !== g.bytes) {
    throw new TfjsFileError(file, `weightsManifest[${gi}] declares ${g.bytes} bytes of weights but its files (${g.files.map((f) => path.basename(f)).join(', ')}) hold ${sum}`);
  }
  const buf = Buffer.alloc(g.bytes);
  let pos = 0;
  for (let i = 0; i < g.files.length; i++) {
    const fh = await fs.promises.open(g.files[i], 'r');
    try {
      const { bytesRead } = await fh.read(buf, pos, sizes[i], 0);
      if (bytesRead !== sizes[i]) throw new TfjsFileError(g.files[i], `file changed while being read (${bytesRead} of ${sizes[i]} bytes)`);
    } finally {
      await fh.close();
    }
    pos += sizes[i];
  }
  return buf;
}

function floats(buf: Buffer, offset: number, n: number): Float32Array {
  const out = new Float32Array(n);
  if (LITTLE_ENDIAN_HOST) new Uint8Array(out.buffer).set(buf.subarray(offset, offset + 4 * n));
  else for (let i = 0; i < n; i++) out[i] = buf.readFloatLE(offset + 4 * i);
  return out;
}

/**
 * Reads a tfjs layers model (its directory or model.json). weightCount sees the checked topology
 * before any weight file is opened and returns the architecture's weight count: a manifest that
 * declares more is rejected unread. Tensors are named by their manifest names.
 */
export async function readTfjsModel(p: string, weightCount: (t: ModelTopology) => number): Promise<{ artifacts: ModelArtifacts; file: string }> {
  const file = tfjsModelJsonPath(p);
  const json = await readJsonFile(file);
  if (!isPlainObject(json) || !isTfjsModelJson(json)) throw new TfjsFileError(file, 'not a TensorFlow.js layers model (no modelTopology / weightsManifest)');
  if (json.format !== undefined && json.format !== null && json.format !== 'layers-model') {
    throw new TfjsFileError(file, `format ${JSON.stringify(json.format).slice(0, 60)} is not supported (only "layers-model"; graph models have no layers to rebuild)`);
  }
  const topology = tfjsTopology(file, json);
  const total = weightCount(topology);
  const groups = parseManifest(file, json.weightsManifest);
  const count = (optimizer: boolean): number => groups.reduce((n, g) => n + g.specs.filter((s) => s.optimizer === optimizer).reduce((m, s) => m + s.bytes / 4, 0), 0);
  const declared = count(false);
  if (declared > total) throw new TfjsFileError(file, `weightsManifest declares ${declared} weights but the architecture has ${total}`);
  // Optimizer state (Adam's two moments per weight and a few scalars) is skipped, but its bytes are read.
  if (count(true) > 3 * total + 64) throw new TfjsFileError(file, `weightsManifest declares ${count(true)} optimizer weights, more than 3 per model weight`);
  const tensors: NamedTensor[] = [];
  for (let gi = 0; gi < groups.length; gi++) {
    const g = groups[gi];
    if (g.specs.length === 0) continue;
    const buf = await readGroup(file, g, gi);
    for (const s of g.specs) if (!s.optimizer) tensors.push({ name: s.name, shape: s.shape, data: floats(buf, s.offset, s.bytes / 4) });
  }
  return { artifacts: { ...topology, tensors }, file };
}

/**
 * The int8 model directory: model.json (format "densenorm-int8-model": layers, activation scales
 * and zero points, the SHA-256 of the weights) and weights.safetensors ("<layer>/kernel" I8
 * [in, units], "<layer>/kernel_scale" and "<layer>/bias" F32 [units]). Reading treats both files
 * as untrusted: every field is checked before anything is allocated or run.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DensenormError, ERR_MODEL_FILE } from '../errors';
import { MAX_FEATURES, MAX_MODEL_PARAMS } from '../limits';
import { isPlainObject } from '../validate';
import { writeFileAtomic } from './atomic';
import { decodeSafetensorsInt8, encodeSafetensors, TypedTensor } from './safetensors';

export const INT8_FORMAT = 'densenorm-int8-model';
const INT8_FORMAT_VERSION = 1;
const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.safetensors';
const MAX_JSON_BYTES = 16 * 1024 * 1024;
const ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh', 'softmax'];

/** One int8 Dense as plain data (lib/models/quantize.ts's QuantizedDense). */
export interface Int8Layer {
  name: string;
  inDim: number;
  units: number;
  activation: 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax';
  kernel: Int8Array;
  kernelScale: Float32Array;
  bias: Float32Array;
  inputScale: number;
  inputZeroPoint: number;
}

export interface Int8Artifacts {
  name: string;
  inputDim: number;
  loss?: string;
  metrics: string[];
  layers: Int8Layer[];
}

export async function writeInt8Model(dir: string, a: Int8Artifacts): Promise<void> {
  const tensors: TypedTensor[] = a.layers.flatMap((l) => [
    { name: `${l.name}/kernel`, dtype: 'I8' as const, shape: [l.inDim, l.units], data: l.kernel.slice() },
    { name: `${l.name}/kernel_scale`, dtype: 'F32' as const, shape: [l.units], data: l.kernelScale.slice() },
    { name: `${l.name}/bias`, dtype: 'F32' as const, shape: [l.units], data: l.bias.slice() },
  ]);
  const weights = encodeSafetensors(tensors, { format: INT8_FORMAT });
  const json = {
    format: INT8_FORMAT,
    formatVersion: INT8_FORMAT_VERSION,
    name: a.name,
    inputDim: a.inputDim,
    ...(a.loss ? { loss: a.loss } : {}),
    metrics: a.metrics,
    layers: a.layers.map((l) => ({ name: l.name, units: l.units, activation: l.activation, inputScale: l.inputScale, inputZeroPoint: l.inputZeroPoint })),
    weightsSha256: createHash('sha256').update(weights).digest('hex'),
  };
  await fs.promises.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, WEIGHTS_FILE), weights);
  await writeFileAtomic(path.join(dir, MODEL_FILE), JSON.stringify(json, null, 1) + '\n');
}

/** Whether parsed model.json content is an int8 model's. */
export function isInt8ModelJson(json: unknown): boolean {
  return isPlainObject(json) && json.format === INT8_FORMAT;
}

export async function readInt8Model(dir: string): Promise<Int8Artifacts> {
  const file = path.join(dir, MODEL_FILE);
  const fail = (msg: string): never => {
    throw new DensenormError(`${file}: ${msg}`, ERR_MODEL_FILE);
  };
  const st = await fs.promises.stat(file).catch(() => fail('cannot be read'));
  if (st.size > MAX_JSON_BYTES) fail(`is ${st.size} bytes, more than the ${MAX_JSON_BYTES}-byte limit`);
  let j: unknown;
  try {
    j = JSON.parse(await fs.promises.readFile(file, 'utf8'));
  } catch (e) {
    fail(`is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(j) || j.format !== INT8_FORMAT) fail(`format is not "${INT8_FORMAT}"`);
  const o = j as Record<string, unknown>;
  if (o.formatVersion !== INT8_FORMAT_VERSION) fail(`formatVersion ${JSON.stringify(o.formatVersion)} is not supported (expected ${INT8_FORMAT_VERSION})`);
  const int = (v: unknown, what: string, lo: number, hi: number): number =>
    typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi ? v : fail(`${what} must be an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  const inputDim = int(o.inputDim, 'inputDim', 1, MAX_FEATURES);
  if (!Array.isArray(o.layers) || o.layers.length === 0 || o.layers.length > 10000) fail('layers must be a non-empty array');
  const name = typeof o.name === 'string' ? o.name : 'quantized';
  const loss = o.loss === undefined ? undefined : typeof o.loss === 'string' ? o.loss : fail('loss must be a string');
  const metrics = Array.isArray(o.metrics) && o.metrics.every((m) => typeof m === 'string') ? (o.metrics as string[]) : fail('metrics must be an array of strings');
  if (typeof o.weightsSha256 !== 'string') fail('weightsSha256 is missing');
  let dim = inputDim;
  let params = 0;
  const names = new Set<string>();
  const specs = (o.layers as unknown[]).map((e, i) => {
    if (!isPlainObject(e)) return fail(`layers[${i}] must be an object`);
    const lname = typeof e.name === 'string' && e.name.length > 0 && !names.has(e.name) ? e.name : fail(`layers[${i}].name must be a unique non-empty string`);
    names.add(lname);
    const units = int(e.units, `layers[${i}].units`, 1, MAX_FEATURES);
    if (dim > 65536) fail(`layers[${i}] has ${dim} inputs, more than the 65536 an int8 Dense takes`);
    const activation = typeof e.activation === 'string' && ACTIVATIONS.includes(e.activation) ? e.activation : fail(`layers[${i}].activation must be one of ${ACTIVATIONS.join(', ')}`);
    if (i < (o.layers as unknown[]).length - 1 && activation !== 'relu' && activation !== 'linear') fail(`layers[${i}].activation must be relu or linear in a hidden int8 layer`);
    const inputScale = typeof e.inputScale === 'number' && Number.isFinite(e.inputScale) && e.inputScale > 0 ? e.inputScale : fail(`layers[${i}].inputScale must be a finite number > 0`);
    const inputZeroPoint = int(e.inputZeroPoint, `layers[${i}].inputZeroPoint`, 0, 255);
    params += dim * units;
    if (params > MAX_MODEL_PARAMS) fail(`the layers would need more than ${MAX_MODEL_PARAMS} weights`);
    const s = { name: lname, inDim: dim, units, activation: activation as Int8Layer['activation'], inputScale, inputZeroPoint };
    dim = units;
    return s;
  });
  const wfile = path.join(dir, WEIGHTS_FILE);
  const buf = await fs.promises.readFile(wfile).catch(() => fail(`${WEIGHTS_FILE} cannot be read`));
  if (createHash('sha256').update(buf).digest('hex') !== o.weightsSha256) fail(`${WEIGHTS_FILE} does not match the SHA-256 recorded here (corrupt, or from another save)`);
  const { tensors } = decodeSafetensorsInt8(buf, wfile);
  const used = new Set<string>();
  const get = (key: string, dtype: 'I8' | 'F32', shape: number[]): TypedTensor => {
    const t = tensors.get(key);
    if (!t) return fail(`${WEIGHTS_FILE} has no tensor "${key}"`);
    if (t.dtype !== dtype || t.shape.join(',') !== shape.join(',')) fail(`tensor "${key}" is ${t.dtype} [${t.shape}], expected ${dtype} [${shape}]`);
    used.add(key);
    return t;
  };
  const layers: Int8Layer[] = specs.map((s) => {
    const kernel = get(`${s.name}/kernel`, 'I8', [s.inDim, s.units]).data as Int8Array;
    const kernelScale = get(`${s.name}/kernel_scale`, 'F32', [s.units]).data as Float32Array;
    const bias = get(`${s.name}/bias`, 'F32', [s.units]).data as Float32Array;
    if (kernel.some((v) => v < -127)) fail(`tensor "${s.name}/kernel" holds -128 (int8 weights are symmetric, in [-127, 127])`);
    if (!kernelScale.every((v) => Number.isFinite(v) && v > 0)) fail(`tensor "${s.name}/kernel_scale" must be finite and > 0`);
    if (!bias.every((v) => Number.isFinite(v))) fail(`tensor "${s.name}/bias" must be finite`);
    return { ...s, kernel, kernelScale, bias };
  });
  for (const k of tensors.keys()) if (!used.has(k)) fail(`${WEIGHTS_FILE} has an unexpected tensor "${k}"`);
  return { name, inputDim, ...(loss ? { loss } : {}), metrics, layers };
}

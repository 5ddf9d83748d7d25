/**
 * PyTorch state dicts as safetensors, with torch.nn.Sequential names: a densenorm Dense is a
 * Linear ("<i>.weight" [out, in], "<i>.bias"), a BatchNormalization a BatchNorm1d ("<i>.weight",
 * "<i>.bias", "<i>.running_mean", "<i>.running_var", "<i>.num_batches_tracked" as I64), and every
 * activation and Dropout a module of its own that owns no tensors but takes an index. The
 * architecture (modules, eps, torch-convention momentum) goes into __metadata__ as JSON so a few
 * lines of Python rebuild the module (README "Models in and out").
 *
 * Conventions: torch momentum = 1 − densenorm/Keras momentum; densenorm, like torch, feeds the
 * unbiased batch variance into the moving average, so running_var maps to moving_variance as is.
 */
import { DensenormError, ERR_MODEL_FILE } from '../errors';
import type { LayerArtifact } from './model_files';
import { decodeSafetensorsTyped, encodeSafetensors, TypedTensor } from './safetensors';

/** One torch.nn module of the Sequential, as __metadata__["densenorm.modules"] lists it. */
export type TorchModule =
  | { type: 'Linear'; in_features: number; out_features: number; bias: boolean }
  | { type: 'BatchNorm1d'; num_features: number; eps: number; momentum: number | null; affine: boolean }
  | { type: 'ReLU' | 'Sigmoid' | 'Tanh' | 'Identity' }
  | { type: 'Softmax'; dim: 1 }
  | { type: 'Dropout'; p: number };

/** A weight of a densenorm layer and where its values live in the state dict. */
export interface TorchSlot {
  /** densenorm weight name ('kernel', 'gamma', ...). */
  weight: string;
  /** State-dict key. */
  key: string;
  /** The torch shape. */
  shape: number[];
  /** Transposed between densenorm [in, out] and torch [out, in]. */
  transpose?: [number, number];
}

/** The modules and state-dict slots of one densenorm layer, starting at module index `index`. */
export interface TorchLayerPlan {
  modules: TorchModule[];
  slots: TorchSlot[];
  /** Index of the BatchNorm1d module (for num_batches_tracked). */
  bnIndex?: number;
  /** scale: false / center: false of an affine BatchNorm1d: the missing weight is written as ones / zeros. */
  fixed?: { key: string; value: number }[];
}

function actModule(act: unknown, layer: string): TorchModule | undefined {
  switch (act ?? 'linear') {
    case 'linear':
      return undefined;
    case 'relu':
      return { type: 'ReLU' };
    case 'sigmoid':
      return { type: 'Sigmoid' };
    case 'tanh':
      return { type: 'Tanh' };
    case 'softmax':
      return { type: 'Softmax', dim: 1 };
    default:
      throw new DensenormError(`Activation ${JSON.stringify(act)} of layer "${layer}" has no torch.nn module here`, 'ERR_DENSENORM');
  }
}

/** Maps each densenorm layer (with its input size) to torch.nn modules and state-dict keys. */
export function torchPlan(layers: readonly LayerArtifact[], inputDim: number): TorchLayerPlan[] {
  let index = 0;
  let dim = inputDim;
  return layers.map((l) => {
    const c = l.config;
    const name = String(c.name);
    const plan: TorchLayerPlan = { modules: [], slots: [] };
    if (l.className === 'Dense') {
      const units = c.units as number;
      const bias = c.useBias !== false;
      plan.modules.push({ type: 'Linear', in_features: dim, out_features: units, bias });
      plan.slots.push({ weight: 'kernel', key: `${index}.weight`, shape: [units, dim], transpose: [dim, units] });
      if (bias) plan.slots.push({ weight: 'bias', key: `${index}.bias`, shape: [units] });
      index++;
      const act = actModule(c.activation, name);
      if (act) {
        plan.modules.push(act);
        index++;
      }
      dim = units;
    } else if (l.className === 'BatchNormalization') {
      if (c.renorm === true || (c.virtualBatchSize !== undefined && c.virtualBatchSize !== null)) {
        throw new DensenormError(`Layer "${name}": ${c.renorm === true ? 'renorm' : 'virtualBatchSize'} is not supported in the torch format (torch.nn.BatchNorm1d has neither renorm nor virtual batches)`, 'ERR_DENSENORM');
      }
      const center = c.center !== false;
      const scale = c.scale !== false;
      const affine = center || scale;
      const m = c.momentum as number | null;
      plan.modules.push({ type: 'BatchNorm1d', num_features: dim, eps: c.epsilon as number, momentum: m === null ? null : 1 - m, affine });
      plan.fixed = [];
      if (scale) plan.slots.push({ weight: 'gamma', key: `${index}.weight`, shape: [dim] });
      else if (affine) plan.fixed.push({ key: `${index}.weight`, value: 1 });
      if (center) plan.slots.push({ weight: 'beta', key: `${index}.bias`, shape: [dim] });
      else if (affine) plan.fixed.push({ key: `${index}.bias`, value: 0 });
      plan.slots.push({ weight: 'moving_mean', key: `${index}.running_mean`, shape: [dim] }, { weight: 'moving_variance', key: `${index}.running_var`, shape: [dim] });
      plan.bnIndex = index;
      index++;
    } else if (l.className === 'Activation') {
      plan.modules.push(actModule(c.activation, name) ?? { type: 'Identity' });
      index++;
    } else if (l.className === 'Dropout') {
      plan.modules.push({ type: 'Dropout', p: c.rate as number });
      index++;
    } else {
      throw new DensenormError(`Layer class "${l.className}" is not supported in the torch format (supported: Dense, BatchNormalization, Activation, Dropout)`, 'ERR_DENSENORM');
    }
    return plan;
  });
}

function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = src[i * cols + j];
  return out;
}

/** What encodeTorch needs of each layer: its artifact, its weights by name and its batch counter. */
export interface TorchLayerValues {
  layer: LayerArtifact;
  weights: Map<string, Float32Array>;
  numBatchesTracked?: number;
}

/** The state dict as safetensors bytes, the torch.nn architecture in __metadata__. */
export function encodeTorch(layers: readonly TorchLayerValues[], inputDim: number, producer: string): Buffer {
  const plans = torchPlan(layers.map((l) => l.layer), inputDim);
  const tensors: TypedTensor[] = [];
  plans.forEach((p, i) => {
    const w = layers[i].weights;
    // Registration order: weight, bias, running_mean, running_var, num_batches_tracked.
    const byKey = new Map<string, TypedTensor>();
    for (const s of p.slots) {
      const v = w.get(s.weight)!;
      const data = s.transpose ? transpose(v, s.transpose[0], s.transpose[1]) : v;
      byKey.set(s.key, { name: s.key, dtype: 'F32', shape: s.shape, data });
    }
    for (const f of p.fixed ?? []) {
      const n = (p.modules[0] as { num_features: number }).num_features;
      byKey.set(f.key, { name: f.key, dtype: 'F32', shape: [n], data: new Float32Array(n).fill(f.value) });
    }
    const order = [...byKey.keys()].sort((a, b) => rank(a) - rank(b));
    for (const k of order) tensors.push(byKey.get(k)!);
    if (p.bnIndex !== undefined) {
      const n = BigInt(Math.round(layers[i].numBatchesTracked ?? 0));
      tensors.push({ name: `${p.bnIndex}.num_batches_tracked`, dtype: 'I64', shape: [], data: BigInt64Array.of(n) });
    }
  });
  const modules = plans.flatMap((p) => p.modules);
  return encodeSafetensors(tensors, { format: 'pt', producer, 'densenorm.modules': JSON.stringify(modules), 'densenorm.input_features': String(inputDim) });
}

const KEY_ORDER = ['weight', 'bias', 'running_mean', 'running_var'];
function rank(key: string): number {
  return KEY_ORDER.indexOf(key.slice(key.indexOf('.') + 1));
}

/** Values decodeTorch found for one densenorm layer, in its weight names. */
export interface DecodedTorchLayer {
  weights: Map<string, Float32Array>;
  numBatchesTracked?: number;
}

/**
 * Reads a state dict (written by encodeTorch or by PyTorch's safetensors.torch.save_file) for
 * layers of the given shapes. Every key must be expected and present (strict, as
 * load_state_dict), shapes must match, and where __metadata__ describes the modules, epsilons and
 * momenta must agree with the layers'. num_batches_tracked may be absent (torch fills it in).
 */
export function decodeTorch(buf: Buffer, layers: readonly LayerArtifact[], inputDim: number, source: string): DecodedTorchLayer[] {
  const fail = (msg: string): never => {
    throw new DensenormError(`${source}: ${msg}`, ERR_MODEL_FILE);
  };
  const { tensors, metadata } = decodeSafetensorsTyped(buf, source);
  const plans = torchPlan(layers, inputDim);
  const expected = new Set<string>();
  const floats = (key: string, shape: number[]): Float32Array => {
    expected.add(key);
    const t = tensors.get(key);
    if (!t) return fail(`missing tensor "${key}"`);
    if (t.shape.join(',') !== shape.join(',')) fail(`tensor "${key}" has shape [${t.shape}], expected [${shape}]`);
    if (t.dtype === 'I64') fail(`tensor "${key}" has dtype I64, expected F32 (or F64)`);
    return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as Float64Array);
  };
  let meta: unknown;
  if (metadata['densenorm.modules'] !== undefined) {
    try {
      meta = JSON.parse(metadata['densenorm.modules']);
    } catch {
      fail('__metadata__["densenorm.modules"] is not JSON');
    }
    if (!Array.isArray(meta)) fail('__metadata__["densenorm.modules"] is not an array');
    const mine = plans.flatMap((p) => p.modules);
    const theirs = meta as unknown[];
    if (theirs.length !== mine.length) fail(`the file describes ${theirs.length} modules, this model has ${mine.length} (${mine.map((m) => m.type).join(', ')})`);
  }
  let moduleIndex = 0;
  const out = plans.map((p, li) => {
    const weights = new Map<string, Float32Array>();
    for (const s of p.slots) {
      const v = floats(s.key, s.shape);
      weights.set(s.weight, s.transpose ? transpose(v, s.transpose[1], s.transpose[0]) : v);
    }
    for (const f of p.fixed ?? []) {
      const n = (p.modules[0] as { num_features: number }).num_features;
      const v = floats(f.key, [n]);
      if (v.some((x) => x !== f.value)) {
        fail(`tensor "${f.key}" is not all ${f.value}s, but layer "${String(layers[li].config.name)}" has ${f.value === 1 ? 'scale' : 'center'}: false`);
      }
    }
    let numBatchesTracked: number | undefined;
    if (p.bnIndex !== undefined) {
      const key = `${p.bnIndex}.num_batches_tracked`;
      expected.add(key);
      const t = tensors.get(key);
      if (t) {
        if (t.dtype !== 'I64' || t.shape.length !== 0) fail(`tensor "${key}" must be a 0-d I64`);
        const n = (t.data as BigInt64Array)[0];
        if (n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) fail(`tensor "${key}" is ${n}, not a count`);
        numBatchesTracked = Number(n);
      }
    }
    if (meta !== undefined) {
      for (const m of p.modules) {
        const theirs = (meta as unknown[])[moduleIndex];
        const t = (typeof theirs === 'object' && theirs !== null ? theirs : {}) as Record<string, unknown>;
        if (t.type !== m.type) fail(`module ${moduleIndex} is ${JSON.stringify(t.type)} in the file but ${m.type} in this model`);
        if (m.type === 'BatchNorm1d') {
          const layer = String(layers[li].config.name);
          if (typeof t.eps !== 'number' || Math.fround(t.eps) !== Math.fround(m.eps)) {
            fail(`module ${moduleIndex} (BatchNorm1d) has eps ${String(t.eps)}, but layer "${layer}" has epsilon ${m.eps}`);
          }
          // torch momentum m_t weighs the new batch: densenorm momentum = 1 − m_t.
          const same = t.momentum === null ? m.momentum === null : typeof t.momentum === 'number' && m.momentum !== null && Math.abs(t.momentum - m.momentum) < 1e-6;
          if (!same) {
            const want = t.momentum === null ? 'null (cumulative average)' : typeof t.momentum === 'number' ? String(1 - t.momentum) : '?';
            fail(`module ${moduleIndex} (BatchNorm1d) has torch momentum ${String(t.momentum)}, so layer "${layer}" needs momentum ${want} (densenorm/Keras convention: 1 − torch's) but has ${m.momentum === null ? 'null' : 1 - m.momentum}`);
          }
        }
        moduleIndex++;
      }
    }
    return { weights, numBatchesTracked };
  });
  for (const k of tensors.keys()) if (!expected.has(k)) fail(`unexpected tensor "${k}"`);
  return out;
}

/**
 * ONNX export (IR 8, opset 17: Gemm, BatchNormalization, Relu/Sigmoid/Tanh/Softmax) with a dynamic
 * batch dimension, from plain ModelArtifacts. The protobuf encoder is the ~60 lines below rather
 * than a dependency: a writer of the handful of onnx.proto messages needs only varints, fixed32
 * floats and length-delimited fields (field numbers from onnx/onnx.proto3, see formats.md §2).
 */
import { DensenormError } from '../errors';
import type { LayerArtifact, ModelArtifacts } from './model_files';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

// --- protobuf wire format ------------------------------------------------------------------------

/** A message under construction: fields appended in order, nested messages encoded first. */
class Pb {
  private readonly parts: Uint8Array[] = [];
  private len = 0;

  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.len += b.length;
  }

  private varint(v: bigint | number): void {
    let x = BigInt.asUintN(64, BigInt(v)); // negative int64 values are 10-byte two's complement varints
    const out: number[] = [];
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.push(Uint8Array.from(out));
  }

  private key(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, v: number | bigint): this {
    this.key(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.key(field, 2);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  msg(field: number, m: Pb): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.len);
    let pos = 0;
    for (const p of this.parts) {
      out.set(p, pos);
      pos += p.length;
    }
    return out;
  }
}

// onnx.proto enums
const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_FLOAT = 1;
const ATTR_INT = 2;

/** TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian float32). */
function tensorProto(name: string, dims: number[], data: Float32Array): Pb {
  const t = new Pb();
  for (const d of dims) t.int(1, d);
  t.int(2, FLOAT).string(8, name);
  const raw = new Uint8Array(data.length * 4);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) dv.setFloat32(4 * i, data[i], true);
  return t.bytes(9, raw);
}

type Attr = { name: string; f: number } | { name: string; i: number };

/** NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5 (AttributeProto: name 1, f 2, i 3, type 20). */
function nodeProto(op: string, name: string, inputs: string[], outputs: string[], attrs: Attr[] = []): Pb {
  const n = new Pb();
  for (const i of inputs) n.string(1, i);
  for (const o of outputs) n.string(2, o);
  n.string(3, name).string(4, op);
  for (const a of attrs) {
    const p = new Pb().string(1, a.name);
    if ('f' in a) p.float(2, a.f).int(20, ATTR_FLOAT);
    else p.int(3, a.i).int(20, ATTR_INT);
    n.msg(5, p);
  }
  return n;
}

/** ValueInfoProto for a float [batch, features] tensor; the batch is the symbolic dim "batch". */
function valueInfo(name: string, features: number): Pb {
  const shape = new Pb().msg(1, new Pb().string(2, 'batch')).msg(1, new Pb().int(1, features));
  const tensorType = new Pb().int(1, FLOAT).msg(2, shape);
  return new Pb().string(1, name).msg(2, new Pb().msg(1, tensorType));
}

// --- the graph -----------------------------------------------------------------------------------

export interface OnnxOptions {
  /** Folds each BatchNormalization that directly follows a linear Dense into that Gemm. Default false. */
  foldBatchNorm?: boolean;
  /** producer_version of the ModelProto. */
  producerVersion?: string;
}

const ACT_OPS: Record<string, string | undefined> = { linear: undefined, relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', softmax: 'Softmax' };

/** Serializes the artifacts as an ONNX ModelProto; the graph's input is "input" [batch, inputDim], its output "output". */
export function encodeOnnx(artifacts: ModelArtifacts, options: OnnxOptions = {}): Uint8Array {
  const tensors = new Map(artifacts.tensors.map((t) => [t.name, t]));
  const weight = (l: LayerArtifact, w: string): Float32Array | undefined => tensors.get(`${String(l.config.name)}/${w}`)?.data;
  const graph = new Pb();
  const nodes: { op: string; name: string; inputs: string[]; outputs: string[]; attrs?: Attr[] }[] = [];
  const initializers: Pb[] = [];
  let current = 'input';
  let dim = artifacts.inputDim;
  let k = 0;
  const next = (): string => `t${k++}`;
  const activation = (act: unknown, name: string): void => {
    const op = ACT_OPS[String(act)];
    if (op === undefined) {
      if (act === 'linear' || act === undefined) return;
      throw new DensenormError(`Activation ${JSON.stringify(act)} of layer "${name}" has no ONNX mapping here`, 'ERR_DENSENORM');
    }
    const out = next();
    nodes.push({ op, name: `${name}/${op}`, inputs: [current], outputs: [out], attrs: op === 'Softmax' ? [{ name: 'axis', i: -1 }] : [] });
    current = out;
  };
  const layers = artifacts.layers;
  for (let li = 0; li < layers.length; li++) {
    const l = layers[li];
    const c = l.config;
    const name = String(c.name);
    if (l.className === 'Dense') {
      const units = c.units as number;
      let kernel = weight(l, 'kernel')!;
      let bias = weight(l, 'bias');
      const bn = layers[li + 1];
      // Fold: s = γ/√(σ²+ε), W' = W·diag(s), b' = (b − μ)·s + β (in float64, rounded once).
      if (options.foldBatchNorm && (c.activation ?? 'linear') === 'linear' && bn?.className === 'BatchNormalization') {
        const eps = bn.config.epsilon as number;
        const gamma = weight(bn, 'gamma');
        const beta = weight(bn, 'beta');
        const mean = weight(bn, 'moving_mean')!;
        const variance = weight(bn, 'moving_variance')!;
        const s = Array.from({ length: units }, (_, j) => (gamma ? gamma[j] : 1) / Math.sqrt(variance[j] + Math.fround(eps)));
        const folded = new Float32Array(kernel.length);
        for (let i = 0; i < dim; i++) for (let j = 0; j < units; j++) folded[i * units + j] = kernel[i * units + j] * s[j];
        kernel = folded;
        bias = Float32Array.from({ length: units }, (_, j) => ((bias ? bias[j] : 0) - mean[j]) * s[j] + (beta ? beta[j] : 0));
        li++;
      }
      initializers.push(tensorProto(`${name}/kernel`, [dim, units], kernel));
      const inputs = [current, `${name}/kernel`];
      if (bias) {
        initializers.push(tensorProto(`${name}/bias`, [units], bias));
        inputs.push(`${name}/bias`);
      }
      const out = next();
      nodes.push({ op: 'Gemm', name: `${name}/Gemm`, inputs, outputs: [out], attrs: [{ name: 'alpha', f: 1 }, { name: 'beta', f: 1 }, { name: 'transA', i: 0 }, { name: 'transB', i: 0 }] });
      current = out;
      dim = units;
      activation(c.activation ?? 'linear', name);
    } else if (l.className === 'BatchNormalization') {
      const ones = new Float32Array(dim).fill(1);
      const zeros = new Float32Array(dim);
      const parts: [string, Float32Array][] = [
        ['gamma', weight(l, 'gamma') ?? ones],
        ['beta', weight(l, 'beta') ?? zeros],
        ['moving_mean', weight(l, 'moving_mean')!],
        ['moving_variance', weight(l, 'moving_variance')!],
      ];
      for (const [w, v] of parts) initializers.push(tensorProto(`${name}/${w}`, [dim], v));
      const out = next();
      nodes.push({ op: 'BatchNormalization', name: `${name}/BatchNormalization`, inputs: [current, ...parts.map(([w]) => `${name}/${w}`)], outputs: [out], attrs: [{ name: 'epsilon', f: c.epsilon as number }] });
      current = out;
    } else if (l.className === 'Activation') {
      activation(c.activation, name);
    } else if (l.className === 'Dropout') {
      // The identity at inference.
    } else {
      throw new DensenormError(`Layer class "${l.className}" is not supported in the ONNX format (supported: Dense, BatchNormalization, Activation, Dropout)`, 'ERR_DENSENORM');
    }
  }
  // The last node writes "output" itself; a graph of Dropouts only is one Identity.
  if (nodes.length === 0) nodes.push({ op: 'Identity', name: 'identity', inputs: ['input'], outputs: ['output'] });
  else nodes[nodes.length - 1].outputs = ['output'];
  for (const n of nodes) graph.msg(1, nodeProto(n.op, n.name, n.inputs, n.outputs, n.attrs));
  graph.string(2, artifacts.name ?? 'densenorm');
  for (const t of initializers) graph.msg(5, t);
  graph.msg(11, valueInfo('input', artifacts.inputDim));
  graph.msg(12, valueInfo('output', dim));
  // ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, graph = 7, opset_import = 8.
  const model = new Pb()
    .int(1, ONNX_IR_VERSION)
    .string(2, 'densenorm')
    .string(3, options.producerVersion ?? '')
    .msg(7, graph)
    .msg(8, new Pb().string(1, '').int(2, ONNX_OPSET));
  return model.finish();
}

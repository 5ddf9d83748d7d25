// The dynamically quantized ONNX graph of a folded Dense chain, as onnxruntime's
// quantize_dynamic (QOperator, weight_type QInt8, per-tensor) writes it: per Dense,
// DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_q, x_zp, 0) → Cast(float) → Mul(x_scale·w_scale)
// → Add(bias) → activation. A minimal protobuf writer: only the fields the graph needs.
const varint = (n) => {
  const out = [];
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
};
class Pb {
  parts = [];
  key(f, w) { this.parts.push(Uint8Array.from(varint((f << 3) | w))); return this; }
  int(f, v) { this.key(f, 0); this.parts.push(Uint8Array.from(varint(v))); return this; }
  float(f, v) { this.key(f, 5); const b = new Uint8Array(4); new DataView(b.buffer).setFloat32(0, v, true); this.parts.push(b); return this; }
  bytes(f, b) { this.key(f, 2); this.parts.push(Uint8Array.from(varint(b.length)), b); return this; }
  str(f, s) { return this.bytes(f, new TextEncoder().encode(s)); }
  msg(f, m) { return this.bytes(f, m.finish()); }
  finish() {
    const n = this.parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of this.parts) { out.set(p, o); o += p.length; }
    return out;
  }
}
const FLOAT = 1, UINT8 = 2, INT8 = 3;
function tensor(name, dims, type, data) {
  const t = new Pb();
  for (const d of dims) t.int(1, d);
  t.int(2, type).str(8, name);
  return t.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}
function node(op, name, inputs, outputs, attrs = []) {
  const n = new Pb();
  for (const i of inputs) n.str(1, i);
  for (const o of outputs) n.str(2, o);
  n.str(3, name).str(4, op);
  for (const a of attrs) n.msg(5, new Pb().str(1, a.name).int(3, a.i).int(20, 2));
  return n;
}
function valueInfo(name, features) {
  const shape = new Pb().msg(1, new Pb().str(2, 'batch')).msg(1, new Pb().int(1, features));
  return new Pb().str(1, name).msg(2, new Pb().msg(1, new Pb().int(1, FLOAT).msg(2, shape)));
}

/** ONNX bytes for a Sequential of Dense (+ relu/softmax) layers, input "input", output "output". */
export function writeOnnxDynamicQuant(model) {
  const g = new Pb();
  const inits = [];
  let cur = 'input';
  let dim = model.inputDim;
  const dense = model.layers.filter((l) => l.className === 'Dense');
  dense.forEach((l, li) => {
    const [kernel, bias] = ['kernel', 'bias'].map((n) => l.weights.find((x) => x.name === n).value);
    const units = l.units;
    let m = 0;
    for (const v of kernel) m = Math.max(m, Math.abs(v));
    const s = m > 0 ? m / 127 : 1;
    const wq = Int8Array.from(kernel, (v) => Math.max(-127, Math.min(127, Math.round(v / s))));
    const p = `l${li}`;
    inits.push(tensor(`${p}_W`, [dim, units], INT8, wq), tensor(`${p}_Wzp`, [], INT8, new Int8Array(1)),
      tensor(`${p}_Ws`, [], FLOAT, Float32Array.of(s)), tensor(`${p}_b`, [units], FLOAT, bias));
    g.msg(1, node('DynamicQuantizeLinear', `${p}_dql`, [cur], [`${p}_xq`, `${p}_xs`, `${p}_xzp`]));
    g.msg(1, node('MatMulInteger', `${p}_mmi`, [`${p}_xq`, `${p}_W`, `${p}_xzp`, `${p}_Wzp`], [`${p}_acc`]));
    g.msg(1, node('Cast', `${p}_cast`, [`${p}_acc`], [`${p}_accf`], [{ name: 'to', i: FLOAT }]));
    g.msg(1, node('Mul', `${p}_scale`, [`${p}_xs`, `${p}_Ws`], [`${p}_s`]));
    g.msg(1, node('Mul', `${p}_mul`, [`${p}_accf`, `${p}_s`], [`${p}_y`]));
    const last = li === dense.length - 1;
    const act = l.activation;
    const addOut = act === 'linear' ? (last ? 'output' : `${p}_out`) : `${p}_z`;
    g.msg(1, node('Add', `${p}_add`, [`${p}_y`, `${p}_b`], [addOut]));
    cur = addOut;
    if (act === 'relu' || act === 'softmax') {
      const out = last ? 'output' : `${p}_out`;
      g.msg(1, node(act === 'relu' ? 'Relu' : 'Softmax', `${p}_act`, [addOut], [out], act === 'softmax' ? [{ name: 'axis', i: -1 }] : []));
      cur = out;
    } else if (act !== 'linear') {
      throw new Error(`onnx_dynq: activation ${act} not handled`);
    }
    dim = units;
  });
  g.str(2, 'w2_dynamic_quant');
  for (const t of inits) g.msg(5, t);
  g.msg(11, valueInfo('input', model.inputDim)).msg(12, valueInfo('output', dim));
  return new Pb().int(1, 8).str(2, 'densenorm-bench').msg(7, g).msg(8, new Pb().str(1, '').int(2, 17)).finish();
}

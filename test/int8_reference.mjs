// Bit-level JavaScript reference of the int8 chain (cpp/include/densenorm/int8.h's contract):
// exact integer sums, then the epilogue's fp32 ops one Math.fround at a time.
const f = Math.fround;
const fmax = (a, b) => (a > b ? a : b);
const fmin = (a, b) => (a < b ? a : b);
/** Round half to even (the values here are small: |x| <= 255). */
export function rne(x) {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
export function quantizeRef(x, inv, zp) {
  return rne(fmin(fmax(f(f(x * inv) + zp), 0), 255));
}

/** spec as QuantizedNet takes it; x Float32Array [rows × in]; returns Float32Array [rows × out]. */
export function int8ForwardRef(spec, x, rows) {
  let a = Array.from(x, (v) => quantizeRef(v, f(spec.inputInv), f(spec.inputZeroPoint)));
  let out;
  spec.layers.forEach((l, li) => {
    const last = li === spec.layers.length - 1;
    const next = new Array(rows * l.out);
    const colsum = new Array(l.out).fill(0);
    for (let k = 0; k < l.in; k++) for (let n = 0; n < l.out; n++) colsum[n] += l.weights[k * l.out + n];
    for (let i = 0; i < rows; i++) {
      for (let n = 0; n < l.out; n++) {
        let acc = 0;
        for (let k = 0; k < l.in; k++) acc += a[i * l.in + k] * l.weights[k * l.out + n];
        acc -= l.zeroPointIn * colsum[n];
        let y = f(f(f(acc) * l.mult[n]) + l.bias[n]);
        if (l.relu) y = y > 0 ? y : 0;
        next[i * l.out + n] = last ? y : quantizeRef(y, f(l.outInv), f(l.outZeroPoint));
      }
    }
    if (last) out = Float32Array.from(next);
    a = next;
  });
  return out;
}

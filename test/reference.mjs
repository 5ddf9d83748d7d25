// Float64 references for the native kernels: the oracle every ISA path is tested against.

export function rng(seed) {
  // mulberry32: tiny, deterministic test data
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomArray(n, rand, scale = 1, offset = 0) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale + offset;
  return a;
}

// C = op(A)·op(B) in float64. A is M×K (or K×M when ta), B is K×N (or N×K when tb).
export function gemmRef(ta, tb, M, N, K, A, B) {
  const C = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const a = ta ? A[k * M + i] : A[i * K + k];
        const b = tb ? B[j * K + k] : B[k * N + j];
        s += a * b;
      }
      C[i * N + j] = s;
    }
  return C;
}

const ACTS = ['linear', 'relu', 'sigmoid', 'tanh', 'softmax'];
export const actCode = (name) => ACTS.indexOf(name);

function actForward(name, X, rows, cols) {
  const Y = new Float64Array(X.length);
  for (let i = 0; i < rows; i++) {
    if (name === 'softmax') {
      let m = -Infinity;
      for (let j = 0; j < cols; j++) m = Math.max(m, X[i * cols + j]);
      let s = 0;
      for (let j = 0; j < cols; j++) s += Math.exp(X[i * cols + j] - m);
      for (let j = 0; j < cols; j++) Y[i * cols + j] = Math.exp(X[i * cols + j] - m) / s;
      continue;
    }
    for (let j = 0; j < cols; j++) {
      const x = X[i * cols + j];
      Y[i * cols + j] =
        name === 'relu' ? Math.max(0, x) : name === 'sigmoid' ? 1 / (1 + Math.exp(-x)) : name === 'tanh' ? Math.tanh(x) : x;
    }
  }
  return Y;
}

// dX from dY through act, given its output Y.
function actBackward(name, dY, Y, rows, cols) {
  const dX = new Float64Array(dY.length);
  for (let i = 0; i < rows; i++) {
    if (name === 'softmax') {
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += dY[i * cols + j] * Y[i * cols + j];
      for (let j = 0; j < cols; j++) dX[i * cols + j] = Y[i * cols + j] * (dY[i * cols + j] - dot);
      continue;
    }
    for (let j = 0; j < cols; j++) {
      const k = i * cols + j;
      const y = Y[k];
      const d = name === 'relu' ? (y > 0 ? 1 : 0) : name === 'sigmoid' ? y * (1 - y) : name === 'tanh' ? 1 - y * y : 1;
      dX[k] = dY[k] * d;
    }
  }
  return dX;
}

/**
 * One block: [Dense(W, b)] → pre → [BN] → post, float64.
 * spec: { in, out, kernel?, bias?, preAct, postAct, bn?: { gamma?, beta?, movingMean, movingVariance, epsilon, training } }
 * Returns { Y, cache } for blockBackward.
 */
export function blockForward(spec, X, B) {
  const { in: nin, out: n } = spec;
  let Z;
  if (spec.kernel) {
    Z = gemmRef(false, false, B, n, nin, X, spec.kernel);
    if (spec.bias) for (let i = 0; i < B; i++) for (let j = 0; j < n; j++) Z[i * n + j] += spec.bias[j];
  } else {
    Z = Float64Array.from(X);
  }
  const A = actForward(spec.preAct, Z, B, n);
  let U = A;
  let bnCache;
  if (spec.bn) {
    const bn = spec.bn;
    const mean = new Float64Array(n);
    const varr = new Float64Array(n);
    if (bn.training) {
      for (let i = 0; i < B; i++) for (let j = 0; j < n; j++) mean[j] += A[i * n + j] / B;
      for (let i = 0; i < B; i++) for (let j = 0; j < n; j++) varr[j] += (A[i * n + j] - mean[j]) ** 2 / B;
    } else {
      for (let j = 0; j < n; j++) {
        mean[j] = bn.movingMean[j];
        varr[j] = bn.movingVariance[j];
      }
    }
    const invstd = varr.map((v) => 1 / Math.sqrt(v + bn.epsilon));
    const xhat = new Float64Array(B * n);
    U = new Float64Array(B * n);
    for (let i = 0; i < B; i++)
      for (let j = 0; j < n; j++) {
        const k = i * n + j;
        xhat[k] = (A[k] - mean[j]) * invstd[j];
        U[k] = xhat[k] * (bn.gamma ? bn.gamma[j] : 1) + (bn.beta ? bn.beta[j] : 0);
      }
    bnCache = { mean, varr, invstd, xhat };
  }
  const Y = actForward(spec.postAct, U, B, n);
  return { Y, cache: { X, Z, A, U, Y, bnCache, B } };
}

export function blockBackward(spec, cache, dY) {
  const { in: nin, out: n } = spec;
  const { X, A, Y, bnCache, B } = cache;
  const dU = actBackward(spec.postAct, dY, Y, B, n);
  let dA = dU;
  const grads = {};
  if (spec.bn) {
    const { invstd, xhat } = bnCache;
    const g = (j) => (spec.bn.gamma ? spec.bn.gamma[j] : 1);
    const sumDu = new Float64Array(n);
    const sumDuXhat = new Float64Array(n);
    for (let i = 0; i < B; i++)
      for (let j = 0; j < n; j++) {
        sumDu[j] += dU[i * n + j];
        sumDuXhat[j] += dU[i * n + j] * xhat[i * n + j];
      }
    grads.gamma = sumDuXhat;
    grads.beta = sumDu;
    dA = new Float64Array(B * n);
    for (let i = 0; i < B; i++)
      for (let j = 0; j < n; j++) {
        const k = i * n + j;
        dA[k] = spec.bn.training
          ? g(j) * invstd[j] * (dU[k] - sumDu[j] / B - xhat[k] * sumDuXhat[j] / B)
          : g(j) * invstd[j] * dU[k];
      }
  }
  const dZ = actBackward(spec.preAct, dA, A, B, n);
  let dX = dZ;
  if (spec.kernel) {
    grads.kernel = gemmRef(true, false, nin, n, B, X, dZ);
    grads.bias = new Float64Array(n);
    for (let i = 0; i < B; i++) for (let j = 0; j < n; j++) grads.bias[j] += dZ[i * n + j];
    dX = gemmRef(false, true, B, nin, n, dZ, spec.kernel);
  }
  return { dX, grads };
}

// Max-abs error relative to the reference's max-abs (normwise, robust near zeros).
export function relErr(got, ref) {
  let maxRef = 0;
  let maxDiff = 0;
  let at = -1;
  for (let i = 0; i < ref.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
    const d = Math.abs(got[i] - ref[i]);
    if (!(d <= maxDiff)) {
      maxDiff = d;
      at = i;
    }
  }
  return { err: maxDiff / Math.max(maxRef, 1e-30), at, got: got[at], ref: ref[at] };
}

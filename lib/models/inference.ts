/** Inference over many rows in chunks the native workspace can hold; rows are independent of each other. */
import { MetricSums, NativeMetric } from '../metrics';
import type { NativeNet } from '../native';

/** Outputs of rows × inDim inputs, [rows, outDim] row-major. */
export function predictChunks(net: NativeNet, x: Float32Array, rows: number, inDim: number, outDim: number, chunk: number): Float32Array {
  const out = new Float32Array(rows * outDim);
  for (let r = 0; r < rows; r += chunk) {
    const n = Math.min(chunk, rows - r);
    net.predict(x.subarray(r * inDim, (r + n) * inDim), n, out.subarray(r * outDim, (r + n) * outDim));
  }
  return out;
}

/** predictChunks on a worker thread, one chunk at a time. */
export async function predictChunksAsync(net: NativeNet, x: Float32Array, rows: number, inDim: number, outDim: number, chunk: number): Promise<Float32Array> {
  const out = new Float32Array(rows * outDim);
  for (let r = 0; r < rows; r += chunk) {
    const n = Math.min(chunk, rows - r);
    await net.predictAsync(x.subarray(r * inDim, (r + n) * inDim), n, out.subarray(r * outDim, (r + n) * outDim));
  }
  return out;
}

/** Mean loss over the rows and accuracy (NaN when the loss counts none), in inference mode. */
export function evaluateChunks(
  net: NativeNet, x: Float32Array, y: Float32Array, rows: number, inDim: number, chunk: number, metrics: readonly NativeMetric[] = [],
): { loss: number; acc: number; metrics: Record<string, number> } {
  const yPerRow = y.length / rows;
  let loss = 0;
  let correct = 0;
  let count = 0;
  const sums = new MetricSums(metrics);
  for (let r = 0; r < rows; r += chunk) {
    const n = Math.min(chunk, rows - r);
    const res = net.evaluate(x.subarray(r * inDim, (r + n) * inDim), n, y.subarray(r * yPerRow, (r + n) * yPerRow));
    loss += res.loss * n;
    correct += res.correct;
    count += res.count;
    sums.add(res.metrics);
  }
  return { loss: loss / rows, acc: count > 0 ? correct / count : NaN, metrics: sums.values() };
}

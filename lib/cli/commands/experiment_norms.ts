/**
 * densenorm experiment --compare norms: the normalization family across batch sizes (after Wu &
 * He 2018, Figure 1) on the bundled MNIST split. One 784-100-100-100-10 ReLU network, the same
 * initial Dense weights for every method, Dense → norm → ReLU in each hidden layer, plain SGD at
 * a learning rate scaled linearly with the batch (Goyal et al. 2017), a fixed number of steps.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as dn from '../../index';
import { writeFileAtomic } from '../../io/atomic';
import { choiceFlag, flag, intFlag, numFlag, OptionSpec, parseCommandArgs, str } from '../args';
import { usageError } from '../errors';
import { BatchSampler, Dataset, formatTable, loadData, nullIfNaN, pct, timedStep } from '../experiment_common';
import { fmtInt, outputMode, Reporter } from '../progress';
import { lineChartSvg } from '../svg';

export const NORMS_OPTIONS: OptionSpec = {
  compare: { type: 'string' },
  'batch-sizes': { type: 'string' },
  steps: { type: 'string', short: 's' },
  'base-lr': { type: 'string' },
  'eval-every': { type: 'string' },
  hidden: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string', short: 'o' },
  json: { type: 'boolean' },
};

export const COMPARE_VALUES = ['norms'] as const;
const DEFAULT_BATCH_SIZES = [2, 4, 8, 16, 32, 128];
const DEFAULT_STEPS = 3000;
const TARGET = 0.9;

export const NORMS_HELP = `Usage: densenorm experiment --compare norms [options]

The normalization family across batch sizes (after Wu & He 2018, Figure 1) on the bundled MNIST
split (8,000 train / 2,000 test): a 784-100-100-100-10 network, Dense → norm → ReLU per hidden
layer, the same initial weights for every method, plain SGD at lr = base-lr × batch / 32, a fixed
number of steps. Methods: none, batchNorm, batchNorm + renorm (rmax 3, rmin 1/3, dmax 5), ghost
batch norm (virtualBatchSize = batch / 4; batches < 8 or not divisible by 4 are skipped, "—"),
layerNorm, groupNorm (10 groups of 10 features). Prints a table (final and best test accuracy,
steps to 90%); writes norms.svg (final test accuracy against batch size) and results.json.

  --batch-sizes LIST   comma-separated batch sizes, each >= 2 (default ${DEFAULT_BATCH_SIZES.join(',')})
  --steps N            training steps per run, every batch size (default ${fmtInt(DEFAULT_STEPS)})
  --base-lr X          SGD learning rate at batch 32 (default 0.1)
  --eval-every N       steps between test evaluations (default steps/20)
  --hidden N           units per hidden layer (default 100; groupNorm needs a multiple of 10)
  --seed N             initialization and batch order (default 1)
  --out DIR            where norms.svg and results.json go (default ./norms-experiment)
  --json               print results.json to stdout instead of the table`;

interface Method {
  id: string;
  title: string;
  color: string;
  /** The normalization layer for batch b; null: none. */
  layer(b: number): dn.Layer | null;
  /** Whether the method runs at batch b (default: always). */
  applies?(b: number): boolean;
  /** Its Keras-style configuration, for results.json. */
  config(b: number): Record<string, unknown> | null;
}

const RENORM_CLIPPING = { rmax: 3, rmin: 1 / 3, dmax: 5 };
const GROUPS = 10;
const ghostSize = (b: number) => (b >= 8 && b % 4 === 0 ? b / 4 : undefined);

const METHODS: Method[] = [
  { id: 'none', title: 'no normalization', color: '#7f7f7f', layer: () => null, config: () => null },
  { id: 'batchNorm', title: 'batch norm', color: '#1f77b4', layer: () => dn.layers.batchNormalization(), config: () => ({ className: 'BatchNormalization' }) },
  {
    id: 'batchRenorm',
    title: 'batch renorm',
    color: '#17becf',
    layer: () => dn.layers.batchNormalization({ renorm: true, renormClipping: RENORM_CLIPPING }),
    config: () => ({ className: 'BatchNormalization', renorm: true, renormClipping: RENORM_CLIPPING, renormMomentum: 0.99 }),
  },
  {
    id: 'ghostBatchNorm',
    title: 'ghost batch norm (b/4)',
    color: '#9467bd',
    layer: (b) => dn.layers.batchNormalization({ virtualBatchSize: ghostSize(b) }),
    config: (b) => (ghostSize(b) === undefined ? null : { className: 'BatchNormalization', virtualBatchSize: ghostSize(b) }),
    applies: (b) => ghostSize(b) !== undefined,
  },
  { id: 'layerNorm', title: 'layer norm', color: '#2ca02c', layer: () => dn.layers.layerNormalization(), config: () => ({ className: 'LayerNormalization' }) },
  {
    id: 'groupNorm',
    title: `group norm (${GROUPS} groups)`,
    color: '#d62728',
    layer: () => dn.layers.groupNormalization({ groups: GROUPS }),
    config: () => ({ className: 'GroupNormalization', groups: GROUPS }),
  },
];

interface NormRun {
  method: string;
  batchSize: number;
  /** Why the method was not run at this batch size, else null. */
  skipped: string | null;
  layer: Record<string, unknown> | null;
  learningRate: number;
  stepsRun: number;
  diverged: boolean;
  finalTestAccuracy: number;
  bestTestAccuracy: number;
  stepsTo90: number | null;
  msPerStep: number;
  /** FNV-1a of the Dense kernels as trained from: equal across methods means the same init. */
  initKernelHash: string;
  curve: { step: number[]; testAccuracy: number[] };
}

function parseBatchSizes(s: string | undefined, nTrain: number): number[] {
  if (s === undefined) return DEFAULT_BATCH_SIZES.filter((b) => b <= nTrain);
  const parts = s.split(',').map((p) => p.trim());
  const sizes = parts.map(Number);
  if (parts.some((p) => p === '') || sizes.some((b) => !Number.isSafeInteger(b) || b < 2)) {
    throw usageError(`--batch-sizes expects comma-separated integers >= 2 (batch norm needs 2 rows), got "${s}"`);
  }
  const big = sizes.find((b) => b > nTrain);
  if (big !== undefined) throw usageError(`--batch-sizes: ${big} is larger than the ${fmtInt(nTrain)} training rows`);
  return [...new Set(sizes)].sort((a, b) => a - b);
}

function kernelHash(model: dn.Sequential): string {
  let h = 0x811c9dc5;
  for (const l of model.layers) {
    if (!(l instanceof dn.Dense)) continue;
    const k = l.weights.find((w) => w.name === 'kernel')!;
    const bytes = new Uint8Array(k.value.buffer, k.value.byteOffset, k.value.byteLength);
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** Dense(hidden, linear) → norm → ReLU, three times, then Dense(classes, softmax); master weights copied into the Dense layers. */
function buildNet(ds: Dataset, hidden: number, norm: () => dn.Layer | null, master?: dn.Tensor[]): dn.Sequential {
  const m = dn.sequential();
  for (let i = 0; i < 3; i++) {
    m.add(dn.layers.dense({ units: hidden, kernelInitializer: 'heNormal', ...(i === 0 ? { inputShape: [ds.cols] } : {}) }));
    const n = norm();
    if (n) m.add(n);
    m.add(dn.layers.activation({ activation: 'relu' }));
  }
  m.add(dn.layers.dense({ units: ds.classes, activation: 'softmax', kernelInitializer: 'glorotUniform' }));
  if (master) {
    const dense = master.slice();
    const weights: dn.Tensor[] = [];
    for (const l of m.layers) {
      for (const w of l.weights) weights.push(l instanceof dn.Dense ? dense.shift()! : new dn.Tensor(w.value.slice(), w.shape));
    }
    m.setWeights(weights);
  }
  return m;
}

export async function experimentNorms(argv: string[]): Promise<number> {
  const values = parseCommandArgs('experiment --compare norms', argv, NORMS_OPTIONS);
  choiceFlag(values, 'compare', 'norms', COMPARE_VALUES);
  if (flag(values, 'help')) {
    console.log(NORMS_HELP);
    return 0;
  }
  const steps = intFlag(values, 'steps', DEFAULT_STEPS, 1, 10_000_000);
  const baseLr = numFlag(values, 'base-lr', 0.1, (v) => v > 0, 'a number > 0')!;
  const evalEvery = intFlag(values, 'eval-every', Math.max(1, Math.round(steps / 20)), 1);
  const hidden = intFlag(values, 'hidden', 100, 1, 1 << 16);
  if (hidden % GROUPS !== 0) throw usageError(`--hidden must be a multiple of ${GROUPS} (groupNorm's groups), got ${hidden}`);
  const seed = intFlag(values, 'seed', 1, 0, 2 ** 32 - 1);
  const outDir = str(values, 'out') ?? 'norms-experiment';
  const json = flag(values, 'json');
  const rep = new Reporter(json ? 'json' : outputMode(false));
  const ds = await loadData(undefined, undefined, seed);
  const nTrain = ds.yTrain.length;
  const batchSizes = parseBatchSizes(str(values, 'batch-sizes'), nTrain);

  const b = dn.backend();
  const arch = `${ds.cols}-${hidden}-${hidden}-${hidden}-${ds.classes} ReLU`;
  rep.info(`densenorm ${dn.version} · ${b.isa} · ${b.threads} threads`);
  rep.info(`Normalization family vs batch size (after Wu & He 2018, Fig. 1) · ${ds.name}`);
  rep.info(`${arch} · SGD, lr = ${baseLr} × batch / 32 · ${fmtInt(steps)} steps per run · test accuracy every ${evalEvery} steps`);

  dn.setSeed(seed);
  const masterNet = buildNet(ds, hidden, () => null);
  const master = masterNet.getWeights();
  masterNet.dispose();
  const runs: NormRun[] = [];
  const total = batchSizes.length * METHODS.length;
  const t0 = performance.now();
  for (const bs of batchSizes) {
    const lr = (baseLr * bs) / 32;
    for (const method of METHODS) {
      const base = { method: method.id, batchSize: bs, layer: method.config(bs), learningRate: lr };
      if (method.applies && !method.applies(bs)) {
        runs.push({ ...base, skipped: 'virtualBatchSize = batch/4 needs a batch >= 8 divisible by 4', stepsRun: 0, diverged: false, finalTestAccuracy: NaN, bestTestAccuracy: NaN, stepsTo90: null, msPerStep: NaN, initKernelHash: '', curve: { step: [], testAccuracy: [] } });
        rep.human(`run ${runs.length}/${total}  batch ${String(bs).padStart(4)}  ${method.id.padEnd(14)}  skipped (ghost batch needs batch >= 8)`);
        continue;
      }
      const model = buildNet(ds, hidden, () => method.layer(bs), master);
      model.compile({ optimizer: dn.optimizers.sgd({ learningRate: lr }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const initKernelHash = kernelHash(model);
      const curve = { step: [] as number[], testAccuracy: [] as number[] };
      const evalAt = (s: number) => {
        curve.step.push(s);
        curve.testAccuracy.push(model.evaluate(ds.xTest, ds.yTest).accuracy ?? NaN);
      };
      evalAt(0);
      const batches = new BatchSampler(ds, bs, seed + 1); // same batch order for every method
      let trainMs = 0;
      let stepsRun = 0;
      let diverged = false;
      for (let s = 1; s <= steps; s++) {
        batches.next();
        const { loss, ms } = timedStep(model, batches);
        trainMs += ms;
        stepsRun = s;
        if (!Number.isFinite(loss)) {
          diverged = true;
          curve.step.push(s);
          curve.testAccuracy.push(NaN);
          break;
        }
        if (s % evalEvery === 0 || s === steps) {
          evalAt(s);
          await new Promise((r) => setImmediate(r)); // lets Ctrl-C and output through
        }
      }
      model.dispose();
      const accs = curve.testAccuracy;
      const finite = accs.filter((a) => Number.isFinite(a));
      const hit = accs.findIndex((a) => a >= TARGET);
      const run: NormRun = {
        ...base,
        skipped: null,
        stepsRun,
        diverged,
        finalTestAccuracy: diverged ? NaN : accs[accs.length - 1],
        bestTestAccuracy: finite.length ? Math.max(...finite) : NaN,
        stepsTo90: hit >= 0 ? curve.step[hit] : null,
        msPerStep: stepsRun ? trainMs / stepsRun : NaN,
        initKernelHash,
        curve,
      };
      runs.push(run);
      rep.human(
        `run ${runs.length}/${total}  batch ${String(bs).padStart(4)}  ${method.id.padEnd(14)}  lr ${fmtLr(lr)}  final ${pct(run.finalTestAccuracy)}  ` +
          `best ${pct(run.bestTestAccuracy)}  steps to 90%: ${run.stepsTo90 ?? '—'}  ${run.msPerStep.toFixed(3)} ms/step${diverged ? `  (diverged at step ${stepsRun})` : ''}`,
      );
    }
  }
  const seconds = (performance.now() - t0) / 1000;

  const dash = '—';
  const head = ['method', 'batch', 'lr', 'final test acc', 'best test acc', 'steps to 90%', 'ms/step'];
  const rows = METHODS.flatMap((m) =>
    runs
      .filter((r) => r.method === m.id)
      .map((r) => [
        m.id,
        String(r.batchSize),
        fmtLr(r.learningRate),
        r.skipped ? dash : r.diverged ? `diverged@${r.stepsRun}` : pct(r.finalTestAccuracy),
        r.skipped ? dash : pct(r.bestTestAccuracy),
        r.skipped ? dash : r.stepsTo90 === null ? `> ${fmtInt(r.stepsRun)}` : fmtInt(r.stepsTo90),
        r.skipped ? dash : r.msPerStep.toFixed(3),
      ]),
  );
  const table = formatTable(head, rows, 1);
  const matrix = formatTable(
    ['final test acc', ...batchSizes.map((x) => `b=${x}`)],
    METHODS.map((m) => [m.id, ...batchSizes.map((x) => {
      const r = runs.find((q) => q.method === m.id && q.batchSize === x)!;
      return r.skipped ? dash : pct(r.finalTestAccuracy);
    })]),
    1,
  );

  const svg = lineChartSvg(
    [{
      title: `${fmtInt(steps)} steps per run, SGD at lr = ${baseLr} × batch / 32`,
      series: METHODS.map((m) => {
        const rs = runs.filter((r) => r.method === m.id && !r.skipped);
        return { label: m.title, x: rs.map((r) => r.batchSize), y: rs.map((r) => r.finalTestAccuracy), color: m.color, dashed: m.id === 'none' };
      }),
    }],
    { title: `Final test accuracy vs batch size · MNIST · ${arch}`, xLabel: 'batch size (log scale)', yLabel: 'final test accuracy', yFormat: (v) => `${Math.round(v * 100)}%`, xLog: true, markers: true, panelWidth: 640 },
  );
  const results = {
    experiment: 'Normalization family vs batch size (after Wu & He 2018, Figure 1): MNIST, 3 ReLU hidden layers',
    densenorm: dn.version,
    backend: b,
    node: process.version,
    date: new Date().toISOString(),
    data: ds.name,
    config: {
      architecture: arch,
      block: 'Dense (linear, bias) → normalization → ReLU',
      optimizer: 'sgd',
      baseLearningRate: baseLr,
      learningRateRule: 'baseLearningRate × batchSize / 32',
      steps,
      evalEvery,
      targetAccuracy: TARGET,
      seed,
      batchSizes,
      methods: METHODS.map((m) => ({ id: m.id, title: m.title })),
    },
    seconds,
    runs: runs.map((r) => ({
      ...r,
      finalTestAccuracy: nullIfNaN(r.finalTestAccuracy),
      bestTestAccuracy: nullIfNaN(r.bestTestAccuracy),
      msPerStep: nullIfNaN(r.msPerStep),
      curve: { step: r.curve.step, testAccuracy: r.curve.testAccuracy.map(nullIfNaN) },
    })),
  };
  await fs.promises.mkdir(outDir, { recursive: true });
  await writeFileAtomic(path.join(outDir, 'norms.svg'), svg);
  await writeFileAtomic(path.join(outDir, 'results.json'), JSON.stringify(results, null, 1) + '\n');
  if (json) {
    process.stdout.write(JSON.stringify(results) + '\n');
    return 0;
  }
  console.log('');
  for (const l of table) console.log(l);
  console.log('');
  for (const l of matrix) console.log(l);
  console.log('');
  console.log(`Wrote ${path.join(outDir, 'norms.svg')} and ${path.join(outDir, 'results.json')} (${seconds.toFixed(1)} s in all)`);
  return 0;
}

function fmtLr(v: number): string {
  return String(Number(v.toPrecision(4)));
}

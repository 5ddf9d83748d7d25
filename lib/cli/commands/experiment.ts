/**
 * densenorm experiment: Ioffe & Szegedy (2015), Figure 1(a), on the bundled MNIST split.
 * A 784-100-100-100-10 sigmoid network trained with and without batch normalization from the
 * same initial weights, mini-batches of 60, the same optimizer (plain SGD); plus the same pair
 * at a higher learning rate and from a badly scaled (×10) initialization. Reports what it
 * measures: steps to a target test accuracy, final test accuracy, time per step, curves.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as dn from '../../index';
import { writeFileAtomic } from '../../io/atomic';
import { flag, intFlag, numFlag, OptionSpec, parseCommandArgs, str } from '../args';
import { usageError } from '../errors';
import { BatchSampler, Dataset, formatTable, loadData, nullIfNaN, pct, timedStep } from '../experiment_common';
import { buildModel } from '../model_dir';
import { experimentNorms } from './experiment_norms';
import { fmtInt, outputMode, Reporter } from '../progress';
import { asciiChart, lineChartSvg, Panel } from '../svg';

export const EXPERIMENT_OPTIONS: OptionSpec = {
  data: { type: 'string', short: 'd' },
  label: { type: 'string', short: 'l' },
  steps: { type: 'string', short: 's' },
  'batch-size': { type: 'string', short: 'b' },
  lr: { type: 'string' },
  'high-lr': { type: 'string' },
  'init-std': { type: 'string' },
  'bad-init-scale': { type: 'string' },
  target: { type: 'string' },
  'eval-every': { type: 'string' },
  hidden: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string', short: 'o' },
  json: { type: 'boolean' },
};

export const EXPERIMENT_HELP = `Usage: densenorm experiment [options]

Reproduces Ioffe & Szegedy (2015), Figure 1(a), on the bundled MNIST split (8,000 train /
2,000 test): a 784-100-100-100-10 sigmoid network trained with and without batch normalization
from the same initial weights, batch 60, plain SGD; and the same pair at a higher learning rate
and from a badly scaled initialization. Prints a table (steps to the target test accuracy,
final test accuracy, time per step) and text curves; writes curves.svg and results.json.

  --steps N            training steps per run (default 3000; the paper ran 50,000)
  --batch-size N       rows per step (default 60)
  --lr X               SGD learning rate (default 0.1)
  --high-lr X          the higher learning rate (default 10 × --lr)
  --init-std X         std of the Gaussian initial weights (default 0.1)
  --bad-init-scale X   factor on the hidden-layer initial weights for the bad init (default 10)
  --target X           test accuracy the "steps to" column counts to (default 0.9)
  --eval-every N       steps between test evaluations (default steps/50)
  --hidden N           units per hidden layer (default 100)
  --seed N             initialization and batch order (default 1)
  --data FILE          a CSV/JSONL classification file instead (80/20 split, standardized)
  --label COLUMN       its label column (default: the last)
  --out DIR            where curves.svg and results.json go (default ./bn-experiment)
  --json               print results.json to stdout instead of the table
  --compare norms      instead: the normalization family (none, batch norm, renorm, ghost batch
                       norm, layer norm, group norm) across batch sizes; see
                       densenorm experiment --compare norms --help`;

interface Condition {
  id: string;
  title: string;
  lr: number;
  hiddenScale: number;
}

interface RunResult {
  id: string;
  condition: string;
  batchNorm: boolean;
  learningRate: number;
  initStd: number;
  hiddenInitScale: number;
  steps: number;
  stepsRun: number;
  diverged: boolean;
  divergedAt: number | null;
  stepsToTarget: number | null;
  finalTestAccuracy: number;
  finalTestLoss: number;
  bestTestAccuracy: number;
  msPerStep: number;
  curve: { step: number[]; testAccuracy: number[]; testLoss: number[] };
}

/** Initial weights shared by every run: Gaussian kernels, zero biases (no-BN layout). */
function masterWeights(cols: number, hidden: number, classes: number, std: number, seed: number): dn.Tensor[] {
  dn.setSeed(seed);
  const init = { className: 'randomNormal' as const, stddev: std };
  const m = dn.sequential();
  m.add(dn.layers.dense({ units: hidden, activation: 'sigmoid', inputShape: [cols], kernelInitializer: init }));
  m.add(dn.layers.dense({ units: hidden, activation: 'sigmoid', kernelInitializer: init }));
  m.add(dn.layers.dense({ units: hidden, activation: 'sigmoid', kernelInitializer: init }));
  m.add(dn.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init }));
  return m.getWeights();
}

/** A fresh model of the run's kind with the master kernels (hidden ones × scale) copied in. */
function modelFor(ds: Dataset, hidden: number, batchNorm: boolean, master: dn.Tensor[], hiddenScale: number): dn.Sequential {
  const model = buildModel({ inputDim: ds.cols, hidden: [hidden, hidden, hidden], activation: 'sigmoid', batchNorm, bnPosition: 'before', outputs: ds.classes, task: 'classification' });
  const kernels = [0, 2, 4, 6].map((i) => master[i]);
  const biases = [1, 3, 5, 7].map((i) => master[i]);
  const weights: dn.Tensor[] = [];
  let d = 0;
  for (const l of model.layers) {
    const isDense = l instanceof dn.Dense;
    for (const w of l.weights) {
      if (isDense && w.name === 'kernel') {
        const k = kernels[d];
        const scale = d < 3 ? hiddenScale : 1;
        weights.push(scale === 1 ? k : new dn.Tensor(Float32Array.from(k.data, (v) => v * scale), k.shape));
      } else if (isDense && w.name === 'bias') {
        weights.push(biases[d]);
      } else {
        weights.push(new dn.Tensor(w.value.slice(), w.shape));
      }
    }
    if (isDense) d++;
  }
  model.setWeights(weights);
  return model;
}

export async function experiment(argv: string[]): Promise<number> {
  if (argv.some((a) => a === '--compare' || a.startsWith('--compare='))) return experimentNorms(argv);
  const values = parseCommandArgs('experiment', argv, EXPERIMENT_OPTIONS);
  if (flag(values, 'help')) {
    console.log(EXPERIMENT_HELP);
    return 0;
  }
  const steps = intFlag(values, 'steps', 3000, 1, 10_000_000);
  const batchSize = intFlag(values, 'batch-size', 60, 2, 1 << 16);
  const lr = numFlag(values, 'lr', 0.1, (v) => v > 0, 'a number > 0')!;
  const highLr = numFlag(values, 'high-lr', lr * 10, (v) => v > 0, 'a number > 0')!;
  const initStd = numFlag(values, 'init-std', 0.1, (v) => v > 0, 'a number > 0')!;
  const badScale = numFlag(values, 'bad-init-scale', 10, (v) => v > 0, 'a number > 0')!;
  const target = numFlag(values, 'target', 0.9, (v) => v > 0 && v <= 1, 'an accuracy in (0, 1]')!;
  const evalEvery = intFlag(values, 'eval-every', Math.max(1, Math.round(steps / 50)), 1);
  const hidden = intFlag(values, 'hidden', 100, 1, 1 << 16);
  const seed = intFlag(values, 'seed', 1, 0, 2 ** 32 - 1);
  const outDir = str(values, 'out') ?? 'bn-experiment';
  const json = flag(values, 'json');
  const rep = new Reporter(json ? 'json' : outputMode(false));

  const ds = await loadData(str(values, 'data'), str(values, 'label'), seed);
  const nTrain = ds.yTrain.length;
  if (nTrain < batchSize) throw usageError(`--batch-size ${batchSize} is larger than the ${nTrain} training rows`);
  const b = dn.backend();
  const arch = `${ds.cols}-${hidden}-${hidden}-${hidden}-${ds.classes} sigmoid`;
  rep.info(`densenorm ${dn.version} · ${b.isa} · ${b.threads} threads`);
  rep.info(`Ioffe & Szegedy (2015) Fig. 1a · ${ds.name}`);
  rep.info(`${arch} · batch ${batchSize} · SGD · ${fmtInt(steps)} steps per run · test accuracy every ${evalEvery} steps · target ${(target * 100).toFixed(1)}%`);

  const conditions: Condition[] = [
    { id: 'baseline', title: `Baseline (lr ${lr}, init N(0, ${initStd}²))`, lr, hiddenScale: 1 },
    { id: 'high-lr', title: `Higher learning rate (lr ${highLr})`, lr: highLr, hiddenScale: 1 },
    { id: 'bad-init', title: `Badly scaled init (hidden weights ×${badScale})`, lr, hiddenScale: badScale },
  ];
  const master = masterWeights(ds.cols, hidden, ds.classes, initStd, seed);
  const runs: RunResult[] = [];
  const t0 = performance.now();
  for (const cond of conditions) {
    for (const batchNorm of [false, true]) {
      const model = modelFor(ds, hidden, batchNorm, master, cond.hiddenScale);
      model.compile({ optimizer: dn.optimizers.sgd({ learningRate: cond.lr }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const id = `${cond.id}${batchNorm ? '+bn' : ''}`;
      const curve = { step: [] as number[], testAccuracy: [] as number[], testLoss: [] as number[] };
      const evalAt = (s: number) => {
        const r = model.evaluate(ds.xTest, ds.yTest);
        curve.step.push(s);
        curve.testAccuracy.push(r.accuracy ?? NaN);
        curve.testLoss.push(r.loss);
      };
      evalAt(0);
      // Same batch order in every run.
      const batches = new BatchSampler(ds, batchSize, seed + 1);
      let trainMs = 0;
      let diverged = false;
      let divergedAt: number | null = null;
      let stepsRun = 0;
      rep.startEpoch(runs.length + 1, 6, steps, false);
      for (let s = 1; s <= steps; s++) {
        batches.next();
        const { loss, ms } = timedStep(model, batches);
        trainMs += ms;
        stepsRun = s;
        if (!Number.isFinite(loss)) {
          diverged = true;
          divergedAt = s;
          curve.step.push(s);
          curve.testAccuracy.push(NaN);
          curve.testLoss.push(NaN);
          break;
        }
        if (s % evalEvery === 0 || s === steps) {
          evalAt(s);
          const dt = performance.now() - t0;
          rep.batch(s, loss, undefined, (s * batchSize) / (trainMs / 1000));
          if (dt > 0) await new Promise((r) => setImmediate(r));
        }
      }
      rep.stop();
      const accs = curve.testAccuracy;
      const hit = accs.findIndex((a) => a >= target);
      const finite = accs.filter((a) => Number.isFinite(a));
      const last = curve.testAccuracy.length - 1;
      const run: RunResult = {
        id,
        condition: cond.title,
        batchNorm,
        learningRate: cond.lr,
        initStd,
        hiddenInitScale: cond.hiddenScale,
        steps,
        stepsRun,
        diverged,
        divergedAt,
        stepsToTarget: hit >= 0 ? curve.step[hit] : null,
        finalTestAccuracy: diverged ? NaN : accs[last],
        finalTestLoss: diverged ? NaN : curve.testLoss[last],
        bestTestAccuracy: finite.length ? Math.max(...finite) : NaN,
        msPerStep: stepsRun ? trainMs / stepsRun : NaN,
        curve,
      };
      runs.push(run);
      model.dispose();
      rep.human(
        `run ${runs.length}/6  ${id.padEnd(12)}  final test accuracy ${pct(run.finalTestAccuracy)}  ` +
          `steps to ${(target * 100).toFixed(0)}%: ${run.stepsToTarget ?? 'not reached'}  ${run.msPerStep.toFixed(3)} ms/step` +
          (diverged ? `  (diverged at step ${divergedAt})` : ''),
      );
    }
  }
  const totalSeconds = (performance.now() - t0) / 1000;

  // Table
  const head = ['condition', 'batch norm', 'lr', 'init', `steps to ${(target * 100).toFixed(0)}%`, 'final test acc', 'best test acc', 'ms/step'];
  const rows = runs.map((r) => [
    conditions.find((c) => r.id.startsWith(c.id))!.id,
    r.batchNorm ? 'yes' : 'no',
    String(r.learningRate),
    r.hiddenInitScale === 1 ? `N(0,${initStd}²)` : `×${r.hiddenInitScale}`,
    r.stepsToTarget === null ? (r.diverged ? `diverged@${r.divergedAt}` : `> ${fmtInt(r.stepsRun)}`) : fmtInt(r.stepsToTarget),
    pct(r.finalTestAccuracy),
    pct(r.bestTestAccuracy),
    r.msPerStep.toFixed(3),
  ]);
  const tableLines = formatTable(head, rows, 2);

  // Charts
  const panels: Panel[] = conditions.map((c) => ({
    title: c.title,
    hline: { y: target, label: `target ${(target * 100).toFixed(0)}%` },
    series: [false, true].map((bn) => {
      const r = runs.find((x) => x.id === `${c.id}${bn ? '+bn' : ''}`)!;
      return { label: bn ? 'with batch norm' : 'without batch norm', x: r.curve.step, y: r.curve.testAccuracy, color: bn ? '#d62728' : '#1f77b4', dashed: !bn };
    }),
  }));
  const chartOpts = {
    title: `Test accuracy vs training steps · ${arch} · batch ${batchSize} · SGD · ${ds.name.split(':')[0]}`,
    xLabel: 'training steps',
    yLabel: 'test accuracy',
    yMax: 1,
    yFormat: (v: number) => `${Math.round(v * 100)}%`,
  };
  const svg = lineChartSvg(panels, chartOpts);
  const results = {
    experiment: 'Ioffe & Szegedy (2015), Figure 1(a): MNIST, 3 sigmoid hidden layers, with vs without batch normalization',
    densenorm: dn.version,
    backend: b,
    node: process.version,
    date: new Date().toISOString(),
    data: ds.name,
    config: { architecture: arch, batchSize, optimizer: 'sgd', learningRate: lr, highLearningRate: highLr, initStd, badInitScale: badScale, steps, evalEvery, targetAccuracy: target, seed, bnPosition: 'before the sigmoid (Dense without bias → BN → sigmoid)' },
    seconds: totalSeconds,
    runs: runs.map((r) => ({ ...r, finalTestAccuracy: nullIfNaN(r.finalTestAccuracy), finalTestLoss: nullIfNaN(r.finalTestLoss), bestTestAccuracy: nullIfNaN(r.bestTestAccuracy), msPerStep: nullIfNaN(r.msPerStep), curve: { step: r.curve.step, testAccuracy: r.curve.testAccuracy.map(nullIfNaN), testLoss: r.curve.testLoss.map(nullIfNaN) } })),
  };
  await fs.promises.mkdir(outDir, { recursive: true });
  await writeFileAtomic(path.join(outDir, 'curves.svg'), svg);
  await writeFileAtomic(path.join(outDir, 'results.json'), JSON.stringify(results, null, 1) + '\n');

  if (json) {
    process.stdout.write(JSON.stringify(results) + '\n');
    return 0;
  }
  console.log('');
  for (const l of tableLines) console.log(l);
  for (const p of panels) {
    console.log('');
    for (const l of asciiChart(p, { ...chartOpts, width: 60, height: 12, marks: ['o', '#'] })) console.log(l);
  }
  console.log('');
  console.log(`Wrote ${path.join(outDir, 'curves.svg')} and ${path.join(outDir, 'results.json')} (${totalSeconds.toFixed(1)} s in all)`);
  return 0;
}

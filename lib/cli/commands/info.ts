/** densenorm info: version, kernel ISA, threads; with --model, the model summary and its data. */
import * as dn from '../../index';
import { flag, OptionSpec, parseCommandArgs, str } from '../args';
import { loadModelDir } from '../model_dir';

export const INFO_OPTIONS: OptionSpec = {
  model: { type: 'string', short: 'm' },
  json: { type: 'boolean' },
};

export const INFO_HELP = `Usage: densenorm info [--model DIR] [--json]

Prints the densenorm version, the active kernel ISA (scalar | avx2 | avx512 | neon), the native
thread count, whether mixed_bfloat16 runs avx512_bf16 natively, and with --model the summary of a saved model and what it was trained on.`;

export async function info(argv: string[]): Promise<number> {
  const values = parseCommandArgs('info', argv, INFO_OPTIONS);
  if (flag(values, 'help')) {
    console.log(INFO_HELP);
    return 0;
  }
  const b = dn.backend();
  const dir = str(values, 'model');
  const loaded = dir === undefined ? undefined : await loadModelDir(dir);
  if (flag(values, 'json')) {
    const lp = dn.lowPrecisionInfo();
    const o: Record<string, unknown> = { version: dn.version, isa: b.isa, threads: b.threads, int8: lp.int8Path, avx512Vnni: lp.vnni, avx512Bf16: lp.avx512bf16, node: process.version, platform: `${process.platform}-${process.arch}`, bf16: dn.bf16Support() };
    if (loaded) {
      o.model = {
        dir,
        inputDim: loaded.model.inputDim,
        outputDim: loaded.model.outputDim,
        params: loaded.model.countParams(),
        layers: loaded.model.layers.map((l) => ({ name: l.name, className: 'className' in l ? l.className : 'QuantizedDense' })),
        task: loaded.pre.task,
        label: loaded.pre.label,
        classes: loaded.pre.classes,
        source: loaded.pre.source,
        training: loaded.pre.training,
      };
    }
    console.log(JSON.stringify(o));
    return 0;
  }
  console.log(`densenorm ${dn.version}`);
  console.log(`isa:       ${b.isa}`);
  console.log(`threads:   ${b.threads}`);
  const bf = dn.bf16Support();
  console.log(`bf16:      ${bf.native ? 'native (avx512_bf16)' : `emulated (${bf.avx512Bf16 ? 'avx512_bf16 present but not used' : 'no avx512_bf16 on this CPU'})`}`);
  const lp = dn.lowPrecisionInfo();
  console.log(`int8:      ${lp.int8Path} kernels (avx512_vnni ${lp.vnni ? 'yes' : 'no'}); avx512_bf16 ${lp.avx512bf16 ? 'yes' : 'no'}`);
  console.log(`node:      ${process.version} (${process.platform}-${process.arch})`);
  if (loaded) {
    const { model, pre } = loaded;
    console.log('');
    console.log(`model:     ${dir}`);
    console.log(`task:      ${pre.task}${pre.classes ? ` (${pre.classes.length} classes: ${pre.classes.slice(0, 10).join(', ')}${pre.classes.length > 10 ? ', ...' : ''})` : ''}`);
    if (pre.raw) console.log(`inputs:    ${model.inputDim} features, unscaled (no preprocessing.json: a model from another runtime)`);
    else console.log(`trained on ${pre.source === 'mnist' ? 'the bundled MNIST' : pre.source}: ${pre.features.length} features, label "${pre.label}"`);
    const t = pre.training as Record<string, unknown> | undefined;
    if (t) {
      console.log(
        `training:  ${t.optimizer} lr ${t.learningRate}, batch ${t.batchSize}, ${t.epochsCompleted}/${t.epochs} epochs${t.interrupted ? ' (interrupted)' : ''}, seed ${t.seed}`,
      );
    }
    console.log('');
    model.summary();
  }
  return 0;
}

// densenorm quantize end to end (bundled MNIST and a CSV), and info's low-precision line.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from './helpers.mjs';

describe('densenorm quantize', function () {
  this.timeout(180000);
  let tmp;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dn-cli-quantize-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('quantizes a bundled-MNIST model within 0.5 pp and evaluate reads the int8 directory', async () => {
    const t = await runCli(tmp, ['train', '--layers', '64', '--epochs', '2', '--seed', '1', '--out', 'm']);
    expect(t.code, t.stderr).to.equal(0);
    const r = await runCli(tmp, ['quantize', '--model', 'm', '--out', 'mq', '--rows', '500', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const j = JSON.parse(r.stdout);
    expect(Math.abs(j.fp32TestAccuracy - j.int8TestAccuracy)).to.be.at.most(0.005);
    expect(j.weightsBytes / j.fp32WeightsBytes).to.be.below(0.3);
    expect(fs.readdirSync(path.join(tmp, 'mq')).sort()).to.deep.equal(['model.json', 'preprocessing.json', 'weights.safetensors']);
    const e = await runCli(tmp, ['evaluate', '--model', 'mq', '--json']);
    expect(e.code, e.stderr).to.equal(0);
    expect(JSON.parse(e.stdout).accuracy).to.equal(j.int8TestAccuracy);
  });

  it('calibrates on a CSV file, and reports bad usage', async () => {
    let s = 'a,b,label\n';
    for (let i = 0; i < 200; i++) s += `${Math.sin(i).toFixed(3)},${Math.cos(i * 0.3).toFixed(3)},${i % 2 ? 'x' : 'y'}\n`;
    fs.writeFileSync(path.join(tmp, 'd.csv'), s);
    const t = await runCli(tmp, ['train', '--data', 'd.csv', '--layers', '8', '--epochs', '2', '--out', 'c']);
    expect(t.code, t.stderr).to.equal(0);
    const r = await runCli(tmp, ['quantize', '--model', 'c', '--data', 'd.csv', '--out', 'cq']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/Wrote int8 model to cq/);
    const p = await runCli(tmp, ['predict', '--model', 'cq', '--data', 'd.csv']);
    expect(p.code, p.stderr).to.equal(0);
    const missing = await runCli(tmp, ['quantize', '--model', 'c', '--out', 'x']);
    expect(missing.code).to.not.equal(0);
    expect(missing.stderr).to.match(/--data FILE is required/);
    const rows = await runCli(tmp, ['quantize', '--model', 'c', '--data', 'd.csv', '--out', 'x', '--rows', '0']);
    expect(rows.stderr).to.match(/--rows must be a positive integer/);
  });

  it('info says whether the CPU runs int8 VNNI and bf16 natively', async () => {
    const r = await runCli(tmp, ['info', '--json']);
    const j = JSON.parse(r.stdout);
    expect(j.int8).to.be.oneOf(['scalar', 'avx2', 'avx512', 'avx512_vnni']);
    expect(j.avx512Vnni).to.be.a('boolean');
    expect(j.avx512Bf16).to.be.a('boolean');
    const h = await runCli(tmp, ['info']);
    expect(h.stdout).to.match(/^int8: .*avx512_vnni (yes|no).*avx512_bf16 (yes|no)$/m);
  });
});

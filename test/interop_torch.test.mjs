// PyTorch state dicts: densenorm's torch export loads with load_state_dict(strict=True) through the
// README's snippet and predicts the same in torch; a state dict written by PyTorch after training
// loads with loadWeights and predicts the same here. The torch checks run when /usr/bin/python3
// imports torch and skip with a message otherwise; the format checks below them always run.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dn, isa, rejects } from './helpers.mjs';
import { CONFIGS, X, configModel, maxAbsDiff, mnistModel, pythonEnv, tmpDir, torchAvailable } from './interop_helpers.mjs';
import { decodeSafetensorsTyped } from '../dist/io/safetensors.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The README's Python snippet that rebuilds the module (the first ```python block of "Models in and out"). */
function readmeSnippet() {
  const readme = fs.readFileSync(path.join(here, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Models in and out'));
  const m = /```python\n([\s\S]*?)```/.exec(section);
  expect(m, 'README python snippet').to.not.equal(null);
  return m[1];
}

// Stand-in for the safetensors package where python3-safetensors is not installed: the same
// load_file / safe_open(...).metadata() / save_file, on torch.frombuffer.
const SAFETENSORS_STANDIN = {
  '__init__.py': `
import json, struct
class safe_open:
    def __init__(self, path, framework): self.path = path
    def __enter__(self): return self
    def __exit__(self, *a): return False
    def metadata(self):
        b = open(self.path, 'rb').read()
        n = struct.unpack('<Q', b[:8])[0]
        return json.loads(b[8:8 + n]).get('__metadata__')
`,
  'torch.py': `
import json, struct, torch
_DT = {'F32': torch.float32, 'F64': torch.float64, 'I64': torch.int64}
_NAME = {v: k for k, v in _DT.items()}
def load_file(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n]); h.pop('__metadata__', None)
    data = b[8 + n:]
    out = {}
    for k, v in h.items():
        s, e = v['data_offsets']
        t = torch.frombuffer(bytearray(data[s:e]), dtype=_DT[v['dtype']]) if e > s else torch.zeros(0, dtype=_DT[v['dtype']])
        out[k] = t.reshape(v['shape']).clone()
    return out
def save_file(tensors, path, metadata=None):
    # as safetensors.serialize: sorted by dtype alignment (descending), then name
    items = sorted(tensors.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    header, off, blobs = {}, 0, []
    if metadata: header['__metadata__'] = metadata
    for k, t in items:
        raw = t.contiguous().numpy().tobytes()
        header[k] = {'dtype': _NAME[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(raw)]}
        off += len(raw); blobs.append(raw)
    j = json.dumps(header, separators=(',', ':')).encode()
    j += b' ' * ((8 - len(j) % 8) % 8)
    open(path, 'wb').write(struct.pack('<Q', len(j)) + j + b''.join(blobs))
`,
};

function python(script, cwd) {
  const env = pythonEnv();
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import safetensors.torch'], { encoding: 'utf8', env });
  if (probe.status !== 0) {
    const dir = path.join(cwd, 'standin', 'safetensors');
    fs.mkdirSync(dir, { recursive: true });
    for (const [f, text] of Object.entries(SAFETENSORS_STANDIN)) fs.writeFileSync(path.join(dir, f), text);
    env.PYTHONPATH = path.join(cwd, 'standin');
  }
  // A file, not -c: one argument may be at most 128 KiB on Linux.
  fs.writeFileSync(path.join(cwd, 'script.py'), script);
  const r = spawnSync('/usr/bin/python3', ['script.py'], { cwd, env, encoding: 'utf8', timeout: 120000 });
  expect(r.status, `python failed: ${r.error?.message ?? ''}\n${r.stderr}`).to.equal(0);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const PREDICT_TAIL = (x) => `
x = torch.tensor(${JSON.stringify(x)}, dtype=torch.float32)
with torch.no_grad():
    y = model(x)
print(json.dumps(y.flatten().tolist()))
`;

describe(`PyTorch state dicts (isa=${isa})`, function () {
  this.timeout(120000);
  let tmp;
  beforeEach(() => {
    tmp = tmpDir('torch');
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('writes torch.nn.Sequential names, [out, in] weights, an I64 num_batches_tracked and the modules', async () => {
    const m = configModel('dropout');
    m.layers[2].numBatchesTracked[0] = 17;
    const file = path.join(tmp, 'm.safetensors');
    await m.save(file, { format: 'torch' });
    const { tensors, metadata } = decodeSafetensorsTyped(fs.readFileSync(file));
    expect([...tensors.keys()]).to.deep.equal(['0.weight', '0.bias', '3.weight', '3.bias', '3.running_mean', '3.running_var', '3.num_batches_tracked', '5.weight', '5.bias']);
    expect(tensors.get('0.weight').shape).to.deep.equal([6, 3]);
    const k = m.layers[0].weights[0].value;
    expect(tensors.get('0.weight').data[1 * 3 + 2]).to.equal(k[2 * 6 + 1]); // W[o][i] = kernel[i][o]
    expect(tensors.get('3.num_batches_tracked')).to.include({ dtype: 'I64' });
    expect(tensors.get('3.num_batches_tracked').shape).to.deep.equal([]);
    expect(tensors.get('3.num_batches_tracked').data[0]).to.equal(17n);
    const modules = JSON.parse(metadata['densenorm.modules']);
    expect(modules.map((x) => x.type)).to.deep.equal(['Linear', 'ReLU', 'Dropout', 'BatchNorm1d', 'Dropout', 'Linear', 'Softmax']);
    expect(modules[3]).to.deep.include({ num_features: 6, eps: 0.001, affine: true });
    expect(modules[3].momentum).to.be.closeTo(0.01, 1e-12);
    expect(metadata.format).to.equal('pt');
  });

  for (const name of Object.keys(CONFIGS)) {
    it(`"${name}": save → loadWeights into a fresh model of the same shape predicts the same`, async () => {
      const m = configModel(name);
      const file = path.join(tmp, 'm.safetensors');
      await m.save(file, { format: 'torch' });
      const fresh = configModel(name, 99);
      await fresh.loadWeights(file, { format: 'torch' });
      expect(maxAbsDiff(fresh.predict(X).data, m.predict(X).data)).to.equal(0);
    });
  }

  it('loadWeights is strict and checks the epsilon and the converted momentum', async () => {
    const m = configModel('no bias → BN → relu');
    const file = path.join(tmp, 'm.safetensors');
    await m.save(file, { format: 'torch' });
    const other = (bn) => dn.sequential({ layers: [dn.layers.dense({ units: 5, inputShape: [3], useBias: false }), dn.layers.batchNormalization(bn), dn.layers.activation({ activation: 'relu' }), dn.layers.dense({ units: 3, activation: 'softmax' })] });
    let e = await rejects(other({ momentum: 0.9 }).loadWeights(file, { format: 'torch' }));
    expect(e.code).to.equal('ERR_MODEL_FILE');
    expect(e.message).to.match(/torch momentum 0\.01.*needs momentum 0\.99/);
    e = await rejects(other({ epsilon: 1e-5 }).loadWeights(file, { format: 'torch' }));
    expect(e.message).to.match(/eps 0\.001/);
    const wider = dn.sequential({ layers: [dn.layers.dense({ units: 6, inputShape: [3], useBias: false }), dn.layers.batchNormalization(), dn.layers.activation({ activation: 'relu' }), dn.layers.dense({ units: 3, activation: 'softmax' })] });
    const before = wider.getWeights().map((t) => Array.from(t.data));
    e = await rejects(wider.loadWeights(file, { format: 'torch' }));
    expect(e.message).to.match(/has shape \[5,3\], expected \[6,3\]/);
    expect(wider.getWeights().map((t) => Array.from(t.data))).to.deep.equal(before);
    e = await rejects(other({ center: false }).loadWeights(file, { format: 'torch' }));
    expect(e.message).to.match(/1\.bias" is not all 0s/);
    e = await rejects(m.loadWeights(file, { format: 'onnx' }));
    expect(e).to.be.instanceOf(RangeError);
  });

  describe('against PyTorch (/usr/bin/python3 with torch)', function () {
    before(function () {
      if (!torchAvailable()) {
        console.log('      skipped: /usr/bin/python3 cannot import torch (apt-get install python3-torch)');
        this.skip();
      }
    });

    for (const name of Object.keys(CONFIGS)) {
      it(`"${name}": the README snippet loads the export strictly and torch predicts the same`, async () => {
        const m = configModel(name);
        await m.save(path.join(tmp, 'model.safetensors'), { format: 'torch' });
        const y = python(readmeSnippet() + PREDICT_TAIL(X), tmp);
        expect(maxAbsDiff(y, m.predict(X).data)).to.be.below(1e-5);
      });
    }

    it('a state dict trained and saved by PyTorch loads with loadWeights and predicts the same', async () => {
      const script = `
import json, torch
from safetensors.torch import save_file
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(3, 5, bias=False), torch.nn.BatchNorm1d(5, eps=1e-3, momentum=0.01), torch.nn.ReLU(),
                            torch.nn.Dropout(0.2), torch.nn.Linear(5, 3), torch.nn.BatchNorm1d(3, eps=0.01, momentum=0.3, affine=False), torch.nn.Softmax(dim=1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
model.train()
for step in range(30):
    x = torch.randn(16, 3) * 2 + 1
    loss = model(x).pow(2).sum()
    opt.zero_grad(); loss.backward(); opt.step()
model.eval()
save_file(model.state_dict(), "from_torch.safetensors")
x = torch.tensor(${JSON.stringify(X)}, dtype=torch.float32)
with torch.no_grad():
    print(json.dumps(model(x).flatten().tolist()))
`;
      const y = python(script, tmp);
      dn.setSeed(5);
      const m = dn.sequential({
        layers: [
          dn.layers.dense({ units: 5, inputShape: [3], useBias: false }),
          dn.layers.batchNormalization({ epsilon: 1e-3, momentum: 0.99 }),
          dn.layers.activation({ activation: 'relu' }),
          dn.layers.dropout({ rate: 0.2 }),
          dn.layers.dense({ units: 3 }),
          dn.layers.batchNormalization({ epsilon: 0.01, momentum: 0.7, center: false, scale: false }),
          dn.layers.activation({ activation: 'softmax' }),
        ],
      });
      await m.loadWeights(path.join(tmp, 'from_torch.safetensors'), { format: 'torch' });
      expect(m.layers[1].numBatchesTracked[0]).to.equal(30);
      const d = maxAbsDiff(m.predict(X).data, y);
      console.log(`      max |densenorm - torch| (PyTorch-trained) = ${d.toExponential(2)}`);
      expect(d).to.be.below(1e-5);
    });

    it('round-trips the bundled-MNIST model: torch predicts the same, and its re-saved state dict loads back', async () => {
      const { model, xTest } = await mnistModel();
      await model.save(path.join(tmp, 'model.safetensors'), { format: 'torch' });
      const rows = Array.from({ length: 50 }, (_, i) => Array.from(xTest.data.subarray(i * 784, (i + 1) * 784)));
      const tail = `
from safetensors.torch import save_file
save_file(model.state_dict(), "resaved.safetensors")
` + PREDICT_TAIL(rows);
      const y = python(readmeSnippet() + tail, tmp);
      const want = model.predict(rows).data;
      const d = maxAbsDiff(y, want);
      dn.setSeed(11);
      const fresh = dn.sequential({ layers: model.layers.map((l) => dn.layers.layerFromConfig(l.className, { ...l.getConfig(), name: undefined })) });
      await fresh.loadWeights(path.join(tmp, 'resaved.safetensors'), { format: 'torch' });
      const dBack = maxAbsDiff(fresh.predict(rows).data, want);
      console.log(`      MNIST 50 rows: max |torch - densenorm| = ${d.toExponential(2)}, back from torch ${dBack.toExponential(2)}`);
      expect(d).to.be.below(1e-5);
      expect(dBack).to.be.below(1e-5);
    });
  });
});

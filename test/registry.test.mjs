// Layer registry: a class registered with dn.layers.registerClass is built by layerFromConfig and
// survives save → loadModel; an unknown class names every registered one; names are not reused.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dn, rejects } from './helpers.mjs';

// A weightless layer that scales nothing: enough to test serialization, not the native graph.
class TestTag extends dn.Layer {
  static className = 'TestTag';
  constructor(args = {}) {
    const { tag = 'none', ...base } = args;
    super(TestTag.className, 'test_tag', base, 'testTag args');
    this.tag = tag;
  }
  weightSpecs() {
    return [];
  }
  outputDim(inputDim) {
    return inputDim;
  }
  getConfig() {
    return { ...this.baseConfig(), tag: this.tag };
  }
  static fromConfig(config) {
    return new TestTag(config);
  }
}

describe('layer registry', () => {
  before(() => dn.layers.registerClass(TestTag.className, TestTag.fromConfig));

  it('lists the built-in classes first, in their documented order', () => {
    const builtIn = ['Dense', 'BatchNormalization', 'Activation', 'Dropout', 'LayerNormalization', 'GroupNormalization'];
    expect(dn.layers.LAYER_CLASS_NAMES).to.deep.equal(builtIn);
    expect(dn.layers.registeredClassNames().slice(0, builtIn.length)).to.deep.equal(builtIn);
    expect(dn.layers.registeredClassNames()).to.include('TestTag');
  });

  it('builds a registered class from its config (round trip through getConfig)', () => {
    const a = new TestTag({ tag: 'x', name: 'tag_roundtrip', inputShape: [3] });
    const b = dn.layers.layerFromConfig('TestTag', { ...a.getConfig(), name: 'tag_roundtrip_2' });
    expect(b).to.be.instanceOf(TestTag);
    expect(b.tag).to.equal('x');
    expect(b.batchInputShape).to.deep.equal([null, 3]);
    // the built-ins go through the same registry
    const d = dn.layers.layerFromConfig('Dense', { units: 2, name: 'reg_dense' });
    expect(d).to.be.instanceOf(dn.Dense);
    expect(d.units).to.equal(2);
  });

  it('save → loadModel keeps a registered class and its config', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'densenorm-registry-'));
    try {
      const m = dn.sequential({
        layers: [dn.layers.dense({ units: 3, inputShape: [2], name: 'reg_d1' }), new TestTag({ tag: 'kept', name: 'reg_tag' })],
      });
      await m.save(dir);
      const loaded = await dn.loadModel(dir);
      expect(loaded.layers.map((l) => l.className)).to.deep.equal(['Dense', 'TestTag']);
      expect(loaded.layers[1].tag).to.equal('kept');
      expect(Array.from(loaded.layers[0].weights[0].value)).to.deep.equal(Array.from(m.layers[0].weights[0].value));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unknown class is a RangeError naming every registered class', () => {
    expect(() => dn.layers.layerFromConfig('Conv2D', {})).to.throw(
      RangeError,
      /^Expected one of "Dense", "BatchNormalization", "Activation"(, | or ).*"TestTag" for className but received a string "Conv2D"$/,
    );
    expect(() => dn.layers.layerFromConfig(7, {})).to.throw(TypeError, /for className/);
  });

  it('an unknown class in model.json is ERR_MODEL_FILE naming the registered classes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'densenorm-registry-'));
    try {
      await dn.sequential({ layers: [dn.layers.dense({ units: 3, inputShape: [2], name: 'reg_d2' })] }).save(dir);
      const file = path.join(dir, 'model.json');
      const json = JSON.parse(fs.readFileSync(file, 'utf8'));
      json.layers[0].className = 'Conv2D';
      fs.writeFileSync(file, JSON.stringify(json));
      const e = await rejects(dn.loadModel(dir));
      expect(e.code).to.equal('ERR_MODEL_FILE');
      expect(e.message).to.match(/layers\[0\]: Expected one of "Dense", "BatchNormalization", .*"TestTag".* but received a string "Conv2D"/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('registering the same function again is a no-op; another function under a taken name is a RangeError', () => {
    expect(() => dn.layers.registerClass(TestTag.className, TestTag.fromConfig)).to.not.throw();
    expect(() => dn.layers.registerClass('Dense', () => new TestTag())).to.throw(RangeError, /"Dense", already registered/);
    expect(() => dn.layers.registerClass('', TestTag.fromConfig)).to.throw(RangeError, /non-empty string/);
    expect(() => dn.layers.registerClass('NoFn', 'nope')).to.throw(TypeError, /a function/);
  });
});

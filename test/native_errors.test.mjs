// Native failures arrive as the library's classes: argument values → RangeError, a failed step →
// DensenormError ERR_TRAINING, a disposed or busy model → DensenormError ERR_DISPOSED / ERR_BUSY.
import { expect } from 'chai';
import { dn, native, isa } from './helpers.mjs';

const { NativeNet } = native;
function spec(over = {}) {
  const kernel = new Float32Array(6).fill(0.1);
  const bias = new Float32Array(2);
  const gk = new Float32Array(6);
  const gb = new Float32Array(2);
  return {
    inputFeatures: 3,
    ops: [{ op: 'dense', units: 2, trainable: true, kernel, bias, gradKernel: gk, gradBias: gb, ...over }],
    loss: 3,
    optimizer: { type: 0, learningRate: 0.1 },
    params: [
      { value: kernel, grad: gk },
      { value: bias, grad: gb },
    ],
  };
}
const caught = (fn) => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
};

describe(`native errors arrive as the library's classes (isa=${isa})`, () => {
  it('a core argument error (batch 0) → RangeError', () => {
    const net = new NativeNet(spec());
    const e = caught(() => net.predict(new Float32Array(0), 0, new Float32Array(0)));
    expect(e).to.be.instanceOf(RangeError);
    expect(e.message).to.match(/at least 1 row/);
    net.dispose();
  });
  it("an op's array of the wrong size → RangeError naming the op and the array", () => {
    const s = spec();
    s.ops.push({ op: 'dense', units: 4, kernel: new Float32Array(5) });
    const e = caught(() => new NativeNet(s));
    expect(e).to.be.instanceOf(RangeError);
    expect(e.message).to.equal('op 1 (dense): Expected 8 elements for kernel but received 5');
  });
  it('a missing array → TypeError naming it', () => {
    const e = caught(() => new NativeNet(spec({ kernel: undefined })));
    expect(e).to.be.instanceOf(TypeError);
    expect(e.message).to.equal('op 0 (dense): Expected a Float32Array for kernel but received none');
  });
  it('a loss that is not finite → DensenormError ERR_TRAINING', () => {
    const net = new NativeNet(spec());
    const e = caught(() => net.trainStep(new Float32Array(6).fill(Infinity), 2, new Float32Array(4), 1));
    expect(e).to.be.instanceOf(dn.DensenormError);
    expect(e.code).to.equal('ERR_TRAINING');
    expect(e.message).to.match(/not finite/);
    net.dispose();
  });
  it('the same from trainStepAsync (rejects with DensenormError ERR_TRAINING)', async () => {
    const net = new NativeNet(spec());
    let e;
    try {
      await net.trainStepAsync(new Float32Array(6).fill(Infinity), 2, new Float32Array(4), 1);
    } catch (err) {
      e = err;
    }
    expect(e).to.be.instanceOf(dn.DensenormError);
    expect(e.code).to.equal('ERR_TRAINING');
    net.dispose();
  });
  it('a disposed net → DensenormError ERR_DISPOSED', () => {
    const net = new NativeNet(spec());
    net.dispose();
    const e = caught(() => net.predict(new Float32Array(6), 2, new Float32Array(4)));
    expect(e).to.be.instanceOf(dn.DensenormError);
    expect(e.code).to.equal('ERR_DISPOSED');
  });
  it('a call while training runs → DensenormError ERR_BUSY', async () => {
    const net = new NativeNet(spec());
    const p = net.trainStepAsync(new Float32Array(6).fill(1), 2, new Float32Array(4), 1);
    const e = caught(() => net.predict(new Float32Array(6), 2, new Float32Array(4)));
    await p;
    expect(e).to.be.instanceOf(dn.DensenormError);
    expect(e.code).to.equal('ERR_BUSY');
    net.dispose();
  });
});

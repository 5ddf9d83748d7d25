import { expect } from 'chai';
import { tensor, toTensor2D, Tensor } from '../dist/tensor.js';
import { describe as describeValue, checkUnknownKeys, checkNumber, checkObject } from '../dist/validate.js';

describe('tensor()', () => {
  it('wraps a Float32Array without copying', () => {
    const data = new Float32Array(6);
    const t = tensor(data, [2, 3]);
    expect(t).to.be.instanceOf(Tensor);
    expect(t.data).to.equal(data);
    expect(t.shape).to.deep.equal([2, 3]);
    expect(t.size).to.equal(6);
    expect(t.rank).to.equal(2);
  });

  it('defaults shapes: Float32Array and number[] -> [n], number[][] -> [rows, cols]', () => {
    expect(tensor(new Float32Array(4)).shape).to.deep.equal([4]);
    expect(tensor([1, 2, 3]).shape).to.deep.equal([3]);
    const t = tensor([[1, 2], [3, 4], [5, 6]]);
    expect(t.shape).to.deep.equal([3, 2]);
    expect(t.toArray()).to.deep.equal([[1, 2], [3, 4], [5, 6]]);
  });

  it('allows non-finite values', () => {
    expect(Number.isNaN(tensor([NaN, Infinity]).data[0])).to.equal(true);
  });

  it('clone() copies the data', () => {
    const t = tensor([1, 2], [1, 2]);
    const c = t.clone();
    c.data[0] = 9;
    expect(t.data[0]).to.equal(1);
    expect(c.shape).to.deep.equal([1, 2]);
  });

  it('rejects a shape whose size differs from the data, naming both', () => {
    expect(() => tensor(new Float32Array(6), [4, 2])).to.throw(RangeError, /8 elements.*\[4, 2\].*6 values/);
  });

  it('rejects ragged rows with RangeError', () => {
    expect(() => tensor([[1, 2], [3]])).to.throw(RangeError, /values\[1\]/);
  });

  it('rejects bad shape entries', () => {
    expect(() => tensor([1, 2], [0, 2])).to.throw(RangeError, /shape\[0\]/);
    expect(() => tensor([1, 2], [1.5, 2])).to.throw(RangeError);
  });

  for (const [label, bad] of [
    ['string', 'abc'],
    ['Float64Array', new Float64Array(3)],
    ['Int32Array', new Int32Array(3)],
    ['plain object', { a: 1 }],
    ['undefined', undefined],
  ]) {
    it(`rejects a ${label} with TypeError naming values`, () => {
      expect(() => tensor(bad)).to.throw(TypeError, /^Expected .* for values but received /);
    });
  }

  it('rejects non-numbers inside arrays with TypeError', () => {
    expect(() => tensor([1, '2'])).to.throw(TypeError, /values\[1\]/);
    expect(() => tensor([[1], ['2']])).to.throw(TypeError, /values\[1\]\[0\]/);
  });

  it('rejects a Float32Array over a detached buffer with TypeError', () => {
    const a = new Float32Array(4);
    structuredClone(a.buffer, { transfer: [a.buffer] });
    expect(() => tensor(a)).to.throw(TypeError, /detached/);
  });
});

describe('toTensor2D()', () => {
  it('keeps rank-2 tensors as they are', () => {
    const t = tensor(new Float32Array(6), [3, 2]);
    expect(toTensor2D(t, 'x', 2)).to.equal(t);
  });

  it('treats rank-1 input as [n, 1] by default', () => {
    expect(toTensor2D([1, 2, 3], 'y').shape).to.deep.equal([3, 1]);
  });

  it('reads rank-1 input as a flat batch when expectedFeatures > 1', () => {
    const data = new Float32Array(6);
    const t = toTensor2D(data, 'x', 3);
    expect(t.shape).to.deep.equal([2, 3]);
    expect(t.data).to.equal(data);
    expect(() => toTensor2D([1, 2, 3, 4], 'x', 3)).to.throw(RangeError, /multiple of 3/);
  });

  it('names the argument and both feature counts on mismatch', () => {
    expect(() => toTensor2D([[1, 2, 3]], 'x', 2)).to.throw(RangeError, /Expected 2 features.* for x .*3 features/);
  });

  it('rejects empty input with RangeError', () => {
    expect(() => toTensor2D([], 'x')).to.throw(RangeError, /for x/);
    expect(() => toTensor2D(new Float32Array(0), 'x')).to.throw(RangeError, /for x/);
  });

  it('rejects rank 3 with RangeError', () => {
    expect(() => toTensor2D(tensor(new Float32Array(8), [2, 2, 2]), 'x')).to.throw(RangeError, /rank/);
  });
});

describe('validate', () => {
  it('describes values briefly', () => {
    expect(describeValue('abc')).to.equal('a string "abc"');
    expect(describeValue(NaN)).to.equal('NaN');
    expect(describeValue(new Float64Array(3))).to.equal('a Float64Array(3)');
    expect(describeValue({})).to.equal('an object');
    expect(describeValue(undefined)).to.equal('undefined');
    expect(describeValue(2.5)).to.equal('2.5');
  });

  it('checkUnknownKeys catches typos with a hint', () => {
    expect(() => checkUnknownKeys('dense args', { unit: 3 }, ['units'])).to.throw(RangeError, /"unit".*did you mean "units"/);
  });

  it('checkNumber enforces finiteness and bounds', () => {
    expect(() => checkNumber('lr', Infinity)).to.throw(RangeError);
    expect(() => checkNumber('lr', '1')).to.throw(TypeError);
    expect(() => checkNumber('eps', 0, { min: 0, minExclusive: true })).to.throw(RangeError, /> 0/);
    expect(checkNumber('eps', 1e-3, { min: 0, minExclusive: true })).to.equal(1e-3);
  });

  it('checkObject accepts undefined as {} and rejects non-plain objects', () => {
    expect(checkObject('opts', undefined)).to.deep.equal({});
    expect(() => checkObject('opts', [])).to.throw(TypeError);
    expect(() => checkObject('opts', new Map())).to.throw(TypeError);
  });
});

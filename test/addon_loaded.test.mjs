// Which native binary the suite runs on: with DENSENORM_EXPECT_ADDON set (scripts/test-clang.sh,
// scripts/test-gyp.sh) it must be that file, so a stale build/ or prebuild cannot pass for it.
import { expect } from 'chai';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { native } from './helpers.mjs';

const require = createRequire(import.meta.url);

describe('the loaded native addon', () => {
  const loaded = Object.keys(require.cache).filter((f) => f.endsWith('.node'));
  it('is exactly one .node file and answers backend()', () => {
    expect(loaded).to.have.length(1);
    expect(native.backend().available).to.include('scalar');
  });
  it('is DENSENORM_EXPECT_ADDON when that is set', function () {
    const want = process.env.DENSENORM_EXPECT_ADDON;
    if (!want) this.skip();
    expect(fs.realpathSync(loaded[0])).to.equal(fs.realpathSync(want));
  });
});

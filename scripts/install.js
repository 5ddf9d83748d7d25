#!/usr/bin/env node
// npm "install" hook: a prebuilt N-API binary when one fits this platform; else a source build,
// with cmake-js when cmake is on PATH and with node-gyp (which every npm ships) otherwise.
// npm_config_build_from_source=true skips the prebuild; DENSENORM_BUILDER=cmake-js|node-gyp
// picks the builder; DENSENORM_INSTALL_DRY_RUN=1 prints the choice and the preflight and stops.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const fromSource = /^(true|1|densenorm)$/i.test(process.env.npm_config_build_from_source || '');
const win = process.platform === 'win32';

function prebuildLoads() {
  try {
    // PREBUILDS_ONLY: a stale build/ must not be mistaken for a prebuild.
    process.env.PREBUILDS_ONLY = '1';
    const addon = require('node-gyp-build')(root);
    return typeof addon.backend === 'function' ? addon.backend() : null;
  } catch {
    return null;
  } finally {
    delete process.env.PREBUILDS_ONLY;
  }
}

/** The first of `names` found on PATH, or null. */
function which(...names) {
  const exts = win ? (process.env.PATHEXT || '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    for (const name of names) {
      for (const ext of exts) {
        const p = path.join(dir, name + ext);
        try {
          if (fs.statSync(p).isFile()) return p;
        } catch {
          // not here
        }
      }
    }
  }
  return null;
}

/** What a source build with `builder` needs that this machine lacks (empty on Windows: node-gyp finds MSVC itself). */
function missingTools(builder) {
  if (win) return [];
  const missing = [];
  const cxx = process.env.CXX ? which(process.env.CXX.split(' ')[0]) || (fs.existsSync(process.env.CXX) && process.env.CXX) : which('c++', 'g++', 'clang++');
  if (!cxx) missing.push('a C++17 compiler (g++ or clang++)');
  if (!which('make', 'gmake') && !(builder === 'cmake-js' && which('ninja'))) missing.push('make');
  if (builder === 'node-gyp' && !(process.env.PYTHON && fs.existsSync(process.env.PYTHON)) && !which('python3', 'python')) missing.push('python3');
  return missing;
}

function howToGet(missing) {
  return [
    `densenorm: cannot build from source: ${missing.length ? `missing ${missing.join(', ')}` : 'the build failed (see above)'}.`,
    'A source build needs a C++17 compiler, make and python3 (node-gyp), or cmake >= 3.15 instead of python3 (cmake-js). To get them:',
    '  Debian/Ubuntu: sudo apt-get install -y g++ make python3',
    '  Fedora:        sudo dnf install -y gcc-c++ make python3',
    '  Alpine (musl): apk add g++ make python3',
    '  macOS:         xcode-select --install   (clang++, make; python3 comes with it)',
    '  Windows:       Visual Studio Build Tools, "Desktop development with C++" workload, and Python 3',
    '                 (winget install Microsoft.VisualStudio.2022.BuildTools Python.Python.3.12)',
    'Or install on linux-x64 or linux-arm64 (glibc >= 2.28), where the prebuilt binary needs none of them.',
  ].join('\n');
}

/** node-gyp: npm's own (npm_config_node_gyp in lifecycle scripts), else one beside this node. */
function nodeGypJs() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
}

function buildCommand(builder) {
  if (builder === 'cmake-js') return [process.execPath, require.resolve('cmake-js/bin/cmake-js'), 'compile', '--log-level', 'warn'];
  const gyp = nodeGypJs();
  if (!gyp) return null;
  const args = [process.execPath, gyp, 'rebuild'];
  // This node's own headers (<prefix>/include/node), when present, spare node-gyp a download.
  const prefix = path.join(path.dirname(process.execPath), '..');
  if (!win && !process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi'))) {
    args.push(`--nodedir=${path.resolve(prefix)}`);
  }
  return args;
}

if (!fromSource) {
  const info = prebuildLoads();
  if (info) {
    console.log(`densenorm: using the prebuilt binary for ${process.platform}-${process.arch} (kernels: ${info.available.join(', ')}; this CPU: ${info.isa})`);
    process.exit(0);
  }
}
const forced = process.env.DENSENORM_BUILDER;
if (forced && forced !== 'cmake-js' && forced !== 'node-gyp') {
  console.error(`densenorm: DENSENORM_BUILDER must be cmake-js or node-gyp (got ${forced})`);
  process.exit(1);
}
const builder = forced || (which('cmake') ? 'cmake-js' : 'node-gyp');
const why = fromSource ? 'npm_config_build_from_source is set' : `no prebuilt binary fits ${process.platform}-${process.arch} (Node ABI ${process.versions.modules})`;
const how = forced ? 'DENSENORM_BUILDER' : builder === 'cmake-js' ? 'cmake is on PATH' : 'no cmake on PATH';
console.log(`densenorm: ${why}; building from source with ${builder} (${how})`);

const cmd = buildCommand(builder);
const missing = missingTools(builder);
if (!cmd) missing.push('node-gyp (it ships with npm; or npm install -g node-gyp)');
if (process.env.DENSENORM_INSTALL_DRY_RUN === '1') {
  console.log(`densenorm: dry run: ${cmd ? cmd.slice(1).join(' ') : '(no command)'}; missing: ${missing.join(', ') || 'nothing'}`);
  process.exit(0);
}
if (missing.length) {
  console.error(howToGet(missing));
  process.exit(1);
}
const r = spawnSync(cmd[0], cmd.slice(1), { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(howToGet(missingTools(builder)));
  process.exit(r.status || 1);
}
console.log(`densenorm: built build/Release/densenorm.node with ${builder}`);

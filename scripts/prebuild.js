#!/usr/bin/env node
// `npm run prebuild`: an N-API prebuild for this platform in prebuilds/<platform>-<arch>/, the
// layout node-gyp-build loads. One binary holds every ISA path (scalar, AVX2, AVX-512), chosen
// at run time, and serves every Node version with N-API >= 8.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const out = path.join(root, 'build-prebuild');
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const r = spawnSync(process.execPath, [cmakeJs, 'rebuild', '--log-level', 'warn', '-O', out], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status || 1);
const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
fs.mkdirSync(dir, { recursive: true });
const target = path.join(dir, 'densenorm.napi.node');
fs.copyFileSync(path.join(out, 'Release', 'densenorm.node'), target);
spawnSync('strip', ['--strip-unneeded', target], { stdio: 'inherit' });
console.log(`densenorm: wrote ${path.relative(root, target)} (${fs.statSync(target).size} bytes)`);

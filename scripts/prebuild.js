#!/usr/bin/env node
// `npm run prebuild`: an N-API prebuild for this platform in prebuilds/<platform>-<arch>/, the
// layout node-gyp-build loads. One binary holds every ISA path (scalar, AVX2, AVX-512), chosen
// at run time, and serves every Node version with N-API >= 8. On linux-x64 with the AArch64
// cross compiler on PATH (apt-get install g++-aarch64-linux-gnu) it also cross-builds
// prebuilds/linux-arm64/ (scalar + NEON); DENSENORM_PREBUILD_ARM64=0 skips that, =1 requires it.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');

function onPath(tool) {
  return (process.env.PATH || '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, tool)));
}

// build(<arch>, <out dir>, <extra cmake-js args>, <strip tool>): writes prebuilds/<platform>-<arch>/.
function build(arch, out, extra, strip) {
  const r = spawnSync(process.execPath, [cmakeJs, 'rebuild', '--log-level', 'warn', '-O', out, ...extra], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status || 1);
  const dir = path.join(root, 'prebuilds', `${process.platform}-${arch}`);
  fs.mkdirSync(dir, { recursive: true });
  const target = path.join(dir, 'densenorm.napi.node');
  fs.copyFileSync(path.join(out, 'Release', 'densenorm.node'), target);
  spawnSync(strip, ['--strip-unneeded', target], { stdio: 'inherit' });
  console.log(`densenorm: wrote ${path.relative(root, target)} (${fs.statSync(target).size} bytes)`);
}

build(process.arch, path.join(root, 'build-prebuild'), [], 'strip');

const want = process.env.DENSENORM_PREBUILD_ARM64;
if (process.platform === 'linux' && process.arch === 'x64' && want !== '0') {
  if (onPath('aarch64-linux-gnu-g++')) {
    const toolchain = path.join(root, 'cmake', 'aarch64-linux-gnu.cmake');
    build('arm64', path.join(root, 'build-prebuild-arm64'), ['-a', 'arm64', `--CDCMAKE_TOOLCHAIN_FILE=${toolchain}`], 'aarch64-linux-gnu-strip');
  } else if (want === '1') {
    console.error('densenorm: DENSENORM_PREBUILD_ARM64=1 but aarch64-linux-gnu-g++ is not on PATH (apt-get install g++-aarch64-linux-gnu)');
    process.exit(1);
  } else {
    console.log('densenorm: no aarch64-linux-gnu-g++ on PATH: prebuilds/linux-arm64 not built');
  }
}

#!/usr/bin/env node
// npm "install" hook: use a prebuilt N-API binary when one fits this platform, else build from
// source with cmake-js. npm_config_build_from_source=true forces the source build.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const fromSource = /^(true|1|densenorm)$/i.test(process.env.npm_config_build_from_source || '');

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

if (!fromSource) {
  const info = prebuildLoads();
  if (info) {
    console.log(`densenorm: using the prebuilt binary for ${process.platform}-${process.arch} (kernels: ${info.available.join(', ')}; this CPU: ${info.isa})`);
    process.exit(0);
  }
  console.log(`densenorm: no prebuilt binary fits ${process.platform}-${process.arch} (Node ABI ${process.versions.modules}); building from source with cmake-js`);
} else {
  console.log('densenorm: npm_config_build_from_source is set; building from source with cmake-js');
}
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--log-level', 'warn'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('densenorm: the source build failed. It needs cmake >= 3.15, make and a C++17 compiler (g++ or clang++).');
  process.exit(r.status || 1);
}

#!/usr/bin/env node
// Fails when a prebuilt .node needs a glibc newer than the floor the README states (2.28:
// Debian 10, Ubuntu 20.04, RHEL 8, Amazon Linux 2023). Reads each binary's dynamic symbol
// versions with objdump -T (the cross binutils' objdump for arm64) and prints the highest
// GLIBC_, GLIBCXX_ and CXXABI_ versions it needs.
//   node scripts/check-glibc.js [file.node ...]     default: prebuilds/linux-*/densenorm.napi.node
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const FLOOR = '2.28';
const root = path.join(__dirname, '..');
const cmp = (a, b) => {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) - (y[i] || 0);
  return 0;
};

let files = process.argv.slice(2);
if (files.length === 0) {
  const pre = path.join(root, 'prebuilds');
  files = fs.existsSync(pre)
    ? fs.readdirSync(pre).filter((d) => d.startsWith('linux-')).map((d) => path.join(pre, d, 'densenorm.napi.node')).filter((f) => fs.existsSync(f))
    : [];
  if (files.length === 0) {
    console.error('check-glibc: no prebuilds/linux-*/densenorm.napi.node (run npm run prebuild)');
    process.exit(1);
  }
}
let bad = 0;
for (const f of files) {
  const arm = /linux-arm64/.test(f) || /aarch64/.test(spawnSync('file', ['-b', f], { encoding: 'utf8' }).stdout || '');
  const tool = arm ? 'aarch64-linux-gnu-objdump' : 'objdump';
  const r = spawnSync(tool, ['-T', f], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`check-glibc: ${tool} -T ${f} failed: ${r.error ? r.error.message : r.stderr}`);
    bad++;
    continue;
  }
  const max = {};
  for (const m of r.stdout.matchAll(/\b(GLIBC|GLIBCXX|CXXABI)_([0-9][0-9.]*)\b/g)) {
    if (!max[m[1]] || cmp(m[2], max[m[1]]) > 0) max[m[1]] = m[2];
  }
  const ok = !max.GLIBC || cmp(max.GLIBC, FLOOR) <= 0;
  if (!ok) bad++;
  const rel = path.relative(process.cwd(), f);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${rel}: GLIBC_${max.GLIBC || '-'} (floor ${FLOOR}), GLIBCXX_${max.GLIBCXX || '-'}, CXXABI_${max.CXXABI || '-'}`);
  if (!ok) {
    const over = r.stdout.split('\n').filter((l) => /GLIBC_([0-9.]+)/.test(l) && cmp(/GLIBC_([0-9.]+)/.exec(l)[1], FLOOR) > 0);
    console.log(`     symbols above the floor:\n     ${over.map((l) => l.trim().split(/\s+/).slice(-2).join(' ')).join('\n     ')}`);
  }
}
process.exit(bad ? 1 : 0);

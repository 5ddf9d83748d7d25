// Architecture rules read from the source tree: no import cycle among lib/'s TypeScript modules,
// io/ never imports models/, and no source file in lib/, cpp/ or binding/ over 500 lines unless
// the allowlist below names it with a reason (bench/ and test/ are exempt).
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAX_LINES = 500;
const SOURCE_EXT = /\.(ts|mts|cts|js|mjs|cjs|cc|cpp|c|h|hpp)$/;
const ALLOWED_LONG = {
  'cpp/kernels/kernels_impl.h': 'one write-once kernel template per ISA',
  'cpp/reference/selftest.cc': 'the C++ kernel self-test program (shape families per kernel): a test, kept beside its reference',
};

function walk(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

const rel = (p) => path.relative(root, p).split(path.sep).join('/');

/** Relative import specifiers of a TS source: import/export ... from, side-effect imports, require(), import(). */
function importsOf(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const specs = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) specs.push(m[1]);
  return specs.filter((s) => s.startsWith('.'));
}

function resolveTs(fromFile, spec) {
  const base = path.resolve(path.dirname(fromFile), spec);
  for (const c of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (c.endsWith('.ts') && fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  }
  return undefined; // package.json and other non-TS files
}

function importGraph() {
  const files = walk(path.join(root, 'lib')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  const graph = new Map();
  for (const f of files) {
    const deps = new Set();
    for (const spec of importsOf(fs.readFileSync(f, 'utf8'))) {
      const target = resolveTs(f, spec);
      if (target) deps.add(rel(target));
    }
    graph.set(rel(f), [...deps].sort());
  }
  return graph;
}

/** Every cycle found by a depth-first search, each as the list of files around it. */
function cycles(graph) {
  const state = new Map(); // undefined: new, 1: on the stack, 2: done
  const stack = [];
  const found = [];
  const visit = (n) => {
    state.set(n, 1);
    stack.push(n);
    for (const d of graph.get(n) ?? []) {
      if (state.get(d) === 1) found.push([...stack.slice(stack.indexOf(d)), d]);
      else if (state.get(d) === undefined) visit(d);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of [...graph.keys()].sort()) if (state.get(n) === undefined) visit(n);
  return found;
}

describe('architecture', () => {
  const graph = importGraph();

  it('the import parser sees lib/ (a sanity check of the scan itself)', () => {
    expect(graph.size).to.be.above(30);
    expect(graph.get('lib/index.ts')).to.include('lib/models/sequential.ts');
    expect(graph.get('lib/models/load.ts')).to.include.members(['lib/layers/index.ts', 'lib/io/model_files.ts']);
    expect(importsOf("import {\n  a,\n  b,\n} from './x';\nexport * as y from './y';\nimport './z';\n// import q from './comment';\n")).to.deep.equal(['./x', './y', './z']);
  });

  it('no import cycle among lib/ modules', () => {
    const found = cycles(graph);
    expect(found.map((c) => c.join(' -> ')), 'import cycles').to.deep.equal([]);
  });

  it('the cycle check finds a cycle when there is one', () => {
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
    expect(cycles(g)).to.deep.equal([['a', 'b', 'c', 'a']]);
  });

  it('lib/io/ never imports lib/models/ (the format knows no model class)', () => {
    const bad = [...graph].filter(([f]) => f.startsWith('lib/io/')).flatMap(([f, deps]) => deps.filter((d) => d.startsWith('lib/models/')).map((d) => `${f} -> ${d}`));
    expect(bad).to.deep.equal([]);
  });

  it(`no source file in lib/, cpp/, binding/ over ${MAX_LINES} lines except the allowlist`, () => {
    const long = [];
    for (const top of ['lib', 'cpp', 'binding']) {
      for (const f of walk(path.join(root, top)).filter((p) => SOURCE_EXT.test(p))) {
        const text = fs.readFileSync(f, 'utf8');
        const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
        if (lines > MAX_LINES && !(rel(f) in ALLOWED_LONG)) long.push(`${rel(f)}: ${lines} lines`);
      }
    }
    expect(long, `split these files, or add them to ALLOWED_LONG with a reason`).to.deep.equal([]);
  });

  it('every allowlisted file exists and has a reason (remove entries for files that were split away)', () => {
    for (const [f, reason] of Object.entries(ALLOWED_LONG)) {
      expect(fs.existsSync(path.join(root, f)), `${f} is allowlisted but gone`).to.equal(true);
      expect(reason).to.be.a('string').with.length.above(10);
    }
  });
});

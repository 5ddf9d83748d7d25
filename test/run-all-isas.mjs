// Runs the mocha suite once per kernel path this CPU has (DENSENORM_ISA=scalar|avx2|avx512|neon),
// so every ISA is tested against the float64 reference. Paths the CPU lacks are reported as
// skipped, never silently passed. Extra arguments go to mocha (e.g. a file to run).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { native } = require('../dist/native.js');
const { available, detected } = native.backend();
const all = ['scalar', 'avx2', 'avx512', 'neon'];
const mocha = require.resolve('mocha/bin/mocha.js');
const extra = process.argv.length > 2 ? process.argv.slice(2) : ['test/**/*.test.mjs'];

function run(isa) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mocha, ...extra], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, DENSENORM_ISA: isa },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.on('close', (code, signal) => {
      const num = (re) => Number((out.match(re) || [0, 0])[1]);
      resolve({ code: code ?? signal, passed: num(/(\d+) passing/), failed: num(/(\d+) failing/), pending: num(/(\d+) pending/) });
    });
  });
}

const totals = { passed: 0, failed: 0, skipped: 0 };
let bad = 0;
for (const isa of all) {
  if (!available.includes(isa)) {
    console.log(`\n=== DENSENORM_ISA=${isa}: skipped, this CPU lacks it (best here: ${detected}) ===`);
    continue;
  }
  console.log(`\n=== DENSENORM_ISA=${isa} ===`);
  const r = await run(isa);
  totals.passed += r.passed;
  totals.failed += r.failed;
  totals.skipped += r.pending;
  if (r.code !== 0) {
    bad++;
    if (r.failed === 0) totals.failed++; // a crash without a mocha failure still counts
    console.log(`=== DENSENORM_ISA=${isa}: FAILED (exit ${r.code}) ===`);
  }
}
console.log(`\nISA paths run: ${all.filter((i) => available.includes(i)).join(', ')}`);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(bad ? 1 : 0);

// Load test of examples/server.ts on 127.0.0.1: trains and saves a small MNIST model (or uses
// MODEL_DIR), starts the server, sends batch-1 POST /predict requests with autocannon for
// DURATION seconds (default 10) over CONNECTIONS connections (default 16), prints req/s and
// latency percentiles, and stops everything.   npm run example:load
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const dn = require('../dist/index.js');
const here = path.dirname(fileURLToPath(import.meta.url));
const duration = Number(process.env.DURATION ?? 10);
const connections = Number(process.env.CONNECTIONS ?? 16);

let dir = process.env.MODEL_DIR;
const { xTrain, yTrain, xTest } = dn.loadMnist();
if (!dir) {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'densenorm-server-'));
  dn.setSeed(1);
  const m = dn.sequential();
  m.add(dn.layers.dense({ units: 256, inputShape: [784], useBias: false }));
  m.add(dn.layers.batchNormalization());
  m.add(dn.layers.activation({ activation: 'relu' }));
  m.add(dn.layers.dense({ units: 10, activation: 'softmax' }));
  m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  await m.fit(xTrain, yTrain, { epochs: 1, batchSize: 64 });
  await m.save(dir);
}
const server = spawn(process.execPath, [path.join(here, 'build', 'server.js'), dir, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  server.stdout.on('data', (d) => {
    const m = String(d).match(/http:\/\/127\.0\.0\.1:(\d+)/);
    if (m) resolve(`http://127.0.0.1:${m[1]}`);
  });
  server.on('exit', (c) => reject(new Error(`server exited with ${c}`)));
});
const body = JSON.stringify({ input: Array.from(xTest.data.subarray(0, 784)) });
const result = await autocannon({
  url: `${url}/predict`,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body,
  connections,
  duration,
});
server.kill('SIGTERM');
const l = result.latency;
console.log(`batch-1 POST /predict, ${connections} connections, ${duration} s on 127.0.0.1 (${dn.backend().isa}, ${os.cpus().length} cores shared by server and load generator)`);
console.log(`requests/s: median ${result.requests.p50} (mean ${result.requests.average.toFixed(0)}); errors ${result.errors}, non-2xx ${result.non2xx}`);
console.log(`latency ms: p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  max ${l.max}`);
console.log(JSON.stringify({ workload: 'server-batch1', connections, duration, rps_median: result.requests.p50, rps_mean: result.requests.average, p50_ms: l.p50, p90_ms: l.p90, p99_ms: l.p99, errors: result.errors, non2xx: result.non2xx }));

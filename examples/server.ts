// A prediction server on node:http: loads a saved densenorm model and answers
//   POST /predict  {"inputs": [[...features], ...]}  →  {"outputs": [[...], ...], "classes": [...]}
// Small requests use the synchronous predict (lowest latency); larger ones run on a worker
// thread (predictAsync) so the event loop keeps serving other clients.
//   npm run build:examples && node examples/build/server.js MODEL_DIR [PORT]
import * as http from 'node:http';
import * as dn from 'densenorm';

const SYNC_MAX_ROWS = 16;
const MAX_BODY = 64 * 1024 * 1024;

async function main(): Promise<void> {
  const dir = process.argv[2];
  const port = Number(process.argv[3] ?? process.env.PORT ?? 8080);
  if (!dir) {
    console.error('usage: node examples/build/server.js MODEL_DIR [PORT]');
    process.exit(2);
  }
  const model = await dn.loadModel(dir);
  const features = model.inputDim ?? 0;

  const server = http.createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.method === 'GET' && req.url === '/healthz') return reply(200, { ok: true, backend: dn.backend(), features });
    if (req.method !== 'POST' || req.url !== '/predict') return reply(404, { error: 'POST /predict or GET /healthz' });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reply(413, { error: 'request body too large' });
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      let inputs: number[][];
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { inputs?: number[][]; input?: number[] };
        inputs = body.inputs ?? (body.input ? [body.input] : []);
      } catch (e) {
        return reply(400, { error: `invalid JSON: ${(e as Error).message}` });
      }
      const done = (out: dn.Tensor) => {
        const outputs = out.toArray();
        const classes = outputs.map((r) => r.indexOf(Math.max(...r)));
        reply(200, { outputs, classes });
      };
      const fail = (e: unknown) => reply(e instanceof TypeError || e instanceof RangeError ? 400 : 500, { error: (e as Error).message });
      try {
        if (Array.isArray(inputs) && inputs.length <= SYNC_MAX_ROWS) done(model.predict(inputs));
        else model.predictAsync(inputs).then(done, fail);
      } catch (e) {
        fail(e);
      }
    });
  });
  server.listen(port, '127.0.0.1', () => {
    const addr = server.address();
    console.log(`densenorm server on http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : port} (${features} features, ${dn.backend().isa})`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});

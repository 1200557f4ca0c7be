/**
 * The floor of any Node.js proxy: node:http in, undici's pool out, the answer piped back, nothing
 * checked or recorded. bench/gateway.ts runs it as a side beside nginx and the gateway, so the
 * gateway's distance from nginx splits into what Node itself costs and what vecgate's work costs.
 *
 * `node dist/bench/node-proxy.js <port> <upstream origin>`
 */
import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';

const [port, origin] = [Number(process.argv[2]), process.argv[3] ?? ''];
const pool = new Pool(origin, { connections: 64, keepAliveTimeout: 30_000 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);

createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && typeof v === 'string') headers[k] = v;
    const body = Buffer.concat(chunks);
    pool
      .request({ method: (req.method ?? 'GET') as 'GET', path: req.url ?? '/', headers, body: body.length > 0 ? body : null })
      .then(async (up) => {
        res.statusCode = up.statusCode;
        for (const [k, v] of Object.entries(up.headers)) if (!HOP.has(k) && v !== undefined) res.setHeader(k, v);
        await pipeline(up.body, res);
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      });
  });
}).listen(port, '127.0.0.1');

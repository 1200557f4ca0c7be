/**
 * Baseline for the benchmark: the thinnest Node proxy (no identity, policy or audit), so the cost of
 * one more Node hop on this machine is measured apart from what the gateway does.
 * Usage: node dist/bench/plain-proxy.js PORT UPSTREAM_URL
 */
import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';

const [port, upstream] = process.argv.slice(2);
const pool = new Pool(upstream as string, { connections: 64 });
createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    pool
      .request({ method: req.method as 'POST', path: req.url ?? '/', headers: { 'content-type': req.headers['content-type'] ?? 'application/json' }, body: Buffer.concat(chunks) })
      .then(async (up) => {
        res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') });
        await pipeline(up.body, res);
      })
      .catch(() => {
        res.statusCode = 502;
        res.end();
      });
  });
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));

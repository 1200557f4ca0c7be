import { createHash } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createBrotliCompress, createDeflate, createGzip } from 'node:zlib';

export interface TappedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bodySha256: string;
  bodyLength: number;
}

export type TapMode = 'forward' | 'reset' | 'hang';

/** A canned answer the tap gives instead of forwarding (to test bodies a real Chroma never sends). */
export interface TapAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/**
 * A recording HTTP hop between the gateway and the real Chroma: it shows what the upstream
 * receives (headers, exact body bytes), and can misbehave on demand to test upstream faults.
 */
export interface Tap {
  url: string;
  seen: TappedRequest[];
  mode: TapMode;
  /** compress every answer this way, sent chunked (no content-length), whatever the client asked */
  compress?: 'gzip' | 'deflate' | 'br';
  /** answer the next requests with this instead of forwarding */
  answer?: TapAnswer;
  /** wait this long before forwarding (a slow database) */
  delayMs?: number;
  close(): Promise<void>;
}

export async function startTap(target: string): Promise<Tap> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const tap: Tap = { url: '', seen: [], mode: 'forward', close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      tap.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodySha256: createHash('sha256').update(body).digest('hex'), bodyLength: body.length });
      if (tap.mode === 'reset') return req.socket.destroy();
      if (tap.mode === 'hang') return;
      if (tap.answer) {
        res.writeHead(tap.answer.status, tap.answer.headers);
        return void res.end(tap.answer.body);
      }
      if (tap.delayMs) setTimeout(() => forward(req, res, body), tap.delayMs);
      else forward(req, res, body);
    });
  });
  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (up) => {
      const encoder = tap.compress === 'gzip' ? createGzip() : tap.compress === 'deflate' ? createDeflate() : tap.compress === 'br' ? createBrotliCompress() : undefined;
      if (!encoder) {
        res.writeHead(up.statusCode ?? 502, up.headers);
        return void up.pipe(res);
      }
      const { 'content-length': _dropped, ...headers } = up.headers;
      res.writeHead(up.statusCode ?? 502, { ...headers, 'content-encoding': tap.compress as string, 'transfer-encoding': 'chunked' });
      up.pipe(encoder).pipe(res);
    });
    out.on('error', () => res.destroy());
    out.end(body);
  }
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tap.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  tap.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return tap;
}

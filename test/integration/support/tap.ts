import { createHash } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface TappedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bodySha256: string;
  bodyLength: number;
}

export type TapMode = 'forward' | 'reset' | 'hang';

/**
 * A recording HTTP hop between the gateway and the real Chroma: it shows what the upstream
 * receives (headers, exact body bytes), and can misbehave on demand to test upstream faults.
 */
export interface Tap {
  url: string;
  seen: TappedRequest[];
  mode: TapMode;
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
      const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      out.on('error', () => res.destroy());
      out.end(body);
    });
  });
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

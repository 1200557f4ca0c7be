/**
 * A recording HTTP hop between the gateway and Chroma (as test/integration/support/tap.ts, which
 * bench/ cannot import): it forwards everything and notes when each request's head arrives
 * (performance.now() of the bench process), so the bench can time an approval up to the moment
 * the held request reaches the database.
 */
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface UpstreamArrival {
  method: string;
  url: string;
  /** the request body as text */
  body: string;
  /** performance.now() when the request head arrived */
  at: number;
}

export interface RecordingHop {
  url: string;
  /** every request received, in order of arrival of its body */
  arrivals: UpstreamArrival[];
  /** the first arrival from now on that matches */
  next(match: (a: UpstreamArrival) => boolean, timeoutMs: number): Promise<UpstreamArrival>;
  close(): Promise<void>;
}

export async function startRecordingHop(target: string): Promise<RecordingHop> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const sockets = new Set<Socket>();
  const waiters = new Set<{ match: (a: UpstreamArrival) => boolean; resolve: (a: UpstreamArrival) => void }>();
  const arrivals: UpstreamArrival[] = [];

  const server: Server = createServer((req, res) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const arrival: UpstreamArrival = { method: req.method ?? '', url: req.url ?? '', body: body.toString('utf8'), at };
      arrivals.push(arrival);
      for (const w of waiters) {
        if (!w.match(arrival)) continue;
        waiters.delete(w);
        w.resolve(arrival);
      }
      const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host }, agent }, (up) => {
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    next(match, timeoutMs) {
      return new Promise<UpstreamArrival>((resolve, reject) => {
        const waiter = {
          match,
          resolve: (a: UpstreamArrival) => {
            clearTimeout(timer);
            resolve(a);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching upstream request within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}

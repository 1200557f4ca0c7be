import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface HopCall {
  /** Web API method, e.g. chat.postMessage */
  method: string;
  at: number;
  /** Slack carried the call out but its answer was withheld from the caller */
  held: boolean;
}

/**
 * A hop between the Slack app and the (fake) Slack Web API that can withhold answers: a held call
 * reaches Slack, which carries it out, but the caller never hears back, as when a worker dies after
 * its post went out and before the answer arrived. Held requests are let go only when the caller's
 * connection goes (the worker is killed) or the hop closes.
 */
export interface SlackHop {
  /** the Web API base for slackApiUrl */
  apiUrl: string;
  calls: HopCall[];
  /** withhold the answers of every later call of `method` until release(method) */
  hold(method: string): void;
  release(method: string): void;
  close(): Promise<void>;
}

export async function startSlackHop(targetApiUrl: string): Promise<SlackHop> {
  const target = new URL(targetApiUrl);
  const holding = new Set<string>();
  const sockets = new Set<Socket>();
  const calls: HopCall[] = [];

  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const method = path.replace(/^\/api\//, '').split('?')[0] ?? '';
      const out = request({ host: target.hostname, port: target.port, method: req.method, path, headers: { ...req.headers, host: target.host } }, (up) => {
        const answer: Buffer[] = [];
        up.on('data', (c: Buffer) => answer.push(c));
        up.on('end', () => {
          const held = holding.has(method);
          calls.push({ method, at: Date.now(), held });
          if (held) return; // the caller waits until its connection goes
          res.writeHead(up.statusCode ?? 502, up.headers);
          res.end(Buffer.concat(answer));
        });
      });
      out.on('error', () => res.destroy());
      out.end(Buffer.concat(chunks));
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    apiUrl: `${base}/api/`,
    calls,
    hold: (method) => void holding.add(method),
    release: (method) => void holding.delete(method),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

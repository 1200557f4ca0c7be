import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestHandler } from './link/callback-route';

export interface RouteServer {
  address(): { host: string; port: number };
  stop(): Promise<void>;
}

/** A plain HTTP server for a few exact paths: the link callback when Slack talks over Socket Mode. */
export function startRouteServer(routes: Record<string, RequestHandler>, host: string, port: number): Promise<RouteServer> {
  const server: Server = createServer((req, res) => {
    const handler = routes[new URL(req.url ?? '/', 'http://routes.invalid').pathname];
    if (handler) {
      handler(req, res);
      return;
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        address: () => {
          const a = server.address() as AddressInfo;
          return { host: a.address, port: a.port };
        },
        stop: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

import { createServer } from 'node:net';

/**
 * A port nothing listens on right now. Another process may take it before the server binds it;
 * the start then fails with the server's own "address in use" in its log, which is rare enough.
 */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

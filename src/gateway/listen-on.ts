import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on host:port (0: any free port) and resolves to the URL it answers on, an IPv6 host in brackets. */
export async function listenOn(server: Server, listen: { host: string; port: number }): Promise<string> {
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(listen.port, listen.host, () => resolve()));
  const { port } = server.address() as AddressInfo;
  return `http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${port}`;
}

import { connect } from 'node:net';

/** Sends bytes exactly as given (no client library fixing them up) and returns the raw answer. */
export function rawRequest(port: number, text: string | Buffer, options: { holdOpenMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.write(text);
    if (options.holdOpenMs === undefined) return;
    setTimeout(() => socket.end(), options.holdOpenMs);
  });
}

export function statusOf(raw: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0);
}

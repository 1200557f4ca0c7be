import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createUpstream, type BodyRead, type Upstream, type UpstreamResponse } from '../../src/forward/upstream';
import { isVecgateError } from '../../src/errors';

/** A stand-in database over loopback: each test sets how it answers. */
interface FakeDatabase {
  url: string;
  seen: Array<{ method: string; url: string; body: string }>;
  sockets: Set<Socket>;
  answer: (req: IncomingMessage, res: ServerResponse) => void;
  close(): Promise<void>;
}

async function startDatabase(): Promise<FakeDatabase> {
  const db: FakeDatabase = {
    url: '',
    seen: [],
    sockets: new Set(),
    answer: (_req, res) => res.end('{}'),
    close: async () => {
      for (const s of db.sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      db.seen.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString() });
      db.answer(req, res);
    });
  });
  server.on('connection', (s: Socket) => {
    db.sockets.add(s);
    s.on('close', () => db.sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  db.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return db;
}

const NO_BODY = Buffer.alloc(0);
const get = (up: Upstream, target = '/x', method = 'GET') => up.request({ method, target, headers: { host: 'db' }, body: NO_BODY });

async function readStream(res: UpstreamResponse): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const whole = (read: BodyRead) => Buffer.concat(read.chunks);

/** Writes `total` bytes in 64 KiB chunks, waiting for the socket to drain; counts what it could hand over. */
function writeBig(res: ServerResponse, total: number, progress: { written: number }): void {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
  const more = (): void => {
    while (progress.written < total) {
      progress.written += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', more);
    }
    res.end();
  };
  more();
}

describe('upstream: answers are passed on as they came', () => {
  let db: FakeDatabase;
  let up: Upstream;
  beforeAll(async () => {
    db = await startDatabase();
    up = createUpstream(`${db.url}/base/`, { connections: 4, connectTimeoutMs: 1000, timeoutMs: 1000 });
  });
  afterAll(async () => {
    await up.close();
    await db.close();
  });

  test('a small answer is read whole, with its status and headers, and connections are kept for the next requests', async () => {
    db.answer = (_req, res) => res.writeHead(201, { 'content-type': 'application/json', 'content-length': '11', 'x-db': 'yes' }).end('{"ok":true}');
    const first = await up.request({ method: 'POST', target: '/items?x=1', headers: { host: 'db', 'content-type': 'application/json' }, body: Buffer.from('{"a":1}') });
    expect(first.status).toBe(201);
    expect(first.headers['x-db']).toBe('yes');
    expect(first.headers['content-length']).toBe('11');
    expect(await first.readUpTo?.(64 * 1024)).toEqual({ chunks: [Buffer.from('{"ok":true}')], complete: true });
    const second = await get(up);
    expect(whole((await second.readUpTo?.(64 * 1024)) as BodyRead).toString()).toBe('{"ok":true}');
    expect(db.seen.slice(-2)).toEqual([
      { method: 'POST', url: '/base/items?x=1', body: '{"a":1}' },
      { method: 'GET', url: '/base/x', body: '' },
    ]);
    // kept alive: more requests one after another open no more connections
    for (let i = 0; i < 5; i++) await (await get(up)).readUpTo?.(1024);
    expect(db.sockets.size).toBeLessThanOrEqual(2);
  });

  test('a chunked answer that arrives in pieces is read whole', async () => {
    db.answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('one,');
      setTimeout(() => res.write('two,'), 20);
      setTimeout(() => res.end('three'), 40);
    };
    const res = await get(up);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    const read = (await res.readUpTo?.(1024)) as BodyRead;
    expect(read.complete).toBe(true);
    expect(whole(read).toString()).toBe('one,two,three');
  });

  test.each<[string, string, number]>([
    ['HEAD announces a length it does not carry', 'HEAD', 200],
    ['204 No Content', 'GET', 204],
    ['304 Not Modified', 'GET', 304],
  ])('%s: an empty, complete body', async (_name, method, status) => {
    db.answer = (_req, res) => res.writeHead(status, status === 200 ? { 'content-length': '1234' } : {}).end(method === 'HEAD' ? undefined : '');
    const res = await get(up, '/x', method);
    expect(res.status).toBe(status);
    if (method === 'HEAD') expect(res.headers['content-length']).toBe('1234');
    expect(await res.readUpTo?.(1024)).toEqual({ chunks: [], complete: true });
  });

  test('an answer past the limit stops there; its stream carries on with the rest, byte for byte', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    db.answer = (_req, res) => res.writeHead(200, { 'content-length': String(big.length) }).end(big);
    const res = await get(up);
    const read = (await res.readUpTo?.(64 * 1024)) as BodyRead;
    expect(read.complete).toBe(false);
    const head = whole(read);
    expect(head.length).toBeGreaterThan(64 * 1024);
    const rest = await readStream(res);
    expect(Buffer.concat([head, rest]).equals(big)).toBe(true);
  });

  test('a body read only as a stream comes whole', async () => {
    db.answer = (_req, res) => res.end('streamed');
    expect((await readStream(await get(up))).toString()).toBe('streamed');
  });

  test('an answer nobody reads holds the database back (memory stays bounded); a slow reader still gets all of it', async () => {
    const total = 64 * 1024 * 1024;
    const progress = { written: 0 };
    db.answer = (_req, res) => writeBig(res, total, progress);
    const res = await get(up);
    await sleep(300);
    // loopback socket buffers take a few MiB; without backpressure all 64 MiB would be gone
    expect(progress.written).toBeLessThan(16 * 1024 * 1024);
    let received = 0;
    for await (const c of res.body) {
      received += (c as Buffer).length;
      if (received < 1024 * 1024) await sleep(1);
    }
    expect(received).toBe(total);
  });

  test('leaving a stream before its end aborts the upstream request', async () => {
    const progress = { written: 0 };
    let socket: Socket | undefined;
    db.answer = (req, res) => {
      socket = req.socket;
      writeBig(res, 64 * 1024 * 1024, progress);
    };
    const before = db.seen.length;
    const res = await get(up);
    const read = (await res.readUpTo?.(128 * 1024)) as BodyRead;
    expect(read.complete).toBe(false);
    res.body.destroy();
    await sleep(100);
    expect(socket?.destroyed).toBe(true);
    expect(progress.written).toBeLessThan(64 * 1024 * 1024);
    // the next request still works, on a fresh connection
    db.answer = (_req, r) => r.end('after');
    expect(whole((await (await get(up)).readUpTo?.(1024)) as BodyRead).toString()).toBe('after');
    expect(db.seen.length - before).toBe(2);
  });
});

describe('upstream failures are mapped and nothing is retried', () => {
  let db: FakeDatabase;
  let up: Upstream;
  beforeAll(async () => {
    db = await startDatabase();
    up = createUpstream(db.url, { connections: 2, connectTimeoutMs: 1000, timeoutMs: 300 });
  });
  afterAll(async () => {
    await up.close();
    await db.close();
  });

  const post = () => up.request({ method: 'POST', target: '/add', headers: { host: 'db', 'content-type': 'application/json' }, body: Buffer.from('{"ids":["r1"]}') });

  test('a connection cut before the answer: UPSTREAM_RESET, and the write was sent once', async () => {
    db.answer = (req) => req.socket.destroy();
    const before = db.seen.length;
    await expect(post()).rejects.toMatchObject({ code: 'UPSTREAM_RESET' });
    await sleep(50);
    expect(db.seen.length - before).toBe(1);
  });

  test('no headers in time: UPSTREAM_TIMEOUT, and the write was sent once', async () => {
    db.answer = () => undefined;
    const before = db.seen.length;
    await expect(post()).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(db.seen.length - before).toBe(1);
  });

  test('a connection cut mid-body fails the read, whether read whole or streamed', async () => {
    db.answer = (req, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(1000));
      setTimeout(() => req.socket.destroy(), 20);
    };
    const whole = await post();
    expect(whole.status).toBe(200);
    await expect(whole.readUpTo?.(1024 * 1024)).rejects.toThrow();
    const streamed = await post();
    await expect(readStream(streamed)).rejects.toThrow();
  });

  test('a body that stalls fails the read after the timeout', async () => {
    db.answer = (_req, res) => {
      res.writeHead(200, { 'content-length': '10' });
      res.write('12345');
    };
    const res = await post();
    const err = await (res.readUpTo?.(1024) as Promise<BodyRead>).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
  });

  test('a refused connection: UPSTREAM_UNREACHABLE', async () => {
    const closed = await startDatabase();
    const url = closed.url;
    await closed.close();
    const refused = createUpstream(url, { connections: 1, connectTimeoutMs: 1000, timeoutMs: 1000 });
    try {
      const err = await get(refused).catch((e: unknown) => e);
      expect(isVecgateError(err) && err.code).toBe('UPSTREAM_UNREACHABLE');
    } finally {
      await refused.close();
    }
  });
});

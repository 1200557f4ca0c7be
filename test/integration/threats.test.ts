import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ChromaClient } from 'chromadb';
import { SignJWT, generateKeyPair } from 'jose';
import { findFreePort } from '../../src/devstack/ports';
import { readDevStackEnv, serverBinaries } from '../../src/devstack';
import { startFerretDb } from '../../src/devstack/ferretdb';
import type { AuditEvent } from '../../src/audit/event';
import { eventually } from './support/eventually';
import { startTestGateway, type TestGateway } from './support/gateway';
import { rawRequest, statusOf } from './support/raw-http';
import { startTap, type Tap } from './support/tap';
import { testChromas, testStack, tokenFor } from '../support/stack';

const NO_EMBEDDING = null as unknown as undefined;
const P = '/api/v2/tenants/default_tenant/databases/default_database';

describe.each(testChromas())('bad input at the gateway (THREATS 1, 10-14, 16), in front of $label', (chroma) => {
  let tap: Tap;
  let gw: TestGateway;
  let alice: string;
  let carol: string;
  let docsId: string;
  const docs = `docs-threat-${randomBytes(3).toString('hex')}`;
  const post = (path: string, body: unknown, token = alice, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  beforeAll(async () => {
    tap = await startTap(chroma.url);
    gw = await startTestGateway({ upstream: tap.url, gateway: { maxBodyBytes: 64 * 1024, maxJsonDepth: 16, bodyTimeoutMs: 800 } });
    [alice, carol] = await Promise.all([tokenFor('alice'), tokenFor('carol')]);
    const c = await new ChromaClient({ host: gw.host, port: gw.port, headers: { authorization: `Bearer ${carol}` } }).createCollection({ name: docs, embeddingFunction: NO_EMBEDDING });
    docsId = c.id;
  });
  afterAll(async () => {
    await gw.close();
    await tap.close();
  });

  test('tokens that do not verify get 401, are audited, and are never forwarded (THREATS 1)', async () => {
    const before = tap.seen.length;
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const claims = Buffer.from(JSON.stringify({ sub: 'admin', aud: 'vecgate', iss: testStack().oidcIssuer, exp: 9999999999 })).toString('base64url');
    const { privateKey } = await generateKeyPair('RS256');
    const foreign = await new SignJWT({ groups: ['data-stewards'] }).setProtectedHeader({ alg: 'RS256', kid: 'foreign' }).setSubject('mallory').setIssuer(testStack().oidcIssuer).setAudience('vecgate').setExpirationTime('5m').sign(privateKey);
    const cases: Array<[string, Record<string, string>, string]> = [
      ['no token', {}, 'TOKEN_MISSING'],
      ['alg none', { authorization: `Bearer ${header}.${claims}.` }, 'TOKEN_INVALID'],
      ['garbage', { authorization: 'Bearer not.a.jwt' }, 'TOKEN_INVALID'],
      ['a key the provider never published', { authorization: `Bearer ${foreign}` }, 'TOKEN_INVALID'],
      ['Basic credentials', { authorization: 'Basic YWRtaW46YWRtaW4=' }, 'TOKEN_INVALID'],
    ];
    for (const [name, headers, code] of cases) {
      const res = await fetch(`${gw.url}/api/v2/heartbeat`, { headers });
      expect([name, res.status, res.headers.get('x-vecgate-error')]).toEqual([name, 401, code]);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
    }
    expect(tap.seen.length).toBe(before);
    const audited = await gw.events({ status: 401 });
    expect(audited.map((e) => e.error?.code)).toEqual(cases.map((c) => c[2]));
    for (const e of audited) {
      expect(e.principal).toBeNull();
      expect(e.decision.effect).toBe('none');
    }
  });

  test('a collection the caller may not touch is refused wherever it is named (THREATS 10)', async () => {
    const before = tap.seen.length;
    const secret = `secret-${randomBytes(3).toString('hex')}`;
    const cases: Array<[string, () => Promise<Response>]> = [
      ['in the path, by name', () => fetch(`${gw.url}${P}/collections/${secret}`, { headers: { authorization: `Bearer ${alice}` } })],
      ['in the body of a create', () => post(`${P}/collections`, { name: secret, get_or_create: true })],
      ['as the target of a fork', () => post(`${P}/collections/${docsId}/fork`, { new_name: secret })],
      ['as a rename target', () => fetch(`${gw.url}${P}/collections/${docsId}`, { method: 'PUT', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' }, body: JSON.stringify({ new_name: secret }) })],
    ];
    for (const [name, send] of cases) {
      const res = await send();
      expect([name, res.status]).toEqual([name, 403]);
    }
    expect(tap.seen.length).toBe(before);
  });

  test('path tricks are refused and the upstream target never changes (THREATS 11)', async () => {
    const before = tap.seen.length;
    const cases: Array<[string, string, number]> = [
      ['encoded dot-dot', `GET /api/v2/%2e%2e/%2e%2e/api/v2/reset HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice}\r\nConnection: close\r\n\r\n`, 400],
      ['absolute-form target', `GET http://evil.example/api/v2/heartbeat HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer ${alice}\r\nConnection: close\r\n\r\n`, 400],
      ['encoded slash', `GET /api/v2%2Fheartbeat HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice}\r\nConnection: close\r\n\r\n`, 400],
    ];
    for (const [name, text, status] of cases) {
      expect([name, statusOf(await rawRequest(gw.port, text))]).toEqual([name, status]);
    }
    expect(tap.seen.length).toBe(before);

    const tricked = await rawRequest(gw.port, `GET //api//v2/heartbeat HTTP/1.1\r\nHost: evil.example\r\nX-Forwarded-Host: evil.example\r\nX-Vecgate-Approved: yes\r\nX-Forwarded-User: admin\r\nAuthorization: Bearer ${alice}\r\nConnection: close\r\n\r\n`);
    expect(statusOf(tricked)).toBe(200);
    const seen = tap.seen.at(-1);
    expect(seen?.url).toBe('/api/v2/heartbeat');
    expect(seen?.headers.host).toBe(new URL(tap.url).host);
    // THREATS 13: identity and approval claims of the caller never reach the database
    expect(Object.keys(seen?.headers ?? {}).filter((h) => h.startsWith('x-vecgate') || h.startsWith('x-forwarded'))).toEqual([]);
  });

  test('ambiguous framing is refused with 400 and audited (THREATS 12)', async () => {
    const before = tap.seen.length;
    const body = '{"ids":["a"]}';
    const head = `POST ${P}/collections/${docsId}/get HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice}\r\nContent-Type: application/json\r\n`;
    const cases: Array<[string, string]> = [
      ['content-length and chunked', `${head}Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`],
      ['two different content-lengths', `${head}Content-Length: ${body.length}\r\nContent-Length: 3\r\nConnection: close\r\n\r\n${body}`],
      ['two equal content-lengths', `${head}Content-Length: ${body.length}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`],
    ];
    for (const [name, text] of cases) {
      expect([name, statusOf(await rawRequest(gw.port, text))]).toEqual([name, 400]);
    }
    expect(tap.seen.length).toBe(before);
    const refused = await gw.events({ 'error.code': 'BAD_FRAMING' });
    expect(refused.length).toBe(cases.length);
  });

  test('oversized, deeply nested and slow bodies are refused (THREATS 14)', async () => {
    const before = tap.seen.length;
    const big = await post(`${P}/collections/${docsId}/add`, { ids: ['x'], embeddings: [[1, 0, 0]], documents: ['y'.repeat(70 * 1024)] });
    expect(big.status).toBe(413);
    const deep = await post(`${P}/collections/${docsId}/get`, `{"ids":["a"],"where":${'{"$and":['.repeat(20)}{}${']}'.repeat(20)}}`);
    expect(deep.status).toBe(413);
    expect(deep.headers.get('x-vecgate-error')).toBe('BODY_TOO_DEEP');
    const slow = await rawRequest(gw.port, `POST ${P}/collections/${docsId}/get HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ids":`, { holdOpenMs: 3000 });
    expect(statusOf(slow)).toBe(408);
    expect(tap.seen.length).toBe(before);
    const codes = (await gw.events({ status: { $in: [408, 413] } })).map((e) => e.error?.code).sort();
    expect(codes).toEqual(['BODY_TIMEOUT', 'BODY_TOO_DEEP', 'BODY_TOO_LARGE']);
  });

  test('unknown endpoints are denied by default with the reason (THREATS 16)', async () => {
    const before = tap.seen.length;
    for (const [method, path] of [['GET', '/api/v1/collections'], ['DELETE', `${P}/collections/${docsId}/add`], ['POST', '/api/v2/tenants/default_tenant/databases/default_database/collections/x/y/z']] as const) {
      const res = await fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${carol}` } });
      expect(res.status).toBe(403);
      expect(res.headers.get('x-vecgate-error')).toBe('UNKNOWN_ENDPOINT');
      expect(((await res.json()) as { message: string }).message).toMatch(/denied by default/);
    }
    expect(tap.seen.length).toBe(before);
  });
});

describe.each(testChromas())('upstream faults (THREATS 27), in front of $label', (chroma) => {
  let tap: Tap;
  let gw: TestGateway;
  let carol: string;
  let docsId: string;

  beforeAll(async () => {
    tap = await startTap(chroma.url);
    gw = await startTestGateway({ upstream: tap.url, gateway: { upstreamTimeoutMs: 700 } });
    carol = await tokenFor('carol');
    const name = `docs-fault-${randomBytes(3).toString('hex')}`;
    docsId = (await new ChromaClient({ host: gw.host, port: gw.port, headers: { authorization: `Bearer ${carol}` } }).createCollection({ name, embeddingFunction: NO_EMBEDDING })).id;
  });
  afterAll(async () => {
    await gw.close();
    await tap.close();
  });

  const add = () =>
    fetch(`${gw.url}${P}/collections/${docsId}/add`, {
      method: 'POST',
      headers: { authorization: `Bearer ${carol}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ids: ['r1'], embeddings: [[1, 2, 3]], documents: ['d'] }),
    });

  test.each<['reset' | 'hang', number, string]>([
    ['reset', 502, 'UPSTREAM_RESET'],
    ['hang', 504, 'UPSTREAM_TIMEOUT'],
  ])('an upstream that does %s gives %i in Chroma\'s shape, audited, and the write is sent once', async (mode, status, code) => {
    tap.mode = mode;
    const before = tap.seen.length;
    try {
      const res = await add();
      expect(res.status).toBe(status);
      expect(res.headers.get('x-vecgate-error')).toBe(code);
      expect(await res.json()).toEqual({ error: expect.any(String), message: expect.stringContaining('vector database') });
    } finally {
      tap.mode = 'forward';
    }
    expect(tap.seen.length - before).toBe(1);
    const [e] = await gw.events({ 'error.code': code });
    expect(e?.status).toBe(status);
    expect(e?.decision.effect).toBe('allow');
  });

  test('an upstream that refuses connections gives 502', async () => {
    const closedPort = await findFreePort();
    const refusing = await startTestGateway({ upstream: `http://127.0.0.1:${closedPort}` });
    try {
      const res = await fetch(`${refusing.url}/api/v2/heartbeat`, { headers: { authorization: `Bearer ${carol}` } });
      expect(res.status).toBe(502);
      expect(res.headers.get('x-vecgate-error')).toBe('UPSTREAM_UNREACHABLE');
      const [e] = await refusing.events();
      expect(e?.error?.code).toBe('UPSTREAM_UNREACHABLE');
    } finally {
      await refusing.close();
    }
  });
});

describe('MongoDB down (THREATS 28)', () => {
  test('events wait durably in the spool; once it is full requests are refused with 503; after recovery nothing is missing or doubled', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vecgate-ferret-'));
    const port = await findFreePort();
    const start = () =>
      startFerretDb({ binary: serverBinaries(readDevStackEnv(process.env).cacheDir).ferretdb, dataDir, logFile: join(dataDir, 'ferretdb.log'), port, process: { readyTimeoutMs: 30000, stopGraceMs: 3000 } });
    let ferret = await start();
    // a small spool, so that it fills within a few dozen requests
    const gw = await startTestGateway({ mongoUri: ferret.uri, audit: { spool: { dir: mkdtempSync(join(tmpdir(), 'vecgate-spool-')), maxBytes: 65536, segmentBytes: 4096, reserveBytes: 4096 } } });
    const token = await tokenFor('carol');
    const heartbeat = () => fetch(`${gw.url}/api/v2/heartbeat`, { headers: { authorization: `Bearer ${token}` } });
    try {
      expect((await heartbeat()).status).toBe(200);
      await gw.gateway.audit.flush();
      await ferret.process.stop();

      // MongoDB is away: requests are still served, each event durable in the spool, until it is full
      const statuses: number[] = [];
      for (let i = 0; i < 300 && statuses.filter((x) => x === 503).length < 3; i++) statuses.push((await heartbeat()).status);
      const served = statuses.filter((x) => x === 200).length;
      expect(served).toBeGreaterThan(10);
      expect(statuses.slice(0, served)).toEqual(statuses.slice(0, served).map(() => 200));
      expect(statuses.slice(served)).toEqual([503, 503, 503]);
      expect((await fetch(`${gw.gateway.adminUrl}/readyz`)).status).toBe(503);

      ferret = await start();
      await eventually('the gateway is ready again once the spool drained', 30000, async () => ((await fetch(`${gw.gateway.adminUrl}/readyz`)).status === 200 ? true : undefined));
      const events = await eventually('the refusals are summarised', 10000, async () => {
        const all = await gw.events();
        return all.some((e) => e.status === 503) ? all : undefined;
      });
      // every served request has its own event; the refusals made while the spool was full are one summary
      expect(events.filter((e) => e.status === 200)).toHaveLength(1 + served);
      const refusals = events.filter((e) => e.status === 503);
      expect(refusals.every((e) => e.error?.code === 'AUDIT_UNAVAILABLE')).toBe(true);
      expect(refusals.reduce((n, e) => n + (e.refusedCount ?? 1), 0)).toBe(3);
      expect(events.every((e, i) => i === 0 || e.seq === (events[i - 1] as AuditEvent).seq + 1)).toBe(true);
      expect(new Set(events.map((e) => e.requestId)).size).toBe(events.length);
    } finally {
      await gw.close();
      await ferret.process.stop();
    }
  });
});

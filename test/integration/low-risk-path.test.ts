import { createHash, randomBytes } from 'node:crypto';
import { ChromaClient } from 'chromadb';
import { startTestGateway, type TestGateway } from './support/gateway';
import { startTap, type Tap } from './support/tap';
import { testChromas, testStack, tokenFor } from '../support/stack';

/** chromadb accepts null at run time (its types say otherwise): never compute embeddings. */
const NO_EMBEDDING = null as unknown as undefined;
const GATEWAY_SECRET = 'gateway-only-upstream-credential';

describe.each(testChromas())('the low-risk path through the gateway with the official chromadb client, in front of $label', (chroma) => {
  let tap: Tap;
  let gw: TestGateway;
  let tokens: Record<'alice' | 'bob' | 'carol', string>;
  const docs = `docs-it-${randomBytes(3).toString('hex')}`;
  const client = (token: string, header: 'authorization' | 'x-chroma-token' = 'authorization') =>
    new ChromaClient({ host: gw.host, port: gw.port, ssl: false, headers: { [header]: header === 'authorization' ? `Bearer ${token}` : token } });

  beforeAll(async () => {
    tap = await startTap(chroma.url);
    gw = await startTestGateway({ upstream: tap.url, credential: { env: 'IT_CHROMA_TOKEN' }, env: { IT_CHROMA_TOKEN: GATEWAY_SECRET } });
    tokens = { alice: await tokenFor('alice'), bob: await tokenFor('bob'), carol: await tokenFor('carol') };
  });
  afterAll(async () => {
    await gw.close();
    await tap.close();
  });

  test('a steward creates a collection, a scientist adds, queries and gets by id; each request is audited', async () => {
    const carol = client(tokens.carol);
    await carol.createCollection({ name: docs, embeddingFunction: NO_EMBEDDING });

    // alice's token arrives in Chroma's own API-key header: unchanged clients configured that way work too
    const alice = client(tokens.alice, 'x-chroma-token');
    const collection = await alice.getCollection({ name: docs, embeddingFunction: NO_EMBEDDING });
    await collection.add({
      ids: ['a', 'b', 'c'],
      embeddings: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
      documents: ['alpha', 'beta', 'gamma'],
      metadatas: [{ n: 1 }, { n: 2 }, { n: 3 }],
    });
    const found = await collection.query({ queryEmbeddings: [[0.9, 0.1, 0]], nResults: 2 });
    expect(found.ids).toEqual([['a', 'b']]);
    const byId = await collection.get({ ids: ['c'], include: ['documents', 'metadatas', 'embeddings'] as never });
    expect(byId.documents).toEqual(['gamma']);
    expect(byId.embeddings).toEqual([[0, 0, 1]]);
    expect(await collection.count()).toBe(3);

    const events = await gw.events({ 'principal.subject': 'u-1001-alice' });
    const ops = events.map((e) => `${e.operation}:${e.decision.effect}:${e.status}`);
    expect(ops).toEqual(expect.arrayContaining(['read:allow:200', 'write:allow:201', 'search:allow:200']));
    for (const e of events) {
      expect(e.principal).toEqual({ subject: 'u-1001-alice', email: 'alice@example.test', groups: ['data-scientists'], issuer: testStack().oidcIssuer });
      expect(e.connection).toBe('demo');
      if (e.operation !== 'meta') expect(e.collections).toEqual([docs]);
      expect(e.latencyMs).toBeGreaterThan(0);
      expect(e.decision.ruleId).toBeTruthy();
    }
    const write = events.find((e) => e.operation === 'write');
    expect(write?.bytesIn).toBeGreaterThan(50);
    expect(write?.request.endpoint).toBe('chroma.collection_add');
    const search = events.find((e) => e.operation === 'search');
    expect(search?.bytesOut).toBeGreaterThan(20);
  });

  test('the metrics show where a request\'s time went: a slow database under step="upstream", the audit commit under step="audit"', async () => {
    /** a series of vecgate_request_step_duration_seconds for one step, e.g. bucket le="0.25" or count */
    const series = async (step: string, le?: string): Promise<number> => {
      const text = await (await fetch(`${gw.gateway.adminUrl}/metrics`)).text();
      const line = text.split('\n').find((l) => (le ? l.startsWith('vecgate_request_step_duration_seconds_bucket{') && l.includes(`le="${le}"`) : l.startsWith('vecgate_request_step_duration_seconds_count{')) && l.includes(`step="${step}"`));
      return Number(line?.split(' ').pop() ?? 0);
    };
    const before = { fast: await series('upstream', '0.25'), slow: await series('upstream', '1'), audit: await series('audit') };
    tap.delayMs = 400;
    try {
      const res = await fetch(`http://${gw.host}:${gw.port}/api/v2/heartbeat`, { headers: { authorization: `Bearer ${tokens.alice}` } });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    } finally {
      tap.delayMs = undefined;
    }
    expect(await series('upstream', '0.25')).toBe(before.fast);
    expect(await series('upstream', '1')).toBe(before.slow + 1);
    expect(await series('audit')).toBe(before.audit + 1);
  });

  test('every request the upstream saw carries the gateway credential and never the caller token', async () => {
    expect(tap.seen.length).toBeGreaterThan(4);
    const callerTokens = Object.values(tokens);
    for (const r of tap.seen) {
      const all = JSON.stringify(r.headers);
      for (const t of callerTokens) expect(all).not.toContain(t);
      expect(r.headers['x-chroma-token']).toBe(GATEWAY_SECRET);
      expect(r.headers.authorization).toBeUndefined();
    }
  });

  test('every request, allowed or not, leaves exactly one audit event with a gapless sequence', async () => {
    const events = await gw.events();
    expect(events.length).toBeGreaterThanOrEqual(tap.seen.length);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    expect(new Set(events.map((e) => e.requestId)).size).toBe(events.length);
  });

  test('a caller without the right gets a 403 that the client raises, and the denial is audited', async () => {
    const before = tap.seen.length;
    const bob = client(tokens.bob);
    await expect(bob.getCollection({ name: docs, embeddingFunction: NO_EMBEDDING })).rejects.toMatchObject({ name: 'ChromaForbiddenError' });
    expect(tap.seen.length).toBe(before);
    const [denied] = await gw.events({ 'principal.subject': 'u-1002-bob', status: 403 });
    expect(denied?.decision).toEqual({ effect: 'deny', ruleId: 'default-deny', explanation: expect.stringContaining(`collection "${docs}"`) });
  });

  test('the 403 body is in Chroma\'s error shape and explains the decision', async () => {
    const res = await fetch(`${gw.url}/api/v2/tenants/default_tenant/databases/default_database/collections/${docs}`, { headers: { authorization: `Bearer ${tokens.bob}` } });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-vecgate-error')).toBe('POLICY_DENIED');
    const body = (await res.json()) as { error: string; message: string };
    expect(body.message).toContain('No rule grants u-1002-bob (groups: analysts) read');
    expect(typeof body.error).toBe('string');
  });

  test('a bulk export by a scientist needs approval and is not forwarded', async () => {
    const before = tap.seen.length;
    const alice = client(tokens.alice);
    const collection = await alice.getCollection({ name: docs, embeddingFunction: NO_EMBEDDING });
    await expect(collection.get()).rejects.toMatchObject({ name: 'ChromaForbiddenError' });
    expect(tap.seen.filter((r) => r.url.endsWith('/get'))).toHaveLength(tap.seen.slice(0, before).filter((r) => r.url.endsWith('/get')).length);
    const [review] = await gw.events({ operation: 'export' });
    expect(review?.decision.effect).toBe('review');
    expect(review?.bulk).toBe(true);
    expect(review?.error?.code).toBe('APPROVAL_REQUIRED');
  });

  test('data operations by collection id are judged by the collection name the database reports', async () => {
    const secret = `secret-${randomBytes(3).toString('hex')}`;
    const created = await client(tokens.carol).createCollection({ name: secret, embeddingFunction: NO_EMBEDDING });
    // a fresh gateway has never seen this id: it must ask the database, not trust the caller
    const fresh = await startTestGateway({ upstream: tap.url });
    try {
      const res = await fetch(`${fresh.url}/api/v2/tenants/default_tenant/databases/default_database/collections/${created.id}/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query_embeddings: [[1, 0, 0]], n_results: 1 }),
      });
      expect(res.status).toBe(403);
      const [e] = await fresh.events({ status: 403 });
      expect(e?.collections).toEqual([secret]);
      expect(e?.decision.ruleId).toBe('no-secrets-for-scientists');

      const unknown = await fetch(`${fresh.url}/api/v2/tenants/default_tenant/databases/default_database/collections/00000000-0000-4000-8000-000000000000/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
        body: '{"query_embeddings":[[1,0,0]],"n_results":1}',
      });
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('x-vecgate-error')).toBe('COLLECTION_UNRESOLVED');
    } finally {
      await fresh.close();
    }
  });

  test('request bodies reach the upstream byte for byte (THREATS 15)', async () => {
    const collection = await client(tokens.alice).getCollection({ name: docs, embeddingFunction: NO_EMBEDDING });
    // odd spacing, key order and escapes: a re-serialising proxy would change these bytes
    const body = Buffer.from('{ "n_results":1,\n  "query_embeddings" : [[1.0, 0.0, 0.00]], "include":["documents"] , "where": {"n": {"$gte": 1}}, "x": "\\u00e9" }');
    const res = await fetch(`${gw.url}/api/v2/tenants/default_tenant/databases/default_database/collections/${collection.id}/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
      body,
    });
    expect([200, 400, 422]).toContain(res.status); // Chroma may reject the extra key; the bytes are what matter
    const seen = tap.seen.at(-1);
    expect(seen?.bodySha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect(seen?.bodyLength).toBe(body.length);
  });
});

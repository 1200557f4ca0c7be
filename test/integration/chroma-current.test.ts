import { randomBytes } from 'node:crypto';
import { startTestGateway, type TestGateway } from './support/gateway';
import { startTap, type Tap } from './support/tap';
import { testStack, tokenFor } from '../support/stack';

/**
 * The endpoints current Chroma (1.5) adds to 1.0, through the gateway in front of the real 1.5
 * server. Locally only the by-id look-up does its work; fork_count, indexing_status, search and
 * functions answer "not implemented" (they are Chroma Cloud features), which shows that what
 * policy allowed reached the server and what it refused did not.
 */
const P = '/api/v2/tenants/default_tenant/databases/default_database';

describe('endpoints of current Chroma (1.5) through the gateway', () => {
  let tap: Tap;
  let gw: TestGateway;
  let tokens: Record<'alice' | 'bob' | 'carol', string>;
  const docs = `docs-cur-${randomBytes(3).toString('hex')}`;
  const secret = `secret-cur-${randomBytes(3).toString('hex')}`;
  const ids: Record<string, string> = {};

  const call = (token: string, method: string, path: string, body?: unknown) =>
    fetch(`${gw.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const forwarded = (suffix: string) => tap.seen.filter((r) => r.url.endsWith(suffix)).length;

  beforeAll(async () => {
    tap = await startTap(testStack().chromaCurrentUrl);
    gw = await startTestGateway({ upstream: tap.url });
    tokens = { alice: await tokenFor('alice'), bob: await tokenFor('bob'), carol: await tokenFor('carol') };
    for (const name of [docs, secret]) {
      const res = await call(tokens.carol, 'POST', `${P}/collections`, { name });
      expect(res.status).toBe(200);
      ids[name] = ((await res.json()) as { id: string }).id;
    }
  });
  afterAll(async () => {
    await gw.close();
    await tap.close();
  });

  test('a look-up by id is judged by the name the database reports, on a gateway that never saw the id', async () => {
    const fresh = await startTestGateway({ upstream: tap.url });
    try {
      const mine = await fetch(`${fresh.url}${P}/collections/by-id/${ids[docs]}`, { headers: { authorization: `Bearer ${tokens.alice}` } });
      expect(mine.status).toBe(200);
      expect(await mine.json()).toMatchObject({ id: ids[docs], name: docs });

      const before = forwarded(`/by-id/${ids[secret]}`);
      const theirs = await fetch(`${fresh.url}${P}/collections/by-id/${ids[secret]}`, { headers: { authorization: `Bearer ${tokens.alice}` } });
      expect(theirs.status).toBe(403);
      expect(forwarded(`/by-id/${ids[secret]}`)).toBe(before);
      const [denied] = await fresh.events({ 'request.endpoint': 'chroma.get_collection_by_id', status: 403 });
      expect(denied).toMatchObject({ operation: 'read', collections: [secret], decision: { ruleId: 'no-secrets-for-scientists' } });
    } finally {
      await fresh.close();
    }
  });

  test.each([
    ['fork_count', 'chroma.fork_count'],
    ['indexing_status', 'chroma.indexing_status'],
  ])('GET …/%s is a read: forwarded for a scientist on her collection, refused for an analyst', async (suffix, endpoint) => {
    const path = `${P}/collections/${ids[docs]}/${suffix}`;
    const allowed = await call(tokens.alice, 'GET', path);
    // the local server answers with its own error (Cloud-only feature): it got the request
    expect(allowed.headers.get('x-vecgate-error')).toBeNull();
    const before = forwarded(`/${suffix}`);
    expect((await call(tokens.bob, 'GET', path)).status).toBe(403);
    expect(forwarded(`/${suffix}`)).toBe(before);
    const events = await gw.events({ 'request.endpoint': endpoint });
    expect(events.map((e) => `${e.operation}:${e.decision.effect}`)).toEqual(['read:allow', 'read:deny']);
  });

  test("search reaches the server, whose own 'not implemented' answer comes back unchanged", async () => {
    const res = await call(tokens.alice, 'POST', `${P}/collections/${ids[docs]}/search`, { searches: [{ limit: { limit: 5 } }] });
    expect(res.status).toBe(501);
    expect(res.headers.get('x-vecgate-error')).toBeNull();
    expect(((await res.json()) as { message: string }).message).toContain('not implemented for local executor');
  });

  test('attaching a function is schema on both the input and the output collection', async () => {
    const body = { function_id: 'record_counter', name: 'counter', output_collection: `${docs}-counts`, params: null };
    const before = forwarded('/functions/attach');
    // a scientist's schema change is held for review, and not sent
    expect((await call(tokens.alice, 'POST', `${P}/collections/${ids[docs]}/functions/attach`, body)).status).toBe(403);
    expect(forwarded('/functions/attach')).toBe(before);
    // a steward may: it reaches the server (which does not run functions locally)
    const steward = await call(tokens.carol, 'POST', `${P}/collections/${ids[docs]}/functions/attach`, body);
    expect(steward.headers.get('x-vecgate-error')).toBeNull();
    expect(forwarded('/functions/attach')).toBe(before + 1);
    const events = await gw.events({ 'request.endpoint': 'chroma.attach_function' });
    expect(events.map((e) => [e.operation, e.decision.effect, e.collections])).toEqual([
      ['schema', 'review', [docs, `${docs}-counts`]],
      ['schema', 'allow', [docs, `${docs}-counts`]],
    ]);
  });

  test('an output collection outside the caller\'s rules makes the attach a denial', async () => {
    const body = { function_id: 'record_counter', name: 'leak', output_collection: 'public-mirror', params: null };
    const res = await call(tokens.carol, 'POST', `${P}/collections/${ids[docs]}/functions/attach`, body);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain('public-mirror');
  });

  test('detaching a function and dropping an output collection the request does not name is admin over the connection, refused to a steward of the input', async () => {
    const before = forwarded('/detach');
    const drop = await call(tokens.carol, 'POST', `${P}/collections/${ids[docs]}/attached_functions/counter/detach`, { delete_output: true });
    expect(drop.status).toBe(403);
    expect(forwarded('/detach')).toBe(before);
    const stop = await call(tokens.carol, 'POST', `${P}/collections/${ids[docs]}/attached_functions/counter/detach`, { delete_output: false });
    expect(stop.headers.get('x-vecgate-error')).toBeNull();
    expect(forwarded('/detach')).toBe(before + 1);
    const events = await gw.events({ 'request.endpoint': 'chroma.detach_function' });
    expect(events.map((e) => `${e.operation}:${e.decision.effect}`)).toEqual(['admin:deny', 'schema:allow']);
  });
});

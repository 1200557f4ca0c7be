import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { FakeIdp, newSigningKey, signToken } from '../identity/support/fake-idp';
import { serviceTokenFor, testStack, tokenFor } from '../support/stack';
import { startTestGateway, TEST_RULES, type TestGateway } from './support/gateway';

/**
 * THREATS 33 and issue 7 (items 3, 6, 7, 10): a collection that policy denies stays hidden in
 * listings, under a new name and in other tenants and databases; only access tokens of allowed
 * clients get in. Collections are made directly in Chroma, as someone with the upstream
 * credential (or another tool) would.
 */

const P = '/api/v2/tenants/default_tenant/databases/default_database';
const hex = () => randomBytes(3).toString('hex');
const HR_DENY = { id: 'nobody-touches-hr', groups: ['*'], tenants: ['*'], databases: ['*'], collections: ['hr-*'], operations: ['*'], effect: 'deny' };

/** Chroma itself, without the gateway. */
async function direct<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${testStack().chromaUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} directly at Chroma: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function createScope(tenant: string, database: string): Promise<void> {
  await direct('POST', '/api/v2/tenants', { name: tenant });
  await direct('POST', `/api/v2/tenants/${tenant}/databases`, { name: database });
}

async function createDirectly(scopePath: string, name: string, metadata?: Record<string, string>): Promise<string> {
  const c = await direct<{ id: string }>('POST', `${scopePath}/collections`, { name, ...(metadata ? { metadata } : {}) });
  return c.id;
}

function get(gw: TestGateway, path: string, token: string): Promise<Response> {
  return fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
}

describe('tenants and databases in policy (THREATS 33)', () => {
  const tenant = `acme_${hex()}`;
  const scope = `/api/v2/tenants/${tenant}/databases/prod`;
  let secretId: string;
  let alice: string;
  let carol: string;
  let gw: TestGateway;

  beforeAll(async () => {
    await createScope(tenant, 'prod');
    secretId = await createDirectly(scope, 'docs-secret');
    [alice, carol] = await Promise.all([tokenFor('alice'), tokenFor('carol')]);
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw.close();
  });

  test('a data scientist cannot read docs-secret in tenant acme, database prod, when no rule names them', async () => {
    const byName = await get(gw, `${scope}/collections/docs-secret`, alice);
    expect([byName.status, byName.headers.get('x-vecgate-error')]).toEqual([403, 'POLICY_DENIED']);
    const byId = await get(gw, `${scope}/collections/${secretId}/count`, alice);
    expect([byId.status, byId.headers.get('x-vecgate-error')]).toEqual([403, 'POLICY_DENIED']);
    const [event] = await gw.events({ 'request.path': `${scope}/collections/docs-secret` });
    expect(event?.decision.explanation).toContain(`tenant "${tenant}", database "prod"`);
  });

  test('the same name in the default tenant and database stays readable', async () => {
    const name = `docs-default-${hex()}`;
    await createDirectly(P, name);
    expect((await get(gw, `${P}/collections/${name}`, alice)).status).toBe(200);
  });

  test('a connection-level request is judged in the tenant and database it names', async () => {
    expect((await get(gw, `${P}/collections`, carol)).status).toBe(200);
    const other = await get(gw, `${scope}/collections`, carol);
    expect([other.status, other.headers.get('x-vecgate-error')]).toEqual([403, 'POLICY_DENIED']);
    expect((await get(gw, `${scope}/collections_count`, carol)).status).toBe(403);
  });

  test('a rule that names the tenant and database grants them, and only them', async () => {
    await direct('POST', `/api/v2/tenants/${tenant}/databases`, { name: 'staging' });
    await createDirectly(`/api/v2/tenants/${tenant}/databases/staging`, 'docs-secret');
    const acme = { id: 'scientists-acme-prod', groups: ['data-scientists'], tenants: ['acme_*'], databases: ['prod'], collections: ['docs-*'], operations: ['read'], effect: 'allow' };
    const granted = await startTestGateway({ policy: [...TEST_RULES, acme] });
    try {
      expect((await get(granted, `${scope}/collections/docs-secret`, alice)).status).toBe(200);
      expect((await get(granted, `${scope}/collections/${secretId}/count`, alice)).status).toBe(200);
      expect((await get(granted, `/api/v2/tenants/${tenant}/databases/staging/collections/docs-secret`, alice)).status).toBe(403);
    } finally {
      await granted.close();
    }
  });
});

describe('collection names stay fresh (THREATS 33: renames)', () => {
  let alice: string;
  let carol: string;

  beforeAll(async () => {
    [alice, carol] = await Promise.all([tokenFor('alice'), tokenFor('carol')]);
  });

  test('a collection renamed directly in Chroma from docs-x to hr-x is judged by its new name once the TTL passes', async () => {
    const gw = await startTestGateway({ gateway: { collectionNameTtlSeconds: 1 }, policy: [...TEST_RULES, HR_DENY] });
    try {
      const suffix = hex();
      const id = await createDirectly(P, `docs-x-${suffix}`);
      expect((await get(gw, `${P}/collections/${id}/count`, alice)).status).toBe(200);

      await direct('PUT', `${P}/collections/${id}`, { new_name: `hr-x-${suffix}` });
      await sleep(1_200);

      const res = await get(gw, `${P}/collections/${id}/count`, alice);
      expect([res.status, res.headers.get('x-vecgate-error')]).toEqual([403, 'POLICY_DENIED']);
      const events = await gw.events({ 'request.path': `${P}/collections/${id}/count` });
      expect(events.map((e) => e.collections)).toEqual([[`docs-x-${suffix}`], [`hr-x-${suffix}`]]);
    } finally {
      await gw.close();
    }
  });

  test('a rename through another gateway instance takes effect on this one once the TTL passes', async () => {
    const options = { gateway: { collectionNameTtlSeconds: 1 } };
    const [a, b] = await Promise.all([startTestGateway(options), startTestGateway(options)]);
    try {
      const suffix = hex();
      const id = await createDirectly(P, `docs-r-${suffix}`);
      expect((await get(a, `${P}/collections/${id}/count`, alice)).status).toBe(200);
      // a steward may rename docs-* to secret-*, which data scientists may not touch
      const renamed = await fetch(`${b.url}${P}/collections/${id}`, { method: 'PUT', headers: { authorization: `Bearer ${carol}`, 'content-type': 'application/json' }, body: JSON.stringify({ new_name: `secret-r-${suffix}` }) });
      expect(renamed.status).toBe(200);
      await sleep(1_200);
      const res = await get(a, `${P}/collections/${id}/count`, alice);
      expect([res.status, res.headers.get('x-vecgate-error')]).toEqual([403, 'POLICY_DENIED']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('look-ups of unknown collection ids are rate limited per caller with 429', async () => {
    const gw = await startTestGateway({ gateway: { collectionLookupsPerMinute: 2 } });
    try {
      const statuses: Array<[number, string | null]> = [];
      for (let i = 0; i < 3; i += 1) {
        const res = await get(gw, `${P}/collections/${randomUUID()}/count`, alice);
        statuses.push([res.status, res.headers.get('x-vecgate-error')]);
        if (i === 2) expect(await res.text()).toMatch(/too many look-ups of unknown collection ids/i);
      }
      expect(statuses).toEqual([[404, 'COLLECTION_UNRESOLVED'], [404, 'COLLECTION_UNRESOLVED'], [429, 'COLLECTION_LOOKUP_LIMITED']]);
      // another caller has a budget of their own
      expect((await get(gw, `${P}/collections/${randomUUID()}/count`, carol)).status).toBe(404);
    } finally {
      await gw.close();
    }
  });
});

describe('listings show only what the caller may read (THREATS 33: listings)', () => {
  const tenant = `list_${hex()}`;
  const scope = `/api/v2/tenants/${tenant}/databases/main`;
  const visible = ['docs-a', 'docs-b', 'misc-1'];
  const hidden = ['hr-payroll', 'hr-reviews'];
  const hiddenIds: string[] = [];
  let carol: string;
  let gw: TestGateway;

  beforeAll(async () => {
    await createScope(tenant, 'main');
    // created in an interleaved order, so hidden collections sit between visible ones
    for (const name of ['docs-a', 'hr-payroll', 'docs-b', 'hr-reviews', 'misc-1']) {
      const id = await createDirectly(scope, name, { owner: name.startsWith('hr-') ? 'people-team-confidential' : 'data-team' });
      if (name.startsWith('hr-')) hiddenIds.push(id);
    }
    carol = await tokenFor('carol');
    const stewardsList = { id: 'stewards-list-tenant', groups: ['data-stewards'], tenants: [tenant], databases: ['main'], collections: ['*'], operations: ['read'], effect: 'allow' };
    gw = await startTestGateway({ policy: [...TEST_RULES, stewardsList, HR_DENY] });
  });
  afterAll(async () => {
    await gw.close();
  });

  test('a steward listing collections sees no hr-* name, id or metadata; the audit event counts the hidden ones', async () => {
    const res = await get(gw, `${scope}/collections`, carol);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect((JSON.parse(text) as Array<{ name: string }>).map((c) => c.name).sort()).toEqual(visible);
    for (const secret of [...hidden, ...hiddenIds, 'people-team-confidential']) expect(text).not.toContain(secret);
    const [event] = await gw.events({ 'request.path': `${scope}/collections` });
    expect(event).toMatchObject({ status: 200, listing: { hidden: 2 } });
  });

  test('collections_count counts the visible listing', async () => {
    const res = await get(gw, `${scope}/collections_count`, carol);
    expect([res.status, await res.json()]).toEqual([200, visible.length]);
    const [event] = await gw.events({ 'request.path': `${scope}/collections_count` });
    expect(event?.listing).toEqual({ hidden: 2 });
  });

  test("the caller's limit and offset page through the visible listing", async () => {
    const all = (await (await get(gw, `${scope}/collections`, carol)).json()) as Array<{ name: string }>;
    const names = async (query: string) => ((await (await get(gw, `${scope}/collections?${query}`, carol)).json()) as Array<{ name: string }>).map((c) => c.name);
    expect(await names('limit=2&offset=1')).toEqual(all.slice(1, 3).map((c) => c.name));
    expect(await names('offset=2')).toEqual(all.slice(2).map((c) => c.name));
    expect(await names('limit=1')).toEqual(all.slice(0, 1).map((c) => c.name));
    expect(await names('offset=5')).toEqual([]);
  });

  test('a listing query Chroma would refuse is refused, not answered', async () => {
    expect((await get(gw, `${scope}/collections?limit=-1`, carol)).status).toBeGreaterThanOrEqual(400);
    expect((await get(gw, `${scope}/collections?offset=abc`, carol)).status).toBeGreaterThanOrEqual(400);
  });
});

describe('only access tokens of allowed clients get in (issue 7 item 10)', () => {
  let idp: FakeIdp;
  let key: Awaited<ReturnType<typeof newSigningKey>>;
  let gw: TestGateway;

  beforeAll(async () => {
    idp = await FakeIdp.start();
    key = await newSigningKey('it-key');
    idp.publish(key);
    gw = await startTestGateway({ identity: { issuer: idp.issuer, algorithms: ['RS256'], requireTokenType: 'at+jwt', allowedAzp: ['vecgate-cli'] } });
  });
  afterAll(async () => {
    await gw.close();
    await idp.stop();
  });

  test('an ID token with the right audience is refused with 401 TOKEN_WRONG_TYPE; a foreign client with TOKEN_CLIENT_NOT_ALLOWED', async () => {
    const token = (header: Record<string, unknown>, azp: string) => signToken(key, idp, Date.now(), { header, claims: { azp, groups: ['data-stewards'] } });
    const cases: Array<[string, string, number, string | null]> = [
      ['an ID token', await token({ typ: 'JWT' }, 'vecgate-cli'), 401, 'TOKEN_WRONG_TYPE'],
      ['an access token of another client', await token({ typ: 'at+jwt' }, 'rogue-app'), 401, 'TOKEN_CLIENT_NOT_ALLOWED'],
      ['an access token of an allowed client', await token({ typ: 'application/at+jwt' }, 'vecgate-cli'), 200, null],
    ];
    for (const [label, t, status, code] of cases) {
      const res = await get(gw, '/api/v2/heartbeat', t);
      expect([label, res.status, res.headers.get('x-vecgate-error')]).toEqual([label, status, code]);
      if (status === 401) expect(((await res.json()) as { message: string }).message).toMatch(/access token|client application/);
    }
    const refused = await gw.events({ status: 401 });
    expect(refused.map((e) => e.error?.code)).toEqual(['TOKEN_WRONG_TYPE', 'TOKEN_CLIENT_NOT_ALLOWED']);
  });

  test('the test provider issues at+jwt access tokens with an azp the demo allows, for users and service accounts', async () => {
    const real = await startTestGateway({ identity: { requireTokenType: 'at+jwt', allowedAzp: ['vecgate-cli', 'svc-indexer'] } });
    try {
      for (const token of [await tokenFor('alice'), await serviceTokenFor()]) expect((await get(real, '/api/v2/heartbeat', token)).status).toBe(200);
    } finally {
      await real.close();
    }
  });
});

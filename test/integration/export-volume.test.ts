import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChromaClient } from 'chromadb';
import { startTestGateway, TEST_RULES, type TestGateway } from './support/gateway';
import { tokenFor } from '../support/stack';

/**
 * THREATS 31 and 32 as a data scientist would try them (config/demo.yaml: scientists may search and
 * read docs-*, exports need review): taking a whole collection through one large query, many
 * listed ids or paging, across gateway instances; and testing guesses against masked values
 * through filters. Approvals are not configured here, so a review answers APPROVAL_REQUIRED.
 */

const NO_EMBEDDING = null as unknown as undefined;
const P = '/api/v2/tenants/default_tenant/databases/default_database';
const RECORDS = 400;
const MAX_PER_REQUEST = 50;
const WINDOW = { records: 200, seconds: 300 };
/** usage written every 10 ms and read back every 50 ms: another instance's records show within this */
const STALENESS_MS = 600;

const RULES = TEST_RULES.map((r) => (r.id === 'scientists-use-docs' ? { ...r, volume: { maxRecordsPerRequest: MAX_PER_REQUEST, window: WINDOW } } : r));
const MASKING = {
  rules: [{ id: 'docs-personal-data', collections: ['docs-*'], fields: ['metadata.email'], detectors: ['email', 'phone'], style: 'placeholder', exemptGroups: ['pii-readers'] }],
};

describe('export is measured, not guessed; no filter oracles on masked data (THREATS 31, 32)', () => {
  const database = `vecgate_it_${randomBytes(4).toString('hex')}`;
  const bulk = `docs-bulk-${randomBytes(3).toString('hex')}`;
  const pii = `docs-oracle-${randomBytes(3).toString('hex')}`;
  let one: TestGateway;
  let two: TestGateway;
  let reviewing: TestGateway;
  let alice: string;
  let carol: string;
  let bulkId: string;
  let piiId: string;
  const client = (gw: TestGateway, token: string) => new ChromaClient({ host: gw.host, port: gw.port, headers: { authorization: `Bearer ${token}` } });
  const post = (gw: TestGateway, path: string, body: unknown, token = alice) =>
    fetch(`${gw.url}${P}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const ids = (from: number, count: number) => Array.from({ length: count }, (_, i) => `r${from + i}`);

  beforeAll(async () => {
    // two gateway instances sharing one MongoDB database, as a deployment behind a load balancer
    const options = { policy: RULES, masking: MASKING, database, usage: { flushIntervalMs: 10, refreshIntervalMs: 50 } };
    // one after the other: FerretDB drops the connection when two create the same index at once
    one = await startTestGateway(options);
    two = await startTestGateway(options);
    reviewing = await startTestGateway({ policy: RULES, masking: { rules: MASKING.rules.map((r) => ({ ...r, filterOnMasked: 'review' })) } });
    [alice, carol] = await Promise.all([tokenFor('alice'), tokenFor('carol')]);
    const b = await client(one, carol).createCollection({ name: bulk, embeddingFunction: NO_EMBEDDING });
    bulkId = b.id;
    for (let start = 0; start < RECORDS; start += 100) {
      const batch = ids(start, 100);
      await b.add({ ids: batch, embeddings: batch.map((_, i) => [(start + i) / RECORDS, 0.5, 0.25]), documents: batch.map((id) => `record ${id}`), metadatas: batch.map((id) => ({ team: 'ml', id })) });
    }
    const p = await client(one, carol).createCollection({ name: pii, embeddingFunction: NO_EMBEDDING });
    piiId = p.id;
    await p.add({
      ids: ['p1', 'p2', 'p3'],
      embeddings: [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]],
      documents: ['Call jane at jane.doe@example.com', 'ticket about invoices', 'nothing personal here'],
      metadatas: [{ email: 'jane.doe@example.com', team: 'support' }, { email: 'max@example.org', team: 'billing' }, { team: 'ml' }],
    });
  });
  afterAll(async () => {
    await Promise.all([one?.close(), two?.close(), reviewing?.close()]);
  });

  test('a query whose n_results is the whole collection is held as export for review, with the count audited', async () => {
    const docs = await client(one, alice).getCollection({ name: bulk, embeddingFunction: NO_EMBEDDING });
    await expect(docs.query({ queryEmbeddings: [[0.5, 0.5, 0.25]], nResults: RECORDS, include: ['documents', 'metadatas', 'embeddings'] as never })).rejects.toThrow();

    const res = await post(one, `/collections/${bulkId}/query`, { query_embeddings: [[0.5, 0.5, 0.25]], n_results: RECORDS, include: ['documents', 'metadatas', 'embeddings'] });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-vecgate-error')).toBe('APPROVAL_REQUIRED');
    expect(await res.text()).toContain(`it asks for ${RECORDS} records, more than the ${MAX_PER_REQUEST} per request`);
    const [e] = await one.events({ 'request.endpoint': 'chroma.collection_query', 'principal.subject': 'u-1001-alice' });
    expect(e).toMatchObject({ operation: 'export', bulk: true, decision: { effect: 'review', ruleId: 'scientists-bulk-review' }, records: { requested: RECORDS } });
  });

  test('a get listing 400 ids is an export', async () => {
    const res = await post(one, `/collections/${bulkId}/get`, { ids: ids(0, RECORDS), include: ['documents', 'metadatas', 'embeddings'] });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-vecgate-error')).toBe('APPROVAL_REQUIRED');
    const events = await one.events({ 'request.endpoint': 'chroma.collection_get', 'records.requested': RECORDS });
    expect(events.map((e) => [e.operation, e.decision.ruleId])).toEqual([['export', 'scientists-bulk-review']]);
  });

  test('paging 20 listed ids at a time crosses the window across two gateway instances, and further pages are exports', async () => {
    const page = async (gw: TestGateway, n: number) => post(gw, `/collections/${bulkId}/get`, { ids: ids(n * 20, 20), include: ['documents'] });
    // five pages through each instance: 200 records, the whole window, each instance seeing only half itself
    for (let n = 0; n < 10; n++) {
      const res = await page(n < 5 ? one : two, n);
      expect([n, res.status]).toEqual([n, 200]);
      expect(((await res.json()) as { ids: string[] }).ids).toHaveLength(20);
      if (n === 4) await sleep(STALENESS_MS);
    }
    await sleep(STALENESS_MS);
    for (const gw of [one, two]) {
      const res = await page(gw, 10);
      expect(res.status).toBe(403);
      expect(res.headers.get('x-vecgate-error')).toBe('APPROVAL_REQUIRED');
      expect(await res.text()).toContain('you were sent 200 records from this collection within the last 300 s');
    }
    // the one listener the client library uses says the same
    const docs = await client(two, alice).getCollection({ name: bulk, embeddingFunction: NO_EMBEDDING });
    await expect(docs.get({ ids: ids(220, 20) })).rejects.toThrow();

    const served = await two.events({ 'request.endpoint': 'chroma.collection_get', status: 200 });
    expect(served.map((e) => e.records)).toEqual(Array.from({ length: 5 }, () => ({ requested: 20, returned: 20 })));
  });

  test('a $contains guess on masked documents is refused, right or wrong, and says why', async () => {
    for (const guess of ['jane.doe@example.com', 'john@example.com']) {
      const res = await post(one, `/collections/${piiId}/get`, { ids: ['p1'], where_document: { $contains: guess }, include: [] });
      expect(res.status).toBe(403);
      expect(res.headers.get('x-vecgate-error')).toBe('FILTER_ON_MASKED');
      const body = (await res.json()) as { message: string };
      expect(body.message).toContain('which is masked for you');
      expect(body.message).toContain('still work');
      expect(body.message).not.toContain(guess);
    }
    const docs = await client(one, alice).getCollection({ name: pii, embeddingFunction: NO_EMBEDDING });
    await expect(docs.query({ queryEmbeddings: [[0.1, 0.2, 0.3]], nResults: 1, whereDocument: { $regex: 'jane\\.doe@.*' }, include: [] as never })).rejects.toThrow();
  });

  test('an $eq guess on a designated metadata field is refused at any depth of $and/$or', async () => {
    const wheres = [{ email: { $eq: 'jane.doe@example.com' } }, { email: 'jane.doe@example.com' }, { $and: [{ team: 'support' }, { $or: [{ email: { $in: ['a@b.c', 'jane.doe@example.com'] } }, { team: 'x' }] }] }];
    for (const where of wheres) {
      const res = await post(one, `/collections/${piiId}/get`, { ids: ['p1'], where, include: [] });
      expect([JSON.stringify(where), res.status, res.headers.get('x-vecgate-error')]).toEqual([JSON.stringify(where), 403, 'FILTER_ON_MASKED']);
    }
    const refused = await one.events({ 'error.code': 'FILTER_ON_MASKED' });
    expect(refused.length).toBeGreaterThanOrEqual(wheres.length);
    expect(refused.map((e) => [e.status, e.decision.effect, e.decision.ruleId])).toEqual(refused.map(() => [403, 'deny', 'filter-on-masked']));
    expect(JSON.stringify(refused)).not.toContain('jane.doe');
  });

  test('an ordinary filter on a field that is not designated still works for a masked caller', async () => {
    const docs = await client(one, alice).getCollection({ name: pii, embeddingFunction: NO_EMBEDDING });
    const got = await docs.get({ ids: ['p1', 'p2', 'p3'], where: { team: 'support' }, include: ['metadatas'] as never });
    expect(got.ids).toEqual(['p1']);
    expect(got.metadatas[0]?.email).toBe('[REDACTED]');
    const found = await docs.query({ queryEmbeddings: [[0.7, 0.8, 0.9]], nResults: 2, where: { team: { $ne: 'support' } }, include: ['metadatas'] as never });
    expect(found.ids[0]).toEqual(['p3', 'p2']);
  });

  test('an exempt caller filters on the same fields and documents as before', async () => {
    const docs = await client(one, carol).getCollection({ name: pii, embeddingFunction: NO_EMBEDDING });
    const byDocument = await docs.get({ ids: ['p1', 'p2'], whereDocument: { $contains: 'jane.doe@example.com' }, include: [] as never });
    expect(byDocument.ids).toEqual(['p1']);
    const byEmail = await docs.get({ where: { email: 'max@example.org' }, include: [] as never });
    expect(byEmail.ids).toEqual(['p2']);
  });

  test('with filterOnMasked: review, a filter on masked data is held as export for an approver instead', async () => {
    const res = await post(reviewing, `/collections/${piiId}/get`, { ids: ['p1'], where: { email: 'jane.doe@example.com' }, include: [] });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-vecgate-error')).toBe('APPROVAL_REQUIRED');
    const [e] = await reviewing.events({ 'request.endpoint': 'chroma.collection_get' });
    expect(e).toMatchObject({ operation: 'export', decision: { effect: 'review', ruleId: 'scientists-bulk-review' } });
    expect(e?.decision.explanation).toContain('The read counts as export: The filter tests metadata.email, which is masked for you');
  });
});

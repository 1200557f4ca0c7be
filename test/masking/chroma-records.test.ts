import { chromaMaskableRecords } from '../../src/dialect/chroma/records';
import type { Classification } from '../../src/dialect/types';
import { maskingRuleSchema } from '../../src/masking/config';
import { compileMasking } from '../../src/masking/masker';

const classification = (endpoint: string): Classification => ({ endpoint, operation: 'read', collections: [], bulk: false, reason: 'test' });
const ID = '5f1c2a9e-8b7d-4c3e-9a1f-0e2d3c4b5a69';

const plan = compileMasking(
  [maskingRuleSchema.parse({ id: 'pii', fields: ['metadata.ssn'], detectors: ['email', 'phone', 'ipv4'] })],
  { tokenKey: undefined },
).planFor({ connection: 'prod', collections: ['customers'], groups: [] });
if (!plan) throw new Error('expected a plan');

/** What the gateway does with a successful response: mask every record view, then commit it. */
function maskBody(endpoint: string, body: unknown): unknown {
  const views = chromaMaskableRecords(classification(endpoint), body);
  if (views === undefined) throw new Error('unknown shape');
  for (const v of views) {
    plan?.maskRecord(v.data);
    v.commit();
  }
  return body;
}

const getBody = () => ({
  ids: ['r1', 'r2', 'r3'],
  documents: ['mail jane@example.com', null, 'nothing here'],
  metadatas: [{ ssn: '123-45-6789', owner: 'ops@example.com' }, null, { ip: '10.1.2.3', n: 7 }],
  uris: ['s3://bucket/jane@example.com.txt', null, null],
  embeddings: [
    [0.1, 0.2, 0.30000001192092896],
    [1e-7, -0.5, 2],
    [123456789, 0, -0],
  ],
  include: ['documents', 'metadatas', 'uris', 'embeddings'],
});

describe('Chroma get', () => {
  test('documents, metadata and uris are masked; ids and embeddings are deep-equal to the input', () => {
    const input = getBody();
    const original = structuredClone(input);
    const out = maskBody('chroma.collection_get', input) as ReturnType<typeof getBody>;
    expect(out.documents).toEqual(['mail [EMAIL]', null, 'nothing here']);
    expect(out.metadatas).toEqual([{ ssn: '[REDACTED]', owner: '[EMAIL]' }, null, { ip: '[IPV4]', n: 7 }]);
    expect(out.uris).toEqual(['s3://bucket/[EMAIL].txt', null, null]);
    expect(out.ids).toEqual(original.ids);
    expect(out.embeddings).toEqual(original.embeddings);
    expect(out.include).toEqual(original.include);
  });

  test('columns that were not included stay null', () => {
    const body = { ids: ['a'], documents: ['jane@example.com'], metadatas: null, uris: null, embeddings: null, include: ['documents'] };
    maskBody('chroma.collection_get', body);
    expect(body).toEqual({ ids: ['a'], documents: ['[EMAIL]'], metadatas: null, uris: null, embeddings: null, include: ['documents'] });
  });

  test('an empty result has no records', () => {
    expect(chromaMaskableRecords(classification('chroma.collection_get'), { ids: [], documents: [], metadatas: [], include: [] })).toEqual([]);
  });
});

describe('Chroma query: arrays nested one level deeper, several queries', () => {
  const queryBody = () => ({
    ids: [['a1', 'a2'], ['b1'], []],
    documents: [['call +49 30 1234567', 'fine'], ['jane@example.com'], []],
    metadatas: [[{ ssn: '123-45-6789' }, null], [{ email: 'x@example.org' }], []],
    uris: null,
    embeddings: [[[0.5, 0.25], [0.125, 1]], [[-1, 3.5]], []],
    distances: [[0.1, 0.2], [0.333], []],
    include: ['documents', 'metadatas', 'distances', 'embeddings'],
  });

  test('each query\'s records are masked; ids, embeddings and distances are deep-equal to the input', () => {
    const input = queryBody();
    const original = structuredClone(input);
    const out = maskBody('chroma.collection_query', input) as ReturnType<typeof queryBody>;
    expect(out.documents).toEqual([['call [PHONE]', 'fine'], ['[EMAIL]'], []]);
    expect(out.metadatas).toEqual([[{ ssn: '[REDACTED]' }, null], [{ email: '[EMAIL]' }], []]);
    expect(out.ids).toEqual(original.ids);
    expect(out.embeddings).toEqual(original.embeddings);
    expect(out.distances).toEqual(original.distances);
    expect(out.uris).toBeNull();
  });

  test('one view per record across all queries', () => {
    expect(chromaMaskableRecords(classification('chroma.collection_query'), queryBody())).toHaveLength(3);
  });
});

describe('Chroma search (>= 1.1): a column of one search may be null', () => {
  test('masks the present columns', () => {
    const body = { ids: [['a'], ['b']], documents: [['jane@example.com'], null], metadatas: [null, [{ e: 'x@example.org' }]], embeddings: [null, null], scores: [[0.9], [0.8]], select: [['#document'], ['#metadata']] };
    maskBody('chroma.collection_search', body);
    expect(body.documents).toEqual([['[EMAIL]'], null]);
    expect(body.metadatas).toEqual([null, [{ e: '[EMAIL]' }]]);
    expect(body.scores).toEqual([[0.9], [0.8]]);
  });
});

describe('collections: their metadata is data', () => {
  const collection = (metadata: unknown) => ({ id: ID, name: 'customers', metadata, tenant: 't', database: 'd', configuration_json: {}, log_position: 0, version: 0 });

  test.each(['chroma.get_collection', 'chroma.create_collection', 'chroma.fork_collection'])('%s', (endpoint) => {
    const body = collection({ owner: 'jane@example.com' });
    maskBody(endpoint, body);
    expect(body.metadata).toEqual({ owner: '[EMAIL]' });
    expect(body.id).toBe(ID);
  });

  test('list_collections masks every collection; null metadata stays null', () => {
    const body = [collection({ owner: 'jane@example.com' }), collection(null)];
    maskBody('chroma.list_collections', body);
    expect(body.map((c) => c.metadata)).toEqual([{ owner: '[EMAIL]' }, null]);
  });
});

describe('shapes the function does not understand: undefined, so the caller fails closed', () => {
  test.each<[string, string, unknown]>([
    ['get: not an object', 'chroma.collection_get', [1, 2]],
    ['get: ids missing', 'chroma.collection_get', { documents: ['x'] }],
    ['get: a column shorter than ids', 'chroma.collection_get', { ids: ['a', 'b'], documents: ['x'], include: [] }],
    ['get: a document that is not a string', 'chroma.collection_get', { ids: ['a'], documents: [{ text: 'x' }], include: [] }],
    ['get: metadata that is not an object', 'chroma.collection_get', { ids: ['a'], metadatas: ['x'], include: [] }],
    ['get: an unknown key with data', 'chroma.collection_get', { ids: ['a'], include: [], data: ['jane@example.com'] }],
    ['get: the nested shape of a query', 'chroma.collection_get', { ids: [['a']], documents: [['x']], include: [] }],
    ['query: flat ids', 'chroma.collection_query', { ids: ['a'], documents: ['x'], include: [] }],
    ['query: outer lengths differ', 'chroma.collection_query', { ids: [['a'], ['b']], documents: [['x']], include: [] }],
    ['query: an inner column that is not a list', 'chroma.collection_query', { ids: [['a']], documents: ['x'], include: [] }],
    ['get_collection: no id', 'chroma.get_collection', { name: 'x', metadata: {} }],
    ['get_collection: metadata not an object', 'chroma.get_collection', { id: ID, name: 'x', metadata: 'jane@example.com' }],
    ['list_collections: not a list', 'chroma.list_collections', { collections: [] }],
    ['list_collections: one bad entry', 'chroma.list_collections', [{ id: ID, name: 'x' }, 'y']],
    ['an endpoint this function does not know', 'chroma.something_new', { ids: [] }],
  ])('%s', (_name, endpoint, body) => {
    expect(chromaMaskableRecords(classification(endpoint), body)).toBeUndefined();
  });

  test('unknown keys that are null are fine (a server leaving out a column)', () => {
    expect(chromaMaskableRecords(classification('chroma.collection_get'), { ids: ['a'], include: [], data: null })).toHaveLength(1);
  });
});

describe('endpoints without record data: nothing to mask', () => {
  test.each([
    'chroma.heartbeat',
    'chroma.version',
    'chroma.collection_count',
    'chroma.collection_add',
    'chroma.collection_upsert',
    'chroma.collection_update',
    'chroma.collection_delete',
    'chroma.count_collections',
    'chroma.delete_collection',
    'chroma.update_collection',
  ])('%s', (endpoint) => {
    expect(chromaMaskableRecords(classification(endpoint), { anything: 'jane@example.com' })).toEqual([]);
  });
});

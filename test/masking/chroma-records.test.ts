import { chromaErrorRecords, chromaMaskableRecords, chromaMayHoldPersonalData } from '../../src/dialect/chroma/records';
import type { Classification } from '../../src/dialect/types';
import { maskingRuleSchema } from '../../src/masking/config';
import { type JsonEdit, scanJson, splice } from '../../src/masking/json-scan';
import { compileMasking } from '../../src/masking/masker';

const classification = (endpoint: string): Classification => ({ endpoint, operation: 'read', collections: [], bulk: false, reason: 'test' });
const ID = '5f1c2a9e-8b7d-4c3e-9a1f-0e2d3c4b5a69';

const plan = compileMasking(
  [maskingRuleSchema.parse({ id: 'pii', fields: ['metadata.ssn'], detectors: ['email', 'phone', 'ipv4'] })],
  { tokenKey: undefined },
).planFor({ connection: 'prod', collections: ['customers'], groups: [] });
if (!plan) throw new Error('expected a plan');

/** a body as JSON text (given as text to keep what JSON.stringify cannot write, such as -0) */
const scanned = (body: unknown) => scanJson(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));
const recordsOf = (endpoint: string, body: unknown) => chromaMaskableRecords(classification(endpoint), scanned(body));

/** What the gateway does with a successful response: mask every record view, splice the replacements in. */
function maskBody(endpoint: string, body: unknown): unknown {
  const json = scanned(body);
  const views = chromaMaskableRecords(classification(endpoint), json);
  if (views === undefined) throw new Error('unknown shape');
  const edits: JsonEdit[] = [];
  for (const v of views) plan?.maskScannedRecord(json, v, edits);
  return JSON.parse(splice(json.source, edits).toString('utf8'));
}

/** The masked JSON text, as the gateway sends it. */
function maskText(endpoint: string, text: string): string {
  const json = scanned(text);
  const edits: JsonEdit[] = [];
  for (const v of chromaMaskableRecords(classification(endpoint), json) ?? []) plan?.maskScannedRecord(json, v, edits);
  return splice(json.source, edits).toString('utf8');
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
    const text = JSON.stringify(input).replace('[123456789,0,0]', '[123456789,0,-0]');
    const out = maskBody('chroma.collection_get', text) as ReturnType<typeof getBody>;
    expect(out.documents).toEqual(['mail [EMAIL]', null, 'nothing here']);
    expect(out.metadatas).toEqual([{ ssn: '[REDACTED]', owner: '[EMAIL]' }, null, { ip: '[IPV4]', n: 7 }]);
    expect(out.uris).toEqual(['s3://bucket/[EMAIL].txt', null, null]);
    expect(out.ids).toEqual(original.ids);
    expect(out.embeddings).toEqual(original.embeddings);
    expect(out.include).toEqual(original.include);
  });

  test('the masked text is the original text with only the masked strings replaced: numbers keep their digits', () => {
    const text = '{"ids":["r1"],"documents":["mail jane@example.com"],"metadatas":[{"big":9007199254740993,"low":-9223372036854775807,"f":1.50,"e":1E+2}],\n "embeddings":[[0.30000001192092896, -0, 1e-7]],"include":["documents"]}';
    expect(maskText('chroma.collection_get', text)).toBe(text.replace('mail jane@example.com', 'mail [EMAIL]'));
  });

  test('ids and metadata keys are searched by the detectors; never masked whole by a field', () => {
    const text = '{"ids":["jane@example.com","r2"],"metadatas":[{"ops@example.com":1,"ssn":"x"},null],"include":[]}';
    expect(JSON.parse(maskText('chroma.collection_get', text))).toEqual({ ids: ['[EMAIL]', 'r2'], metadatas: [{ '[EMAIL]': 1, ssn: '[REDACTED]' }, null], include: [] });
  });

  test('columns that were not included stay null', () => {
    const body = { ids: ['a'], documents: ['jane@example.com'], metadatas: null, uris: null, embeddings: null, include: ['documents'] };
    expect(maskBody('chroma.collection_get', body)).toEqual({ ids: ['a'], documents: ['[EMAIL]'], metadatas: null, uris: null, embeddings: null, include: ['documents'] });
  });

  test('an empty result has no records', () => {
    expect(recordsOf('chroma.collection_get', { ids: [], documents: [], metadatas: [], include: [] })).toEqual([]);
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
    expect(recordsOf('chroma.collection_query', queryBody())).toHaveLength(3);
  });
});

describe('Chroma search (>= 1.1): a column of one search may be null', () => {
  test('masks the present columns', () => {
    const body = { ids: [['a'], ['b']], documents: [['jane@example.com'], null], metadatas: [null, [{ e: 'x@example.org' }]], embeddings: [null, null], scores: [[0.9], [0.8]], select: [['#document'], ['#metadata']] };
    const out = maskBody('chroma.collection_search', body) as typeof body;
    expect(out.documents).toEqual([['[EMAIL]'], null]);
    expect(out.metadatas).toEqual([null, [{ e: '[EMAIL]' }]]);
    expect(out.scores).toEqual([[0.9], [0.8]]);
  });
});

describe('collections: their metadata is data', () => {
  const collection = (metadata: unknown) => ({ id: ID, name: 'customers', metadata, tenant: 't', database: 'd', configuration_json: {}, log_position: 0, version: 0 });

  test.each(['chroma.get_collection', 'chroma.create_collection', 'chroma.fork_collection'])('%s', (endpoint) => {
    const out = maskBody(endpoint, collection({ owner: 'jane@example.com' })) as ReturnType<typeof collection>;
    expect(out.metadata).toEqual({ owner: '[EMAIL]' });
    expect(out.id).toBe(ID);
  });

  test('list_collections masks every collection; null metadata stays null', () => {
    const out = maskBody('chroma.list_collections', [collection({ owner: 'jane@example.com' }), collection(null)]) as ReturnType<typeof collection>[];
    expect(out.map((c) => c.metadata)).toEqual([{ owner: '[EMAIL]' }, null]);
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
    expect(recordsOf(endpoint, body)).toBeUndefined();
  });

  test('unknown keys that are null are fine (a server leaving out a column)', () => {
    expect(recordsOf('chroma.collection_get', { ids: ['a'], include: [], data: null })).toHaveLength(1);
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
    expect(recordsOf(endpoint, { anything: 'jane@example.com' })).toEqual([]);
  });
});

describe('which answers may hold personal data (only those are read and masked)', () => {
  const ref = [{ kind: 'id' as const, id: ID }];
  test.each<[string, string, boolean, number, boolean]>([
    ['a heartbeat', 'chroma.heartbeat', false, 200, false],
    ['a failed heartbeat', 'chroma.heartbeat', false, 500, false],
    ['the version', 'chroma.version', false, 200, false],
    ['a record count', 'chroma.collection_count', true, 200, false],
    ['an add acknowledgement', 'chroma.collection_add', true, 201, false],
    ['a failed add: its error may echo the records', 'chroma.collection_add', true, 400, true],
    ['a get', 'chroma.collection_get', true, 200, true],
    ['a failed get', 'chroma.collection_get', true, 404, true],
    ['a query', 'chroma.collection_query', true, 200, true],
    ['a collection listing (metadata)', 'chroma.list_collections', false, 200, true],
    ['a failed database listing', 'chroma.list_databases', false, 500, false],
    ['an endpoint this table does not know: assumed to', 'chroma.something_new', false, 200, true],
  ])('%s', (_name, endpoint, named, status, expected) => {
    const c = { ...classification(endpoint), collections: named ? ref : [] };
    expect(chromaMayHoldPersonalData(c, status)).toBe(expected);
  });
});

describe('record-shaped parts of an error body', () => {
  test('metadatas, documents and uris lists (flat or nested) and metadata, document, uri members anywhere', () => {
    const json = scanned({ error: 'x', detail: { metadatas: [{ a: 1 }, null], documents: [['d1'], ['d2']], nested: [{ metadata: { b: 2 }, uri: 'u' }] } });
    const parts = chromaErrorRecords(json).map((v) => Object.entries(v.parts).map(([k, n]) => [k, n?.kind]));
    expect(parts).toEqual([
      [['metadata', 'object']],
      [['metadata', 'null']],
      [['document', 'string']],
      [['document', 'string']],
      [['metadata', 'object']],
      [['uri', 'string']],
    ]);
  });

  test('an error body without such members has none', () => {
    expect(chromaErrorRecords(scanned({ error: 'NotFound', message: 'no collection' }))).toEqual([]);
  });
});

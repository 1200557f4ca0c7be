import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Classification, type ClassifyResult, type DialectName, dialectFor, OPERATION_CLASSES, type OperationClass } from '../../src/dialect';
import { rawText, scanJson } from '../../src/masking/json-scan';

const scanned = (body: unknown) => scanJson(Buffer.from(JSON.stringify(body)));
import { VecgateError } from '../../src/errors';

const chroma = dialectFor('chroma');

const TENANT = 'acme';
const DATABASE = 'prod';
const NAME = 'support-tickets';
const ID = '5f1c2a9e-8b7d-4c3e-9a1f-0e2d3c4b5a69';
const P = `/api/v2/tenants/${TENANT}/databases/${DATABASE}`;

/** The request as the gateway hands it over: segments are the decoded parts of the path. */
function facts(method: string, path: string, body?: unknown) {
  return {
    method,
    path,
    segments: path.split('/').slice(1).map((s) => decodeURIComponent(s)),
    query: new URLSearchParams(),
    body,
  };
}

function classified(method: string, path: string, body?: unknown): Classification {
  const result = chroma.classify(facts(method, path, body));
  if (!result.known) throw new Error(`expected ${method} ${path} to be known, got: ${result.reason}`);
  return result.classification;
}

function unknownReason(method: string, path: string, body?: unknown): string {
  const result = chroma.classify(facts(method, path, body));
  if (result.known) throw new Error(`expected ${method} ${path} to be unknown, got ${result.classification.endpoint}`);
  return result.reason;
}

const byName = { kind: 'name', name: NAME, tenant: TENANT, database: DATABASE } as const;
const byId = { kind: 'id', id: ID, tenant: TENANT, database: DATABASE } as const;

/**
 * Every endpoint of the Chroma 1.0.0 spec and of the current 1.5 spec, written as the specs write
 * them. `target` says what the path's {collection_id} really carries: GET and DELETE of a
 * collection take its name although the spec calls the parameter collection_id; `crn` is
 * tenant:database:name.
 */
interface EndpointRow {
  method: string;
  specPath: string;
  endpoint: string;
  operation: OperationClass;
  target: 'none' | 'name' | 'id' | 'crn';
  /** a typical body an official client sends */
  body?: unknown;
  bulk?: boolean;
  /** collections beyond the path's own, e.g. from the body */
  extra?: Classification['collections'];
  /** false: not in the 1.0.0 spec, only in the current one */
  inSpec?: false;
  /** records the request asks for (reads and searches) */
  requested?: Classification['requested'];
}

const ENDPOINTS: EndpointRow[] = [
  { method: 'GET', specPath: '/api/v2/auth/identity', endpoint: 'chroma.get_user_identity', operation: 'meta', target: 'none' },
  { method: 'GET', specPath: '/api/v2/healthcheck', endpoint: 'chroma.healthcheck', operation: 'meta', target: 'none' },
  { method: 'GET', specPath: '/api/v2/heartbeat', endpoint: 'chroma.heartbeat', operation: 'meta', target: 'none' },
  { method: 'GET', specPath: '/api/v2/pre-flight-checks', endpoint: 'chroma.pre_flight_checks', operation: 'meta', target: 'none' },
  { method: 'GET', specPath: '/api/v2/version', endpoint: 'chroma.version', operation: 'meta', target: 'none' },
  { method: 'POST', specPath: '/api/v2/reset', endpoint: 'chroma.reset', operation: 'admin', target: 'none' },
  { method: 'POST', specPath: '/api/v2/tenants', endpoint: 'chroma.create_tenant', operation: 'admin', target: 'none', body: { name: 'newco' } },
  { method: 'GET', specPath: '/api/v2/tenants/{tenant_name}', endpoint: 'chroma.get_tenant', operation: 'meta', target: 'none' },
  { method: 'PATCH', specPath: '/api/v2/tenants/{tenant_name}', endpoint: 'chroma.update_tenant', operation: 'admin', target: 'none', body: { resource_name: 'x' } },
  { method: 'GET', specPath: '/api/v2/tenants/{tenant}/databases', endpoint: 'chroma.list_databases', operation: 'read', target: 'none' },
  { method: 'POST', specPath: '/api/v2/tenants/{tenant}/databases', endpoint: 'chroma.create_database', operation: 'admin', target: 'none', body: { name: 'staging' } },
  { method: 'GET', specPath: '/api/v2/tenants/{tenant}/databases/{database}', endpoint: 'chroma.get_database', operation: 'meta', target: 'none' },
  { method: 'DELETE', specPath: '/api/v2/tenants/{tenant}/databases/{database}', endpoint: 'chroma.delete_database', operation: 'admin', target: 'none' },
  { method: 'GET', specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections', endpoint: 'chroma.list_collections', operation: 'read', target: 'none' },
  {
    method: 'POST',
    specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections',
    endpoint: 'chroma.create_collection',
    operation: 'schema',
    target: 'none',
    body: { name: NAME, metadata: null, get_or_create: false },
    extra: [byName],
  },
  { method: 'GET', specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections_count', endpoint: 'chroma.count_collections', operation: 'read', target: 'none' },
  { method: 'GET', specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}', endpoint: 'chroma.get_collection', operation: 'read', target: 'name' },
  {
    method: 'PUT',
    specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}',
    endpoint: 'chroma.update_collection',
    operation: 'schema',
    target: 'id',
    body: { new_metadata: { team: 'support' } },
  },
  { method: 'DELETE', specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}', endpoint: 'chroma.delete_collection', operation: 'schema', target: 'name' },
  {
    method: 'POST',
    specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/add',
    endpoint: 'chroma.collection_add',
    operation: 'write',
    target: 'id',
    body: { ids: ['a'], embeddings: [[0.1, 0.2]] },
  },
  { method: 'GET', specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/count', endpoint: 'chroma.collection_count', operation: 'read', target: 'id' },
  {
    method: 'POST',
    specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/delete',
    endpoint: 'chroma.collection_delete',
    operation: 'delete',
    target: 'id',
    body: { ids: ['a', 'b'] },
    bulk: false,
  },
  {
    method: 'POST',
    specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/fork',
    endpoint: 'chroma.fork_collection',
    operation: 'schema',
    target: 'id',
    body: { new_name: 'support-tickets-copy' },
    extra: [{ kind: 'name', name: 'support-tickets-copy', tenant: TENANT, database: DATABASE }],
  },
  {
    method: 'POST',
    specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/get',
    endpoint: 'chroma.collection_get',
    operation: 'read',
    target: 'id',
    body: { ids: ['a'], include: ['documents'] },
    bulk: false,
    requested: 1,
  },
  {
    method: 'POST',
    specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/query',
    endpoint: 'chroma.collection_query',
    operation: 'search',
    target: 'id',
    body: { query_embeddings: [[0.1, 0.2]], n_results: 5 },
    requested: 5,
  },
  {
    method: 'POST',
    specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/update',
    endpoint: 'chroma.collection_update',
    operation: 'write',
    target: 'id',
    body: { ids: ['a'], documents: ['x'] },
  },
  {
    method: 'POST',
    specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/upsert',
    endpoint: 'chroma.collection_upsert',
    operation: 'write',
    target: 'id',
    body: { ids: ['a'], embeddings: [[0.1, 0.2]] },
  },
  {
    method: 'POST',
    specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/search',
    endpoint: 'chroma.collection_search',
    operation: 'search',
    target: 'id',
    body: { searches: [{ limit: { limit: 5 } }] },
    inSpec: false,
    requested: 5,
  },
  // new in the current release (test/fixtures/chroma-1.5.9-openapi.json)
  {
    method: 'GET',
    specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/by-id/{collection_id}',
    endpoint: 'chroma.get_collection_by_id',
    operation: 'read',
    target: 'id',
    inSpec: false,
  },
  { method: 'GET', specPath: '/api/v2/collections/{crn}', endpoint: 'chroma.get_collection_by_crn', operation: 'read', target: 'crn', inSpec: false },
  {
    method: 'GET',
    specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/fork_count',
    endpoint: 'chroma.fork_count',
    operation: 'read',
    target: 'id',
    inSpec: false,
  },
  {
    method: 'GET',
    specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/indexing_status',
    endpoint: 'chroma.indexing_status',
    operation: 'read',
    target: 'id',
    inSpec: false,
  },
  {
    method: 'POST',
    specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/functions/attach',
    endpoint: 'chroma.attach_function',
    operation: 'schema',
    target: 'id',
    body: { function_id: 'record_counter', name: 'counter', output_collection: 'support-tickets-counts', params: null },
    extra: [{ kind: 'name', name: 'support-tickets-counts', tenant: TENANT, database: DATABASE }],
    inSpec: false,
  },
  {
    method: 'GET',
    specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/functions/{function_name}',
    endpoint: 'chroma.get_attached_function',
    operation: 'read',
    target: 'id',
    inSpec: false,
  },
  {
    method: 'POST',
    specPath: '/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}/attached_functions/{name}/detach',
    endpoint: 'chroma.detach_function',
    operation: 'schema',
    target: 'id',
    body: { delete_output: false },
    inSpec: false,
  },
];

function concretePath(row: EndpointRow): string {
  return row.specPath
    .replace(/\{tenant(_name)?\}/, TENANT)
    .replace('{database}', DATABASE)
    .replace('{collection_id}', row.target === 'name' ? NAME : ID)
    .replace('{crn}', `${TENANT}:${DATABASE}:${NAME}`)
    .replace(/\{(function_)?name\}/, 'counter');
}

/** The tenant and database the row's path names, which policy judges the request in. */
function scopeOf(row: EndpointRow): Pick<Classification, 'scope'> {
  if (row.specPath.includes('{database}')) return { scope: { tenant: TENANT, database: DATABASE } };
  return /\{tenant(_name)?\}/.test(row.specPath) ? { scope: { tenant: TENANT } } : {};
}

function listingOf(row: EndpointRow): Pick<Classification, 'listing'> {
  if (row.endpoint === 'chroma.list_collections') return { listing: { kind: 'list', offset: 0 } };
  return row.endpoint === 'chroma.count_collections' ? { listing: { kind: 'count', offset: 0 } } : {};
}

describe('Chroma dialect: every endpoint of the spec has its class', () => {
  it.each(ENDPOINTS)('$method $specPath is $endpoint, $operation', (row) => {
    const c = classified(row.method, concretePath(row), row.body);
    const own = row.target === 'name' || row.target === 'crn' ? [byName] : row.target === 'id' ? [byId] : [];
    expect(c).toEqual({
      endpoint: row.endpoint,
      operation: row.operation,
      collections: [...own, ...(row.extra ?? [])],
      bulk: row.bulk ?? false,
      reason: expect.any(String),
      ...scopeOf(row),
      ...listingOf(row),
      ...(row.requested !== undefined ? { requested: row.requested } : {}),
    });
    expect(OPERATION_CLASSES).toContain(c.operation);
  });

  it.each(ENDPOINTS)('$method $specPath gives an auditor one sentence', (row) => {
    const { reason } = classified(row.method, concretePath(row), row.body);
    expect(reason).toMatch(/^[A-Z][^\n]*\.$/);
    expect(reason.length).toBeLessThan(200);
  });

  const operationsOf = (file: string) => {
    const spec = JSON.parse(readFileSync(file, 'utf8')) as { paths: Record<string, Record<string, { operationId?: string }>> };
    return Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), specPath: path, endpoint: `chroma.${op.operationId}` })),
    );
  };
  const rowsOf = (rows: EndpointRow[]) => rows.map(({ method, specPath, endpoint }) => ({ method, specPath, endpoint }));

  it('has a row for every method and path of the published Chroma 1.0.0 spec, named by its operationId', () => {
    const inSpec = operationsOf(resolve(__dirname, '../fixtures/chroma-1.0.0-openapi.json'));
    const rows = rowsOf(ENDPOINTS.filter((r) => r.inSpec !== false));
    expect(rows).toEqual(expect.arrayContaining(inSpec));
    expect(inSpec).toEqual(expect.arrayContaining(rows));
  });

  it('has a row for every method and path that the current Chroma 1.5.9 server serves, and none it lacks', () => {
    const inSpec = operationsOf(resolve(__dirname, '../fixtures/chroma-1.5.9-openapi.json'));
    const rows = rowsOf(ENDPOINTS);
    expect(rows).toEqual(expect.arrayContaining(inSpec));
    expect(inSpec).toEqual(expect.arrayContaining(rows));
  });

  it('routes every endpoint of the table, so none of its rows is shadowed by another of the same shape', () => {
    const endpoints = new Set(ENDPOINTS.map((r) => classified(r.method, concretePath(r), r.body).endpoint));
    expect(endpoints.size).toBe(ENDPOINTS.length);
  });
});

describe('Chroma dialect: endpoints of the current release that name a second collection or none', () => {
  const C = `${P}/collections/${ID}`;

  it.each<[string, unknown, string]>([
    ['no body', undefined, 'POST …/functions/attach without a valid output_collection'],
    ['no output_collection', { function_id: 'f', name: 'n' }, 'output_collection'],
    ['an output_collection Chroma would refuse', { function_id: 'f', name: 'n', output_collection: 'a' }, 'output_collection'],
    ['an output_collection that is not a string', { function_id: 'f', name: 'n', output_collection: ['x-out'] }, 'output_collection'],
  ])('attaching a function with %s is denied by default: the collection it writes is unknown', (_, body, says) => {
    expect(unknownReason('POST', `${C}/functions/attach`, body)).toContain(says);
  });

  it('detaching a function and dropping its output collection, which the request does not name, is admin over the whole connection', () => {
    expect(classified('POST', `${C}/attached_functions/counter/detach`, { delete_output: true })).toEqual({
      endpoint: 'chroma.detach_function',
      operation: 'admin',
      collections: [],
      bulk: false,
      reason: expect.stringContaining('which the request does not name'),
      // judged in the tenant and database the path names
      scope: { tenant: 'acme', database: 'prod' },
    });
  });

  it.each<[string, unknown]>([
    ['no body', undefined],
    ['delete_output false', { delete_output: false }],
    ['delete_output as a string', { delete_output: 'true' }],
  ])('detaching a function with %s only stops it: schema', (_, body) => {
    expect(classified('POST', `${C}/attached_functions/counter/detach`, body).operation).toBe('schema');
  });

  it.each<[string, string]>([
    ['two parts', `${TENANT}:${NAME}`],
    ['four parts', `${TENANT}:${DATABASE}:${NAME}:x`],
    ['a collection name Chroma refuses', `${TENANT}:${DATABASE}:a`],
    ['an empty tenant', `:${DATABASE}:${NAME}`],
    ['a database with a space', `${TENANT}:my db:${NAME}`],
  ])('a collection resource name with %s is denied by default', (_, crn) => {
    expect(unknownReason('GET', `/api/v2/collections/${encodeURIComponent(crn)}`)).toMatch(/cannot tell what it addresses/);
  });

  it('a by-id look-up with an id that is not a UUID is denied by default', () => {
    expect(unknownReason('GET', `${P}/collections/by-id/${NAME}`)).toContain('not a UUID');
  });
});

describe('Chroma dialect: get is a read only when it lists ids', () => {
  const path = `${P}/collections/${ID}/get`;
  it.each<[string, unknown, OperationClass, boolean]>([
    ['ids', { ids: ['a', 'b'] }, 'read', false],
    ['ids with a where filter (bounded by the ids)', { ids: ['a'], where: { team: 'x' } }, 'read', false],
    ['ids with a limit', { ids: ['a'], limit: 1 }, 'read', false],
    ['a where filter only', { where: { team: 'x' } }, 'export', true],
    ['a where_document filter only', { where_document: { $contains: 'x' } }, 'export', true],
    ['a peek by limit', { limit: 10, include: ['documents', 'embeddings'] }, 'export', true],
    ['an empty object', {}, 'export', true],
    ['ids: []', { ids: [] }, 'export', true],
    ['ids: null', { ids: null, where: { team: 'x' } }, 'export', true],
    ['ids as a string', { ids: 'a' }, 'export', true],
    ['ids as an object with a length', { ids: { length: 1, 0: 'a' } }, 'export', true],
    ['ids that are not strings', { ids: [1, 2] }, 'export', true],
    ['ids with one non-string', { ids: ['a', null] }, 'export', true],
    ['no body', undefined, 'export', true],
    ['a JSON array body', [{ ids: ['a'] }], 'export', true],
    ['a JSON string body', 'ids', 'export', true],
    ['a JSON number body', 42, 'export', true],
    ['a JSON null body', null, 'export', true],
  ])('POST …/get with %s is %s (bulk %s)', (_, body, operation, bulk) => {
    const c = classified('POST', path, body);
    expect(c).toMatchObject({ endpoint: 'chroma.collection_get', operation, bulk, collections: [byId] });
  });

  it('says why a get without ids is an export', () => {
    expect(classified('POST', path, { where: { team: 'x' } }).reason).toBe('POST …/get with a filter and no ids reads every matching record: bulk export.');
    expect(classified('POST', path, { limit: 5 }).reason).toBe('POST …/get without ids reads every record up to its limit: bulk export.');
  });
});

describe('Chroma dialect: delete is bulk unless it lists ids and nothing else', () => {
  const path = `${P}/collections/${ID}/delete`;
  it.each<[string, unknown, boolean]>([
    ['ids', { ids: ['a'] }, false],
    ['ids and where: null', { ids: ['a'], where: null, where_document: null }, false],
    ['ids and a where filter', { ids: ['a'], where: { team: 'x' } }, true],
    ['ids and a where_document filter', { ids: ['a'], where_document: { $contains: 'x' } }, true],
    ['a where filter only', { where: { team: 'x' } }, true],
    ['an empty where filter', { where: {} }, true],
    ['an empty object', {}, true],
    ['ids: []', { ids: [] }, true],
    ['ids as a string', { ids: 'a' }, true],
    ['no body', undefined, true],
    ['a JSON array body', [{ ids: ['a'] }], true],
    ['a JSON boolean body', true, true],
  ])('POST …/delete with %s: bulk %s', (_, body, bulk) => {
    expect(classified('POST', path, body)).toMatchObject({ endpoint: 'chroma.collection_delete', operation: 'delete', bulk, collections: [byId] });
  });
});

describe('Chroma dialect: collections by name, by id, and from the body', () => {
  it('takes tenant and database from the path for every collection', () => {
    const c = classified('POST', `/api/v2/tenants/t-1/databases/db.2/collections/${ID}/query`, {});
    expect(c.collections).toEqual([{ kind: 'id', id: ID, tenant: 't-1', database: 'db.2' }]);
  });

  it('addresses get and drop of a collection by name, even when the name looks like a UUID', () => {
    expect(classified('GET', `${P}/collections/${ID}`).collections).toEqual([{ kind: 'name', name: ID, tenant: TENANT, database: DATABASE }]);
    expect(classified('DELETE', `${P}/collections/${NAME}`).collections).toEqual([byName]);
  });

  it('writes a collection id in its canonical lower-case form', () => {
    expect(classified('GET', `${P}/collections/${ID.toUpperCase()}/count`).collections).toEqual([byId]);
  });

  it('names the created collection from the body, and says so when it is get_or_create', () => {
    const c = classified('POST', `${P}/collections`, { name: NAME, get_or_create: true });
    expect(c).toMatchObject({ operation: 'schema', collections: [byName] });
    expect(c.reason).toBe(`POST …/collections creates collection "${NAME}" (or opens it if it exists, get_or_create): schema.`);
  });

  it('reports a rename under both the id and the new name', () => {
    const c = classified('PUT', `${P}/collections/${ID}`, { new_name: 'archive-2024' });
    expect(c).toMatchObject({ operation: 'schema', collections: [byId, { kind: 'name', name: 'archive-2024', tenant: TENANT, database: DATABASE }] });
  });

  it.each<[string, unknown]>([
    ['new_name: null', { new_name: null, new_metadata: { a: 1 } }],
    ['new_configuration only', { new_configuration: { hnsw: { ef_search: 20 } } }],
  ])('reports an update with %s under the id alone', (_, body) => {
    expect(classified('PUT', `${P}/collections/${ID}`, body).collections).toEqual([byId]);
  });
});

describe('Chroma dialect: bodies that cannot name their collection are unknown', () => {
  it.each<[string, string, string, unknown]>([
    ['create without a body', 'POST', `${P}/collections`, undefined],
    ['create with a JSON array', 'POST', `${P}/collections`, [{ name: NAME }]],
    ['create without a name', 'POST', `${P}/collections`, { metadata: {} }],
    ['create with a numeric name', 'POST', `${P}/collections`, { name: 42 }],
    ['create with a two-character name', 'POST', `${P}/collections`, { name: 'ab' }],
    ['create with a name Chroma refuses (..)', 'POST', `${P}/collections`, { name: 'a..b' }],
    ['create with a name Chroma refuses (leading -)', 'POST', `${P}/collections`, { name: '-abc' }],
    ['create with a glob as name', 'POST', `${P}/collections`, { name: 'support-*' }],
    ['fork without new_name', 'POST', `${P}/collections/${ID}/fork`, {}],
    ['fork without a body', 'POST', `${P}/collections/${ID}/fork`, undefined],
    ['fork with a non-string new_name', 'POST', `${P}/collections/${ID}/fork`, { new_name: ['x'] }],
    ['update without a body', 'PUT', `${P}/collections/${ID}`, undefined],
    ['update with a string body', 'PUT', `${P}/collections/${ID}`, 'rename'],
    ['update with a numeric new_name', 'PUT', `${P}/collections/${ID}`, { new_name: 5 }],
    ['update with a new_name Chroma refuses', 'PUT', `${P}/collections/${ID}`, { new_name: 'x/y' }],
  ])('%s is denied by default', (_, method, path, body) => {
    expect(unknownReason(method, path, body)).toMatch(/denied by default\.$/);
  });
});

describe('Chroma dialect: unknown endpoints are denied with a reason', () => {
  it.each<[string, string, string]>([
    ['GET on a POST-only data path', 'GET', `${P}/collections/${ID}/add`],
    ['PUT on add', 'PUT', `${P}/collections/${ID}/add`],
    ['POST on heartbeat', 'POST', '/api/v2/heartbeat'],
    ['DELETE on reset', 'DELETE', '/api/v2/reset'],
    ['HEAD, which the server would answer like GET', 'HEAD', `${P}/collections/${NAME}`],
    ['OPTIONS', 'OPTIONS', `${P}/collections`],
    ['a lower-case method', 'get', '/api/v2/heartbeat'],
    ['PATCH on a collection', 'PATCH', `${P}/collections/${ID}`],
    ['GET of records (get is POST)', 'GET', `${P}/collections/${ID}/get`],
    ['an extra segment after a data path', 'POST', `${P}/collections/${ID}/get/all`],
    ['an extra segment after heartbeat', 'GET', '/api/v2/heartbeat/now'],
    ['a missing segment', 'POST', `/api/v2/tenants/${TENANT}/databases/collections/${ID}/get`],
    ['the v1 API', 'GET', '/api/v1/heartbeat'],
    ['v1 collections', 'POST', `/api/v1/collections/${ID}/get`],
    ['an empty segment', 'GET', '/api/v2//heartbeat'],
    ['a trailing slash', 'GET', '/api/v2/heartbeat/'],
    ['the root', 'GET', '/'],
    ['the API root', 'GET', '/api/v2'],
    ['an upper-case literal', 'GET', '/API/v2/heartbeat'],
    ['an endpoint of a later release not in the table', 'GET', `${P}/collections/${ID}/attached_functions`],
    ['a data path addressed by name instead of id', 'POST', `${P}/collections/${NAME}/add`],
    ['a braced collection id', 'POST', `${P}/collections/{${ID}}/get`],
    ['a URN collection id', 'POST', `${P}/collections/urn:uuid:${ID}/get`],
    ['a hyphen-less collection id', 'POST', `${P}/collections/${ID.replace(/-/g, '')}/get`],
    ['a collection name Chroma refuses', 'GET', `${P}/collections/ab`],
    ['a collection name of ..', 'DELETE', `${P}/collections/..`],
    ['an encoded slash in a collection name', 'GET', `${P}/collections/a%2Fbcd`],
    ['an encoded slash in a tenant', 'GET', `/api/v2/tenants/a%2Fb/databases/${DATABASE}/collections`],
    ['a tenant of ..', 'GET', `/api/v2/tenants/../databases/${DATABASE}/collections`],
    ['a control character in a database', 'GET', `/api/v2/tenants/${TENANT}/databases/a%0Ab/collections`],
  ])('%s is unknown', (_, method, path) => {
    const reason = unknownReason(method, path);
    expect(reason).toMatch(/denied by default\.$/);
    expect(reason).not.toMatch(/\n/);
  });

  it('names the method and path, and that unknown endpoints are denied by default', () => {
    expect(unknownReason('GET', `${P}/collections/${ID}/add`)).toBe(
      `GET ${P}/collections/${ID}/add is not a Chroma endpoint vecgate knows (this path takes POST); unknown endpoints are denied by default.`,
    );
    expect(unknownReason('GET', '/api/v2/metrics')).toBe('GET /api/v2/metrics is not a Chroma endpoint vecgate knows; unknown endpoints are denied by default.');
  });

  it('lists every method a path takes', () => {
    expect(unknownReason('PATCH', `${P}/collections/${NAME}`)).toContain('(this path takes GET, PUT or DELETE)');
    expect(unknownReason('DELETE', `${P}/collections`)).toContain('(this path takes GET or POST)');
  });

  it('points a v1 client at the cause', () => {
    expect(unknownReason('GET', '/api/v1/heartbeat')).toContain("Chroma's v1 API, from servers before 1.0, is not supported");
  });

  it('says which segment is wrong when the path has the right shape', () => {
    expect(unknownReason('POST', `${P}/collections/not-a-uuid/get`)).toBe(
      `POST ${P}/collections/not-a-uuid/get addresses collection id "not-a-uuid", which is not a UUID, so vecgate cannot tell what it addresses; it is denied by default.`,
    );
  });

  it('treats a request with no segments at all as unknown', () => {
    const result = chroma.classify({ method: 'GET', path: '/', segments: [], query: new URLSearchParams(), body: undefined });
    expect(result).toEqual({ known: false, reason: 'GET / is not a Chroma endpoint vecgate knows; unknown endpoints are denied by default.' });
  });

  it('keeps a reason to one short line, however long the path', () => {
    const reason = unknownReason('GET', `/api/v2/${'x'.repeat(5000)}`);
    expect(reason.length).toBeLessThan(400);
  });
});

describe('Chroma dialect: any body, never a throw', () => {
  const bodies: unknown[] = [undefined, null, true, 0, 'x', [], [1], {}, { ids: {} }, { where: 'x', ids: [[]] }, { name: {}, new_name: [] }, JSON.parse('{"__proto__": {"ids": ["a"]}}')];

  it.each(ENDPOINTS)('$method $specPath classifies any JSON body without throwing', (row) => {
    for (const body of bodies) {
      let result: ClassifyResult | undefined;
      expect(() => {
        result = chroma.classify(facts(row.method, concretePath(row), body));
      }).not.toThrow();
      expect(result).toBeDefined();
    }
  });

  it('does not read ids from an inherited __proto__ key', () => {
    const body: unknown = JSON.parse('{"__proto__": {"ids": ["a"]}}');
    expect(classified('POST', `${P}/collections/${ID}/get`, body)).toMatchObject({ operation: 'export', bulk: true });
  });
});

describe('Chroma dialect: error bodies in Chroma shape', () => {
  it.each<[number, string]>([
    [400, 'InvalidArgumentError'],
    [401, 'ChromaError'],
    [403, 'ChromaError'],
    [404, 'NotFoundError'],
    [408, 'ChromaError'],
    [413, 'ChromaError'],
    [500, 'InternalError'],
    [502, 'ChromaError'],
    [503, 'ChromaError'],
    [504, 'ChromaError'],
  ])('status %i answers {"error": "%s", "message": ...} as JSON', (status, error) => {
    const message = 'No rule grants alice read on collection "hr"; ask #sec-access.\nSecond line, ünïcode.';
    const out = chroma.errorBody({ status, code: 'POLICY_DENIED', message });
    expect(out.contentType).toBe('application/json');
    expect(JSON.parse(out.body)).toEqual({ error, message });
  });
});

describe('Chroma dialect: collections a response reveals', () => {
  const collectionJson = (over: Record<string, unknown> = {}) => ({
    id: ID,
    name: NAME,
    tenant: TENANT,
    database: DATABASE,
    configuration_json: {},
    metadata: null,
    dimension: 384,
    log_position: 0,
    version: 0,
    ...over,
  });
  const identity = { id: ID, name: NAME, tenant: TENANT, database: DATABASE };
  const create = classified('POST', `${P}/collections`, { name: NAME });
  const get = classified('GET', `${P}/collections/${NAME}`);
  const list = classified('GET', `${P}/collections`);
  const fork = classified('POST', `${P}/collections/${ID}/fork`, { new_name: 'copy-1' });
  const rename = classified('PUT', `${P}/collections/${ID}`, { new_name: 'archive-2024' });
  const update = classified('PUT', `${P}/collections/${ID}`, { new_metadata: { a: 1 } });
  const records = classified('POST', `${P}/collections/${ID}/get`, { ids: ['a'] });
  const getById = classified('GET', `${P}/collections/by-id/${ID}`);
  const getByCrn = classified('GET', `/api/v2/collections/${TENANT}:${DATABASE}:${NAME}`);

  it.each<[string, Classification, unknown, unknown[]]>([
    ['create', create, collectionJson(), [identity]],
    ['get', get, collectionJson(), [identity]],
    ['fork (the new collection)', fork, collectionJson({ id: '0b0c0d0e-1111-4222-8333-944455556666', name: 'copy-1' }), [{ ...identity, id: '0b0c0d0e-1111-4222-8333-944455556666', name: 'copy-1' }]],
    ['list', list, [collectionJson(), collectionJson({ id: '0b0c0d0e-1111-4222-8333-944455556666', name: 'other' })], [identity, { ...identity, id: '0b0c0d0e-1111-4222-8333-944455556666', name: 'other' }]],
    ['list, an empty page', list, [], []],
    ['list, dropping malformed entries', list, [collectionJson(), null, 'x', collectionJson({ id: 7 }), collectionJson({ name: '' }), collectionJson({ id: 'nope' })], [identity]],
    ['list, not an array', list, { collections: [collectionJson()] }, []],
    ['create, an upper-case id made canonical', create, collectionJson({ id: ID.toUpperCase() }), [identity]],
    ['create, without tenant and database', create, collectionJson({ tenant: undefined, database: 5 }), [{ id: ID, name: NAME }]],
    ['create, a string body', create, 'ok', []],
    ['create, null', create, null, []],
    ['create, an array', create, [collectionJson()], []],
    ['get, no name', get, collectionJson({ name: undefined }), []],
    ['get by id (Chroma 1.5)', getById, collectionJson(), [identity]],
    ['get by id, an error body', getById, { error: 'NotFoundError', message: 'x' }, []],
    ['get by crn (Chroma 1.5): the tenant id of the answer, not the resource name', getByCrn, collectionJson({ tenant: '1e30d217-3d78-4f8c-b244-79381dc6a254' }), [{ ...identity, tenant: '1e30d217-3d78-4f8c-b244-79381dc6a254' }]],
    ['a rename, confirmed by {}', rename, {}, [{ id: ID, name: 'archive-2024', tenant: TENANT, database: DATABASE }]],
    ['a rename, not confirmed', rename, 'error', []],
    ['an update without rename', update, {}, []],
    ['records of a get', records, { ids: ['a'], include: [] }, []],
  ])('%s', (_, classification, body, expected) => {
    expect(chroma.collectionsInResponse(classification, body)).toEqual(expected);
  });

  it.each<[string, boolean, Classification]>([
    ['create', true, create],
    ['get', true, get],
    ['get by id', true, getById],
    ['get by crn', true, getByCrn],
    ['list', true, list],
    ['fork', true, fork],
    ['a rename', true, rename],
    ['an update without rename', false, update],
    ['a get of records', false, records],
    ['a fork count', false, classified('GET', `${P}/collections/${ID}/fork_count`)],
    ['an indexing status', false, classified('GET', `${P}/collections/${ID}/indexing_status`)],
    ['a drop', false, classified('DELETE', `${P}/collections/${NAME}`)],
  ])('%s reveals collections: %s', (_, reveals, classification) => {
    expect(chroma.revealsCollections(classification)).toBe(reveals);
  });
});

describe('Chroma dialect: where personal data sits in answers of the current release', () => {
  const C = `${P}/collections/${ID}`;

  it('a look-up by id or crn shows the collection metadata, as a look-up by name does', () => {
    for (const path of [`${P}/collections/by-id/${ID}`, `/api/v2/collections/${TENANT}:${DATABASE}:${NAME}`]) {
      const json = scanned({ id: ID, name: NAME, metadata: { owner: 'jane@example.com' } });
      const views = chroma.maskableRecords(classified('GET', path), json);
      expect(views?.map((v) => Object.keys(v.parts))).toEqual([['metadata']]);
      const metadata = views?.[0]?.parts.metadata;
      expect(metadata && rawText(json, metadata)).toBe('{"owner":"jane@example.com"}');
    }
  });

  it.each<[string, string, string, unknown, unknown]>([
    ['fork count', 'GET', `${C}/fork_count`, undefined, { count: 0 }],
    ['indexing status', 'GET', `${C}/indexing_status`, undefined, { num_indexed_ops: 1, num_unindexed_ops: 0, total_ops: 1, op_indexing_progress: 1 }],
    ['attach', 'POST', `${C}/functions/attach`, { function_id: 'f', name: 'n', output_collection: 'docs-out' }, { attached_function: { id: ID, name: 'n' }, created: true }],
    ['detach', 'POST', `${C}/attached_functions/n/detach`, {}, { success: true }],
  ])('the answer of %s holds no record data', (_, method, path, body, answer) => {
    expect(chroma.maskableRecords(classified(method, path, body), scanned(answer))).toEqual([]);
  });

  it("an attached function's answer (free-form params) is a shape masking cannot vouch for", () => {
    expect(chroma.maskableRecords(classified('GET', `${C}/functions/n`), scanned({ attached_function: { params: { note: 'jane@example.com' } } }))).toBeUndefined();
  });
});

describe('Chroma dialect: listing collections to resolve an id', () => {
  it.each<[string, { tenant?: string; database?: string }, { limit: number; offset: number }, string | undefined]>([
    ['a page', { tenant: TENANT, database: DATABASE }, { limit: 100, offset: 200 }, `${P}/collections?limit=100&offset=200`],
    ['default names', { tenant: 'default_tenant', database: 'default_database' }, { limit: 1, offset: 0 }, '/api/v2/tenants/default_tenant/databases/default_database/collections?limit=1&offset=0'],
    ['no tenant', { database: DATABASE }, { limit: 100, offset: 0 }, undefined],
    ['no database', { tenant: TENANT }, { limit: 100, offset: 0 }, undefined],
    ['a tenant with a slash', { tenant: 'a/b', database: DATABASE }, { limit: 100, offset: 0 }, undefined],
    ['a zero limit', { tenant: TENANT, database: DATABASE }, { limit: 0, offset: 0 }, undefined],
    ['a negative offset', { tenant: TENANT, database: DATABASE }, { limit: 10, offset: -1 }, undefined],
    ['a fractional limit', { tenant: TENANT, database: DATABASE }, { limit: 1.5, offset: 0 }, undefined],
  ])('%s', (_, scope, page, expected) => {
    expect(chroma.listCollectionsTarget(scope, page)).toBe(expected);
  });
});

describe('dialect registry', () => {
  it('gives the Chroma dialect with its token headers', () => {
    expect(chroma.name).toBe('chroma');
    expect(chroma.tokenHeaders).toEqual(['x-chroma-token']);
    expect(chroma.defaultCredentialHeader).toBe('x-chroma-token');
  });

  it('hands out one stateless, frozen dialect', () => {
    expect(dialectFor('chroma')).toBe(chroma);
    expect(Object.isFrozen(chroma)).toBe(true);
    expect(Object.isFrozen(chroma.tokenHeaders)).toBe(true);
  });

  it('refuses a name it has no dialect for, with a coded error', () => {
    expect(() => dialectFor('qdrant' as DialectName)).toThrow(VecgateError);
    expect(() => dialectFor('toString' as DialectName)).toThrow(/no dialect named "toString"/);
  });
});

// THREATS 33: the gateway answers listings itself, so it reads the caller's page as Chroma would
describe('Chroma dialect: the page of a collection listing', () => {
  const list = (query: string) => chroma.classify({ ...facts('GET', `${P}/collections`), query: new URLSearchParams(query) });

  it.each<[string, Classification['listing']]>([
    ['', { kind: 'list', offset: 0 }],
    ['limit=10', { kind: 'list', limit: 10, offset: 0 }],
    ['limit=0&offset=7', { kind: 'list', limit: 0, offset: 7 }],
    ['offset=4294967295', { kind: 'list', offset: 4294967295 }],
    ['other=1&limit=2', { kind: 'list', limit: 2, offset: 0 }],
  ])('?%s is read as %j', (query, listing) => {
    const result = list(query);
    expect(result.known && result.classification.listing).toEqual(listing);
  });

  it.each([['limit=-1'], ['limit=abc'], ['offset=1.5'], ['limit=4294967296'], ['limit=1&limit=2'], ['offset=']])('?%s is unknown, as Chroma would refuse it', (query) => {
    const result = list(query);
    expect(result.known).toBe(false);
    expect(!result.known && result.reason).toMatch(/Chroma would refuse/);
  });
});

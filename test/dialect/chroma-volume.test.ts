import { dialectFor, type Classification, type FilterTests, type RequestedRecords } from '../../src/dialect';

const chroma = dialectFor('chroma');
const C = '/api/v2/tenants/default_tenant/databases/default_database/collections/0f9c5b0e-4f0e-4e44-9d1e-0c2a43c61a11';

function classified(endpoint: string, body: unknown): Classification {
  const path = `${C}/${endpoint}`;
  const result = chroma.classify({ method: 'POST', path, segments: path.split('/').slice(1), query: new URLSearchParams(), body });
  if (!result.known) throw new Error(result.reason);
  return result.classification;
}

const q = [0.1, 0.2];

describe('Chroma dialect: how many records a read or search asks for', () => {
  it.each<[string, string, unknown, RequestedRecords]>([
    ['a query: n_results per query embedding', 'query', { query_embeddings: [q, q, q], n_results: 7 }, 21],
    ['a query without n_results: Chroma answers 10 per query', 'query', { query_embeddings: [q] }, 10],
    ['a query with n_results null: the same default', 'query', { query_embeddings: [q], n_results: null }, 10],
    ['a query restricted to listed ids: at most the ids per query', 'query', { query_embeddings: [q, q], n_results: 50, ids: ['a', 'b', 'c'] }, 6],
    ['a query with n_results equal to the collection', 'query', { query_embeddings: [q], n_results: 400 }, 400],
    ['a query whose n_results is not a count', 'query', { query_embeddings: [q], n_results: 'all' }, 'unbounded'],
    ['a query whose n_results is fractional', 'query', { query_embeddings: [q], n_results: 2.5 }, 'unbounded'],
    ['a query without query embeddings', 'query', { n_results: 3 }, 'unbounded'],
    ['a get of listed ids', 'get', { ids: ['a', 'b', 'c'] }, 3],
    ['a get listing one id twice counts it once', 'get', { ids: ['a', 'a', 'b'] }, 2],
    ['a get of listed ids with a smaller limit', 'get', { ids: ['a', 'b', 'c'], limit: 2 }, 2],
    ['a get without ids, with a limit', 'get', { limit: 25, where: { team: 'x' } }, 25],
    ['a get without ids and without limit reads everything', 'get', { where: { team: 'x' } }, 'unbounded'],
    ['a get with an empty body', 'get', undefined, 'unbounded'],
    ['a get with a negative limit', 'get', { ids: ['a'], limit: -1 }, 'unbounded'],
    ['a search: the sum of its searches\' limits', 'search', { searches: [{ limit: { limit: 5, offset: 0 } }, { limit: 7 }] }, 12],
    ['a search without a limit', 'search', { searches: [{ limit: { limit: 5 } }, {}] }, 'unbounded'],
  ])('%s', (_name, endpoint, body, requested) => {
    expect(classified(endpoint, body).requested).toBe(requested);
  });

  it('writes, deletes and counts ask for no records', () => {
    expect(classified('add', { ids: ['a'], embeddings: [q] }).requested).toBeUndefined();
    expect(classified('delete', { ids: ['a'] }).requested).toBeUndefined();
  });
});

describe('Chroma dialect: how many records an answer holds', () => {
  it.each<[string, string, unknown, number | undefined]>([
    ['a get lists its ids', 'get', { ids: ['a', 'b'], documents: null }, 2],
    ['a query nests one list per query', 'query', { ids: [['a', 'b'], ['c']], distances: [[0.1, 0.2], [0.3]] }, 3],
    ['a search nests one list per search', 'search', { ids: [['a'], ['b', 'c', 'd']] }, 4],
    ['an empty answer', 'get', { ids: [] }, 0],
    ['an answer of another shape', 'get', { error: 'x' }, undefined],
    ['not an object', 'query', [1, 2], undefined],
  ])('%s', (_name, endpoint, body, n) => {
    expect(chroma.recordsInResponse(classified(endpoint, { ids: ['x'], query_embeddings: [[0.1]], searches: [] }), body)).toBe(n);
  });
});

describe('Chroma dialect: what a filter tests', () => {
  it.each<[string, string, unknown, FilterTests | undefined]>([
    ['no filter', 'get', { ids: ['a'] }, undefined],
    ['an implicit $eq on a metadata key', 'get', { where: { email: 'x@y.z' } }, { metadataKeys: ['email'], documentOperators: [], unreadable: false }],
    ['any operator on a key', 'query', { query_embeddings: [[1]], where: { email: { $in: ['a'] } } }, { metadataKeys: ['email'], documentOperators: [], unreadable: false }],
    [
      'keys at any depth of $and/$or',
      'get',
      { where: { $and: [{ team: 'a' }, { $or: [{ email: { $ne: 'x' } }, { 'customer.ssn': '1' }] }] } },
      { metadataKeys: ['team', 'email', 'customer.ssn'], documentOperators: [], unreadable: false },
    ],
    ['document operators', 'get', { where_document: { $or: [{ $contains: 'a' }, { $not_regex: 'b' }] } }, { metadataKeys: [], documentOperators: ['$contains', '$not_regex'], unreadable: false }],
    ['a #document key in where (newer servers)', 'get', { where: { '#document': { $contains: 'a' } } }, { metadataKeys: [], documentOperators: ['$contains'], unreadable: false }],
    ['a filter of an unknown shape', 'get', { where: ['email'] }, { metadataKeys: [], documentOperators: [], unreadable: true }],
    ['an unknown top-level operator', 'get', { where: { $nor: [] } }, { metadataKeys: [], documentOperators: [], unreadable: true }],
    ['$and that is not a list', 'get', { where_document: { $and: { $contains: 'a' } } }, { metadataKeys: [], documentOperators: [], unreadable: true }],
    ['a search filter', 'search', { searches: [{ where: { email: 'a' } }] }, { metadataKeys: ['email'], documentOperators: [], unreadable: false }],
    ['a filtered delete', 'delete', { where: { email: 'a' } }, { metadataKeys: ['email'], documentOperators: [], unreadable: false }],
  ])('%s', (_name, endpoint, body, filters) => {
    expect(classified(endpoint, body).filters).toEqual(filters);
  });
});

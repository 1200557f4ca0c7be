import { renderRequest } from '../../src/approval/rendering';
import { dialectFor } from '../../src/dialect';

/**
 * What approvers are shown of a Chroma request (THREATS 34): the dialect picks the parts, the
 * general rendering prints them. Each case is the body a client sends and the lines shown.
 */
const chroma = dialectFor('chroma');
const ID = '5f1c2a9e-8b7d-4c3e-9a1f-0e2d3c4b5a69';
const P = '/api/v2/tenants/acme/databases/prod';
const C = `${P}/collections/${ID}`;

function shown(method: string, path: string, body: unknown): string[] {
  const result = chroma.classify({ method, path, segments: path.split('/').slice(1), query: new URLSearchParams(), body });
  if (!result.known) throw new Error(result.reason);
  const details = chroma.describeRequest(result.classification, body);
  return renderRequest({ method, target: path, bodyBytes: 1, bodySha256: '0'.repeat(64), details, maxChars: 1e6 }).text.split('\n').slice(1);
}

const vectors = (n: number, d: number) => Array.from({ length: n }, (_, i) => Array.from({ length: d }, (_, j) => i + j / 10));

describe('describeChromaRequest', () => {
  it.each<[string, string, string, unknown, string[]]>([
    ['a delete of everything, behind a harmless filter', 'POST', `${C}/delete`, { where: { kind: { $ne: '__never__' } } }, ['where: {"kind": {"$ne": "__never__"}}']],
    [
      'a delete by ids and a document filter',
      'POST',
      `${C}/delete`,
      { ids: ['a', 'b', 'c', 'd', 'e'], where_document: { $contains: 'x' } },
      ['where_document: {"$contains": "x"}', 'ids: ["a", "b", "c", … 2 more, 5 in all]'],
    ],
    [
      'an export with bounds and what it includes',
      'POST',
      `${C}/get`,
      { include: ['documents', 'metadatas'], offset: 20, limit: 10, where: { $and: [{ a: 1 }, { b: { $in: [1, 2, 3, 4, 5, 6] } }] } },
      ['where: {"$and": [{"a": 1}, {"b": {"$in": [1, 2, 3, 4, 5, 6]}}]}', 'limit: 10', 'offset: 20', 'include: ["documents", "metadatas"]'],
    ],
    ['a query: how many results, and the query vectors by count and dimension only', 'POST', `${C}/query`, { query_embeddings: vectors(2, 384), n_results: 50 }, ['n_results: 50', 'query_embeddings: 2 vectors of dimension 384']],
    [
      'an upsert: ids, vectors and the first records whole',
      'POST',
      `${C}/upsert`,
      { ids: ['r1', 'r2', 'r3', 'r4', 'r5'], embeddings: vectors(5, 3), documents: ['one', 'two', 'three', 'four', 'five'], metadatas: [{ k: 1 }, null, { k: 3 }, { k: 4 }, { k: 5 }] },
      [
        'ids: ["r1", "r2", "r3", … 2 more, 5 in all]',
        'embeddings: 5 vectors of dimension 3',
        'documents/metadatas/uris: 5 in all',
        '  {"document": "one", "id": "r1", "metadata": {"k": 1}}',
        '  {"document": "two", "id": "r2", "metadata": null}',
        '  {"document": "three", "id": "r3", "metadata": {"k": 3}}',
        '  … 2 more',
      ],
    ],
    ['vectors of mixed shapes', 'POST', `${C}/add`, { ids: ['a', 'b', 'c'], embeddings: [[1, 2], [1, 2, 3], 'AAAA'] }, ['ids: ["a", "b", "c"]', 'embeddings: 3 vectors of 1 of dimension 2, 1 of dimension 3, 1 of packed as text']],
    ['a create: the new name and metadata', 'POST', `${P}/collections`, { name: 'docs-new', metadata: { owner: 'x' }, get_or_create: true }, ['name: "docs-new"', 'get_or_create: true', 'metadata: {"owner": "x"}']],
    ['a rename: the new name and metadata', 'PUT', C, { new_name: 'docs-renamed', new_metadata: { a: 1 } }, ['new_name: "docs-renamed"', 'new_metadata: {"a": 1}']],
    ['a fork: the new name', 'POST', `${C}/fork`, { new_name: 'docs-copy' }, ['new_name: "docs-copy"']],
    ['keys it does not know, sorted, so nothing is left out', 'POST', `${C}/delete`, { zeta: 1, where: { a: 1 }, alpha: [1, 2] }, ['where: {"a": 1}', 'alpha: [1, 2]', 'zeta: 1']],
    [
      'keys that could pass for its own labels, quoted',
      'POST',
      `${C}/delete`,
      { where: { a: 1 }, 'where ': { kind: 'test' }, 'documents/metadatas/uris': 3, 'x\nwhere': 1 },
      ['where: {"a": 1}', '"documents/metadatas/uris": 3', '"where ": {"kind": "test"}', '"x\\nwhere": 1'],
    ],
    ['null as not given', 'POST', `${C}/get`, { where: null, ids: null, limit: 5 }, ['limit: 5']],
    [
      'a search: each filter in full, the rest summarised',
      'POST',
      `${C}/search`,
      { searches: [{ filter: { k: { $eq: 'v' } }, limit: { limit: 5 } }, { rank: { $knn: { query: [0.1, 0.2, 0.3, 0.4, 0.5] } } }] },
      ['searches: 2 searches', 'searches[0].filter: {"k": {"$eq": "v"}}', 'searches[0]: {"limit": {"limit": 5}}', 'searches[1]: {"rank": {"$knn": {"query": <5 numbers>}}}'],
    ],
    ['no body', 'GET', `${C}/count`, undefined, []],
  ])('%s', (_what, method, path, body, lines) => {
    expect(shown(method, path, body)).toEqual(lines);
  });

  it('shows a body that is not an object, summarised', () => {
    const result = chroma.classify({ method: 'POST', path: `${C}/delete`, segments: `${C}/delete`.split('/').slice(1), query: new URLSearchParams(), body: ['x'] });
    if (!result.known) throw new Error(result.reason);
    expect(chroma.describeRequest(result.classification, ['x'])).toEqual([{ label: 'body', summary: ['x'] }]);
  });
});

import type { Classification, FilterTests, RequestedRecords } from '../types';
import { field, hasListedIds, isJsonObject } from './body';

/**
 * How many records a Chroma read or search asks for, what its filters test, and how many records
 * an answer holds. Pure: the request body is whatever JSON the caller sent, so every reader accepts
 * anything and never throws. An amount that cannot be read is counted as unbounded, the safe side.
 */

/** Chroma's server answers a query without n_results with this many records per query embedding. */
const CHROMA_DEFAULT_N_RESULTS = 10;

export function chromaRequestedRecords(endpoint: string, body: unknown): RequestedRecords | undefined {
  switch (endpoint) {
    case 'chroma.collection_query': {
      const queries = field(body, 'query_embeddings');
      const nResults = field(body, 'n_results') ?? CHROMA_DEFAULT_N_RESULTS;
      if (!Array.isArray(queries) || !isCount(nResults)) return 'unbounded';
      const perQuery = hasListedIds(body) ? Math.min(nResults, (field(body, 'ids') as string[]).length) : nResults;
      return perQuery * queries.length;
    }
    case 'chroma.collection_get': {
      const limit = field(body, 'limit');
      if (limit !== undefined && !isCount(limit)) return 'unbounded';
      if (hasListedIds(body)) {
        const listed = new Set(field(body, 'ids') as string[]).size;
        return limit === undefined ? listed : Math.min(listed, limit);
      }
      // without ids (and without limit) a get reads every matching record
      return limit ?? 'unbounded';
    }
    case 'chroma.collection_search': {
      const searches = field(body, 'searches');
      if (!Array.isArray(searches)) return 'unbounded';
      let total = 0;
      for (const s of searches) {
        const limit = isJsonObject(s) ? field(s, 'limit') : undefined;
        const n = isJsonObject(limit) ? field(limit, 'limit') : limit;
        if (!isCount(n)) return 'unbounded';
        total += n;
      }
      return total;
    }
    default:
      return undefined;
  }
}

/** Records in a successful answer: the ids it lists (query and search nest one list per query). */
export function chromaRecordsInResponse(classification: Classification, body: unknown): number | undefined {
  if (!isJsonObject(body)) return undefined;
  const ids = body.ids;
  if (!Array.isArray(ids)) return undefined;
  switch (classification.endpoint) {
    case 'chroma.collection_get':
      return ids.length;
    case 'chroma.collection_query':
    case 'chroma.collection_search':
      return ids.reduce((n: number, inner: unknown) => n + (Array.isArray(inner) ? inner.length : 0), 0);
    default:
      return undefined;
  }
}

const FILTERED_ENDPOINTS: ReadonlySet<string> = new Set(['chroma.collection_get', 'chroma.collection_query', 'chroma.collection_delete', 'chroma.collection_search']);

/**
 * What the request's filters test: metadata keys (any operator, any depth of $and/$or) and the
 * operators applied to documents. Undefined for a request without filters.
 */
export function chromaFilterTests(endpoint: string, body: unknown): FilterTests | undefined {
  if (!FILTERED_ENDPOINTS.has(endpoint)) return undefined;
  const tests: FilterTests = { metadataKeys: [], documentOperators: [], unreadable: false };
  const wheres: unknown[] = [];
  const documents: unknown[] = [];
  if (endpoint === 'chroma.collection_search') {
    const searches = field(body, 'searches');
    if (Array.isArray(searches)) for (const s of searches) wheres.push(field(s, 'where'), field(s, 'filter'));
  } else {
    wheres.push(field(body, 'where'));
    documents.push(field(body, 'where_document'));
  }
  for (const w of wheres) if (w !== undefined) walkWhere(w, tests, 0);
  for (const d of documents) if (d !== undefined) walkDocument(d, tests, 0);
  if (tests.metadataKeys.length === 0 && tests.documentOperators.length === 0 && !tests.unreadable) return undefined;
  tests.metadataKeys = [...new Set(tests.metadataKeys)];
  tests.documentOperators = [...new Set(tests.documentOperators)];
  return tests;
}

/** Deeper filters than this are not read; the filter then counts as unreadable (it tests anything). */
const MAX_FILTER_DEPTH = 32;

/** `{key: value}`, `{key: {$op: value}}`, `{$and|$or: [...]}`; newer servers also take `#document` keys. */
function walkWhere(node: unknown, tests: FilterTests, depth: number): void {
  if (!isJsonObject(node) || depth > MAX_FILTER_DEPTH) {
    tests.unreadable = true;
    return;
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value)) tests.unreadable = true;
      else for (const part of value) walkWhere(part, tests, depth + 1);
    } else if (key === '#document') {
      if (isJsonObject(value)) tests.documentOperators.push(...Object.keys(value));
      else tests.documentOperators.push('$eq');
    } else if (key.startsWith('$')) {
      tests.unreadable = true;
    } else if (key !== '#id') {
      tests.metadataKeys.push(key.startsWith('#metadata.') ? key.slice('#metadata.'.length) : key);
    }
  }
}

/** `{$contains|$not_contains|$regex|$not_regex: text}`, `{$and|$or: [...]}` */
function walkDocument(node: unknown, tests: FilterTests, depth: number): void {
  if (!isJsonObject(node) || depth > MAX_FILTER_DEPTH) {
    tests.unreadable = true;
    return;
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value)) tests.unreadable = true;
      else for (const part of value) walkDocument(part, tests, depth + 1);
    } else {
      tests.documentOperators.push(key);
    }
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

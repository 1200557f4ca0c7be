import type { RecordView } from '../../masking/types';
import type { Classification } from '../types';
import { isJsonObject, type JsonObject } from './body';

/**
 * Where personal data sits in a successful Chroma response, as one view per record. Vectors
 * (`embeddings`), `ids`, `distances` and `scores` are never part of a view, so masking cannot touch
 * them. The check is strict: a body of another shape than the endpoint's gives undefined, and the
 * caller then refuses the response instead of passing it unmasked.
 */
export function chromaMaskableRecords(classification: Classification, body: unknown): RecordView[] | undefined {
  switch (classification.endpoint) {
    case 'chroma.collection_get':
      return getRecords(body);
    case 'chroma.collection_query':
      return nestedRecords(body, QUERY_KEYS);
    case 'chroma.collection_search':
      return nestedRecords(body, SEARCH_KEYS);
    case 'chroma.get_collection':
    case 'chroma.get_collection_by_id':
    case 'chroma.get_collection_by_crn':
    case 'chroma.create_collection':
    case 'chroma.fork_collection': {
      const view = collectionRecord(body);
      return view ? [view] : undefined;
    }
    case 'chroma.list_collections': {
      if (!Array.isArray(body)) return undefined;
      const views = body.map(collectionRecord);
      return views.every((v) => v !== undefined) ? (views as RecordView[]) : undefined;
    }
    default:
      return NO_RECORD_DATA.has(classification.endpoint) ? [] : undefined;
  }
}

/** Endpoints whose answers carry no record data or collection metadata: counts, acks, probes, tenants, databases. */
const NO_RECORD_DATA: ReadonlySet<string> = new Set([
  'chroma.heartbeat',
  'chroma.healthcheck',
  'chroma.version',
  'chroma.pre_flight_checks',
  'chroma.get_user_identity',
  'chroma.reset',
  'chroma.create_tenant',
  'chroma.get_tenant',
  'chroma.update_tenant',
  'chroma.list_databases',
  'chroma.create_database',
  'chroma.get_database',
  'chroma.delete_database',
  'chroma.count_collections',
  'chroma.update_collection',
  'chroma.delete_collection',
  'chroma.collection_count',
  'chroma.collection_add',
  'chroma.collection_upsert',
  'chroma.collection_update',
  'chroma.collection_delete',
  'chroma.fork_count',
  'chroma.indexing_status',
  'chroma.attach_function',
  'chroma.detach_function',
]);

/** Keys a response may carry; any other key with a non-null value makes the shape unknown. */
const GET_KEYS: ReadonlySet<string> = new Set(['ids', 'documents', 'metadatas', 'uris', 'embeddings', 'include']);
const QUERY_KEYS: ReadonlySet<string> = new Set([...GET_KEYS, 'distances']);
/** `search` (Chroma >= 1.1): per search, each column may itself be null */
const SEARCH_KEYS: ReadonlySet<string> = new Set(['ids', 'documents', 'metadatas', 'uris', 'embeddings', 'scores', 'select']);

/** get: parallel arrays, one entry per id */
function getRecords(body: unknown): RecordView[] | undefined {
  if (!isJsonObject(body) || !onlyKnownKeys(body, GET_KEYS)) return undefined;
  const ids = body.ids;
  if (!isStringArray(ids)) return undefined;
  const columns = columnsOf(body, ids.length);
  return columns ? recordViews(columns, ids.length) : undefined;
}

/**
 * query / search: the same arrays nested one level deeper, one inner list per query. An inner null
 * (search leaves out a column per search) holds nothing to mask.
 */
function nestedRecords(body: unknown, keys: ReadonlySet<string>): RecordView[] | undefined {
  if (!isJsonObject(body) || !onlyKnownKeys(body, keys)) return undefined;
  const ids = body.ids;
  if (!Array.isArray(ids) || !ids.every(isStringArray)) return undefined;
  const outer: Record<'documents' | 'metadatas' | 'uris', unknown[] | null> = { documents: null, metadatas: null, uris: null };
  for (const key of DATA_COLUMNS) {
    const column = body[key];
    if (column === null || column === undefined) continue;
    if (!Array.isArray(column) || column.length !== ids.length) return undefined;
    outer[key] = column;
  }
  const views: RecordView[] = [];
  for (const [q, queryIds] of (ids as string[][]).entries()) {
    const inner: Partial<Record<'documents' | 'metadatas' | 'uris', unknown>> = {};
    for (const key of DATA_COLUMNS) {
      const column = outer[key];
      if (column === null) continue;
      inner[key] = column[q];
    }
    const columns = columnsOf(inner, queryIds.length);
    if (!columns) return undefined;
    views.push(...recordViews(columns, queryIds.length));
  }
  return views;
}

const DATA_COLUMNS = ['documents', 'metadatas', 'uris'] as const;

interface Columns {
  documents: (string | null)[] | null;
  metadatas: (JsonObject | null)[] | null;
  uris: (string | null)[] | null;
}

/** The data columns of one list of records, each null (not included) or as long as the ids. */
function columnsOf(source: Partial<Record<string, unknown>>, length: number): Columns | undefined {
  const documents = column(source.documents, length, isStringOrNull);
  const metadatas = column(source.metadatas, length, isObjectOrNull);
  const uris = column(source.uris, length, isStringOrNull);
  if (documents === undefined || metadatas === undefined || uris === undefined) return undefined;
  return { documents, metadatas, uris } as Columns;
}

function column(value: unknown, length: number, entryOk: (v: unknown) => boolean): unknown[] | null | undefined {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value) || value.length !== length || !value.every(entryOk)) return undefined;
  return value;
}

function recordViews(columns: Columns, length: number): RecordView[] {
  const views: RecordView[] = [];
  for (let i = 0; i < length; i++) {
    const data: Record<string, unknown> = {};
    if (columns.documents) data.document = columns.documents[i];
    if (columns.metadatas) data.metadata = columns.metadatas[i];
    if (columns.uris) data.uri = columns.uris[i];
    views.push({
      data,
      commit() {
        // Null entries (not stored) stay null; metadata objects were edited in place but are written back too.
        if (columns.documents) columns.documents[i] = data.document as string | null;
        if (columns.metadatas) columns.metadatas[i] = data.metadata as JsonObject | null;
        if (columns.uris) columns.uris[i] = data.uri as string | null;
      },
    });
  }
  return views;
}

/** A Collection (get, create, fork, each entry of list): its metadata is data. */
function collectionRecord(item: unknown): RecordView | undefined {
  if (!isJsonObject(item) || typeof item.id !== 'string' || typeof item.name !== 'string') return undefined;
  const metadata = item.metadata;
  if (!isObjectOrNull(metadata) && metadata !== undefined) return undefined;
  const data: Record<string, unknown> = { metadata: metadata ?? null };
  return {
    data,
    commit() {
      if (metadata !== undefined) item.metadata = data.metadata;
    },
  };
}

function onlyKnownKeys(body: JsonObject, known: ReadonlySet<string>): boolean {
  return Object.keys(body).every((k) => known.has(k) || body[k] === null);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function isStringOrNull(value: unknown): boolean {
  return value === null || typeof value === 'string';
}

function isObjectOrNull(value: unknown): boolean {
  return value === null || isJsonObject(value);
}

import { type JsonNode, type JsonObject, member, type ScannedJson, stringValue } from '../../masking/json-scan';
import type { RecordView } from '../../masking/types';
import type { Classification } from '../types';

/**
 * Where personal data sits in a Chroma response, as one view per record over the scanned JSON.
 * Vectors (`embeddings`), `distances` and `scores` are never part of a view, so masking cannot touch
 * them; ids are given apart (the detectors search them, fields never mask them). The check is
 * strict: a body of another shape than the endpoint's gives undefined, and the caller then refuses
 * the response instead of passing it unmasked.
 */
export function chromaMaskableRecords(classification: Classification, json: ScannedJson): RecordView[] | undefined {
  const body = json.root;
  switch (classification.endpoint) {
    case 'chroma.collection_get':
      return getRecords(json, body);
    case 'chroma.collection_query':
      return nestedRecords(json, body, QUERY_KEYS);
    case 'chroma.collection_search':
      return nestedRecords(json, body, SEARCH_KEYS);
    case 'chroma.get_collection':
    case 'chroma.get_collection_by_id':
    case 'chroma.get_collection_by_crn':
    case 'chroma.create_collection':
    case 'chroma.fork_collection': {
      const view = collectionRecord(json, body);
      return view ? [view] : undefined;
    }
    case 'chroma.list_collections': {
      if (body.kind !== 'array') return undefined;
      const views = body.items.map((item) => collectionRecord(json, item));
      return views.every((v) => v !== undefined) ? (views as RecordView[]) : undefined;
    }
    default:
      return NO_RECORD_DATA.has(classification.endpoint) ? [] : undefined;
  }
}

/**
 * Which answers may hold personal data, and so are read and masked for a masked caller: successful
 * answers of endpoints that return records or collection metadata, and error answers of those and of
 * every request that names a collection (an error may echo a record). Everything else (heartbeat,
 * version, counts, acks, tenants, databases) streams unmasked: it has nothing to mask, and reading it
 * could only turn a harmless answer into an error.
 */
export function chromaMayHoldPersonalData(classification: Classification, status: number): boolean {
  const recordData = !NO_RECORD_DATA.has(classification.endpoint);
  return status >= 400 ? recordData || classification.collections.length > 0 : recordData;
}

/**
 * Record-shaped parts anywhere in an error body (Chroma's or a proxy's), so designated fields apply
 * to an error that echoes a record: `metadatas` / `documents` / `uris` lists and `metadata` /
 * `document` / `uri` members of any object. The detectors search the whole body anyway.
 */
export function chromaErrorRecords(json: ScannedJson): RecordView[] {
  const views: RecordView[] = [];
  const singular: Record<string, string> = { metadatas: 'metadata', documents: 'document', uris: 'uri' };
  const walk = (node: JsonNode): void => {
    if (node.kind === 'array') {
      for (const item of node.items) walk(item);
      return;
    }
    if (node.kind !== 'object') return;
    for (const m of node.members) {
      const key = stringValue(json, m.key);
      const part = singular[key];
      if (part !== undefined && m.value.kind === 'array') {
        // flat (get) or nested one level (query) lists of records
        for (const item of m.value.items) {
          if (item.kind === 'array') for (const inner of item.items) views.push({ parts: { [part]: inner } });
          else views.push({ parts: { [part]: item } });
        }
      } else if (key === 'metadata' || key === 'document' || key === 'uri') {
        views.push({ parts: { [key]: m.value } });
      }
      walk(m.value);
    }
  };
  walk(json.root);
  return views;
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

const DATA_COLUMNS = ['documents', 'metadatas', 'uris'] as const;
type DataColumn = (typeof DATA_COLUMNS)[number];
const PART: Record<DataColumn, string> = { documents: 'document', metadatas: 'metadata', uris: 'uri' };
const ENTRY_OK: Record<DataColumn, (n: JsonNode) => boolean> = {
  documents: (n) => n.kind === 'string' || n.kind === 'null',
  metadatas: (n) => n.kind === 'object' || n.kind === 'null',
  uris: (n) => n.kind === 'string' || n.kind === 'null',
};

const isNull = (n: JsonNode | undefined): boolean => n === undefined || n.kind === 'null';
const isStringArray = (n: JsonNode | undefined): n is Extract<JsonNode, { kind: 'array' }> => n?.kind === 'array' && n.items.every((i) => i.kind === 'string');

/** get: parallel arrays, one entry per id */
function getRecords(json: ScannedJson, body: JsonNode): RecordView[] | undefined {
  if (body.kind !== 'object' || !onlyKnownKeys(json, body, GET_KEYS)) return undefined;
  const ids = member(json, body, 'ids');
  if (!isStringArray(ids)) return undefined;
  const columns: Partial<Record<DataColumn, JsonNode | undefined>> = {};
  for (const key of DATA_COLUMNS) columns[key] = member(json, body, key);
  return recordViews(columns, ids.items);
}

/**
 * query / search: the same arrays nested one level deeper, one inner list per query. An inner null
 * (search leaves out a column per search) holds nothing to mask.
 */
function nestedRecords(json: ScannedJson, body: JsonNode, keys: ReadonlySet<string>): RecordView[] | undefined {
  if (body.kind !== 'object' || !onlyKnownKeys(json, body, keys)) return undefined;
  const ids = member(json, body, 'ids');
  if (ids?.kind !== 'array' || !ids.items.every(isStringArray)) return undefined;
  const outer: Partial<Record<DataColumn, JsonNode[]>> = {};
  for (const key of DATA_COLUMNS) {
    const column = member(json, body, key);
    if (isNull(column)) continue;
    if (column?.kind !== 'array' || column.items.length !== ids.items.length) return undefined;
    outer[key] = column.items;
  }
  const views: RecordView[] = [];
  for (const [q, queryIds] of ids.items.entries()) {
    const inner: Partial<Record<DataColumn, JsonNode | undefined>> = {};
    for (const key of DATA_COLUMNS) inner[key] = outer[key]?.[q];
    const records = recordViews(inner, (queryIds as Extract<JsonNode, { kind: 'array' }>).items);
    if (!records) return undefined;
    views.push(...records);
  }
  return views;
}

/** One view per id; each data column null (not included) or a list as long as the ids. */
function recordViews(columns: Partial<Record<DataColumn, JsonNode | undefined>>, ids: readonly JsonNode[]): RecordView[] | undefined {
  const lists: Partial<Record<DataColumn, JsonNode[]>> = {};
  for (const key of DATA_COLUMNS) {
    const column = columns[key];
    if (isNull(column)) continue;
    if (column?.kind !== 'array' || column.items.length !== ids.length || !column.items.every(ENTRY_OK[key])) return undefined;
    lists[key] = column.items;
  }
  return ids.map((id, i) => {
    const parts: RecordView['parts'] = {};
    for (const key of DATA_COLUMNS) {
      const list = lists[key];
      if (list) parts[PART[key]] = list[i];
    }
    return { parts, id };
  });
}

/** A Collection (get, create, fork, each entry of list): its metadata is data. */
function collectionRecord(json: ScannedJson, item: JsonNode): RecordView | undefined {
  if (item.kind !== 'object') return undefined;
  if (member(json, item, 'id')?.kind !== 'string' || member(json, item, 'name')?.kind !== 'string') return undefined;
  const metadata = member(json, item, 'metadata');
  if (metadata !== undefined && metadata.kind !== 'object' && metadata.kind !== 'null') return undefined;
  return { parts: { metadata } };
}

function onlyKnownKeys(json: ScannedJson, body: JsonObject, known: ReadonlySet<string>): boolean {
  return body.members.every((m) => m.value.kind === 'null' || known.has(stringValue(json, m.key)));
}

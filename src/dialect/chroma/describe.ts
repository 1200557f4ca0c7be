import type { Classification, RequestDetail } from '../types';
import { isJsonObject, type JsonObject } from './body';

/**
 * What a Chroma request body asks for, as an approver is shown it (THREATS 34): the filters in
 * full, the bounds (limit, offset, n_results, include), how many ids, vectors and records and the
 * first few, and the new names and metadata of a schema change. Every other key follows, sorted,
 * so nothing the caller sent is left out.
 */

/** Filters decide what a delete or export reaches: always shown in full. */
const FILTER_KEYS = ['where', 'where_document'] as const;
/** Bounds and the schema change's new names, shown before the rest. */
const LEADING_KEYS = ['ids', 'limit', 'offset', 'n_results', 'include', 'name', 'new_name', 'get_or_create', 'metadata', 'new_metadata', 'configuration', 'new_configuration'] as const;
const VECTOR_KEYS = ['embeddings', 'query_embeddings'] as const;
/** columns of records, one entry per id; zipped into records so an approver reads each record whole */
const RECORD_COLUMNS = { documents: 'document', metadatas: 'metadata', uris: 'uri' } as const;
const FIRST_RECORDS = 3;

export function describeChromaRequest(classification: Classification, body: unknown): RequestDetail[] {
  if (body === undefined) return [];
  if (!isJsonObject(body)) return [{ label: 'body', summary: body }];
  const details: RequestDetail[] = [];
  const shown = new Set<string>();
  // Chroma reads null as "not given"
  const given = (key: string) => Object.hasOwn(body, key) && body[key] !== null;

  for (const key of FILTER_KEYS) {
    if (given(key)) details.push({ label: key, exact: body[key] });
    shown.add(key);
  }
  if (classification.endpoint === 'chroma.collection_search' && Array.isArray(body.searches)) {
    details.push(...describeSearches(body.searches));
    shown.add('searches');
  }
  for (const key of LEADING_KEYS) {
    if (given(key)) details.push({ label: key, summary: body[key] });
    shown.add(key);
  }
  for (const key of VECTOR_KEYS) {
    if (given(key)) details.push({ label: key, note: vectorsNote(body[key]) });
    shown.add(key);
  }
  const records = recordsOf(body);
  if (records) {
    details.push(records);
    for (const column of Object.keys(RECORD_COLUMNS)) shown.add(column);
  }
  for (const key of Object.keys(body).sort()) {
    if (!shown.has(key) && given(key)) details.push({ label: keyLabel(key), summary: body[key] });
  }
  return details;
}

/**
 * A key the caller chose, as a label: bare when it is a plain word, quoted otherwise, so it can never
 * pass for one of the labels written here (`searches[0].filter`, `documents/metadatas/uris`).
 */
function keyLabel(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : JSON.stringify(key);
}

/** search (Chroma >= 1.1): each search's filter in full, the rest of it summarised */
function describeSearches(searches: unknown[]): RequestDetail[] {
  const details: RequestDetail[] = [{ label: 'searches', note: `${searches.length} search${searches.length === 1 ? '' : 'es'}` }];
  searches.forEach((search, i) => {
    if (!isJsonObject(search)) {
      details.push({ label: `searches[${i}]`, summary: search });
      return;
    }
    const { filter, ...rest } = search;
    if (filter !== undefined && filter !== null) details.push({ label: `searches[${i}].filter`, exact: filter });
    if (Object.keys(rest).length > 0) details.push({ label: `searches[${i}]`, summary: rest });
  });
  return details;
}

/** "12 vectors of dimension 384": never the numbers themselves */
function vectorsNote(value: unknown): string {
  if (!Array.isArray(value)) return `not a list (${kindOf(value)})`;
  const dimensions = new Map<string, number>();
  for (const v of value) {
    const d = Array.isArray(v) ? `dimension ${v.length}` : typeof v === 'string' ? 'packed as text' : kindOf(v);
    dimensions.set(d, (dimensions.get(d) ?? 0) + 1);
  }
  const kinds = [...dimensions.entries()].map(([d, n]) => (dimensions.size === 1 ? d : `${n} of ${d}`));
  return `${value.length} vector${value.length === 1 ? '' : 's'}${kinds.length ? ` of ${kinds.join(', ')}` : ''}`;
}

function kindOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value;
}

/** The written records (documents, metadatas, uris by id), the first few of them. */
function recordsOf(body: JsonObject): RequestDetail | undefined {
  const columns = Object.entries(RECORD_COLUMNS).filter(([column]) => body[column] !== undefined && body[column] !== null);
  if (columns.length === 0) return undefined;
  const ids = Array.isArray(body.ids) ? body.ids : [];
  const total = Math.max(0, ...columns.map(([column]) => (Array.isArray(body[column]) ? (body[column] as unknown[]).length : 1)));
  const records: Array<{ id?: unknown; data: Record<string, unknown> }> = [];
  for (let i = 0; i < Math.min(total, FIRST_RECORDS); i++) {
    const data: Record<string, unknown> = {};
    for (const [column, as] of columns) {
      const values = body[column];
      // a column that is not a list is shown as it came, once
      data[as] = Array.isArray(values) ? values[i] : i === 0 ? values : undefined;
    }
    records.push({ ...(i < ids.length ? { id: ids[i] } : {}), data });
  }
  return { label: 'documents/metadatas/uris', records, total };
}

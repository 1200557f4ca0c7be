import type { Classification, CollectionIdentity } from '../types';
import { isJsonObject } from './body';
import { canonicalCollectionId } from './names';

/**
 * True when a successful response names collections. A rename counts: its empty answer confirms
 * the new name, which chromaCollectionsInResponse then takes from the request.
 */
export function chromaRevealsCollections(classification: Classification): boolean {
  switch (classification.endpoint) {
    case 'chroma.create_collection':
    case 'chroma.get_collection':
    case 'chroma.get_collection_by_id':
    case 'chroma.get_collection_by_crn':
    case 'chroma.list_collections':
    case 'chroma.fork_collection':
      return true;
    case 'chroma.update_collection':
      return classification.collections.some((c) => c.kind === 'name');
    default:
      return false;
  }
}

/**
 * The id/name pairs a successful Chroma response reveals, so the gateway can map the ids that data
 * requests use to the names policy speaks of. Malformed entries are left out; nothing throws.
 */
export function chromaCollectionsInResponse(classification: Classification, body: unknown): CollectionIdentity[] {
  switch (classification.endpoint) {
    case 'chroma.create_collection':
    case 'chroma.get_collection':
    case 'chroma.get_collection_by_id':
    case 'chroma.get_collection_by_crn':
    case 'chroma.fork_collection':
      return identitiesOf([body]);
    case 'chroma.list_collections':
      return Array.isArray(body) ? identitiesOf(body) : [];
    case 'chroma.update_collection':
      return renamed(classification, body);
    default:
      return [];
  }
}

/** Chroma's Collection JSON: `id` (UUID) and `name`, with `tenant` and `database` beside them. */
function identitiesOf(items: readonly unknown[]): CollectionIdentity[] {
  const found: CollectionIdentity[] = [];
  for (const item of items) {
    if (!isJsonObject(item)) continue;
    const id = canonicalCollectionId(item.id);
    const { name, tenant, database } = item;
    if (id === undefined || typeof name !== 'string' || name === '') continue;
    found.push({
      id,
      name,
      ...(typeof tenant === 'string' ? { tenant } : {}),
      ...(typeof database === 'string' ? { database } : {}),
    });
  }
  return found;
}

/**
 * A rename answers `{}`: the new pair comes from the request, and only a success confirms it.
 * Without it the gateway would keep judging the collection by its old name.
 */
function renamed(classification: Classification, body: unknown): CollectionIdentity[] {
  if (!isJsonObject(body)) return [];
  const byId = classification.collections.find((c) => c.kind === 'id');
  const byName = classification.collections.find((c) => c.kind === 'name');
  if (byId?.kind !== 'id' || byName?.kind !== 'name') return [];
  return [
    {
      id: byId.id,
      name: byName.name,
      ...(byId.tenant !== undefined ? { tenant: byId.tenant } : {}),
      ...(byId.database !== undefined ? { database: byId.database } : {}),
    },
  ];
}

/**
 * What Chroma accepts as a tenant, database, collection name and collection id. A request that
 * names something Chroma itself would never accept is not classified: policy must only ever see
 * names the server would act on.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Chroma's own collection name rule (3-512 characters of [a-zA-Z0-9._-], alphanumeric ends, no ".."). */
const COLLECTION_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]$/;

/** Tenants and databases: default_tenant, default_database, UUIDs in Chroma Cloud. */
const SCOPE_NAME = /^[a-zA-Z0-9._-]{1,512}$/;

/**
 * The canonical (lower-case, hyphenated) form of a collection id, or undefined when it is not one.
 * The server also parses braced, URN and hyphen-less UUIDs; official clients never send those, and
 * refusing them keeps one spelling per collection, so the id-to-name cache cannot be sidestepped.
 */
export function canonicalCollectionId(value: unknown): string | undefined {
  return typeof value === 'string' && UUID.test(value) ? value.toLowerCase() : undefined;
}

export function isCollectionName(value: unknown): value is string {
  return typeof value === 'string' && COLLECTION_NAME.test(value) && !value.includes('..');
}

export function isScopeName(value: string): boolean {
  return SCOPE_NAME.test(value) && !/^\.+$/.test(value);
}

/** A value from the request, quoted and cut short, so a reason stays one readable line. */
export function quoted(value: string, max = 80): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(cut);
}

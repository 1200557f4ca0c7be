/**
 * Reading the few body fields that decide a Chroma request's class. The body is whatever JSON the
 * caller sent (or undefined), so every reader accepts anything and never throws.
 */

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The field's value, treating JSON null like an absent field (Chroma reads both as "not given"). */
export function field(body: unknown, key: string): unknown {
  if (!isJsonObject(body) || !Object.hasOwn(body, key)) return undefined;
  const value = body[key];
  return value === null ? undefined : value;
}

/** True only for a non-empty array of strings: the one shape that bounds a request to listed records. */
export function hasListedIds(body: unknown): boolean {
  const ids = field(body, 'ids');
  return Array.isArray(ids) && ids.length > 0 && ids.every((id) => typeof id === 'string');
}

/** True when the body carries a `where` or `where_document` filter of any shape. */
export function hasFilter(body: unknown): boolean {
  return field(body, 'where') !== undefined || field(body, 'where_document') !== undefined;
}

import { isScopeName } from './names';

/**
 * GET …/collections for one page, the request the gateway sends with its own credential to learn
 * an unknown collection id's name. Undefined when the scope or page cannot make a valid request.
 */
export function chromaListCollectionsTarget(
  scope: { tenant?: string; database?: string },
  page: { limit: number; offset: number },
): string | undefined {
  const { tenant, database } = scope;
  if (tenant === undefined || database === undefined || !isScopeName(tenant) || !isScopeName(database)) return undefined;
  if (!isPageNumber(page.limit) || page.limit === 0 || !isPageNumber(page.offset)) return undefined;
  const path = `/api/v2/tenants/${encodeURIComponent(tenant)}/databases/${encodeURIComponent(database)}/collections`;
  return `${path}?limit=${page.limit}&offset=${page.offset}`;
}

/** Chroma reads limit and offset as unsigned 32-bit integers. */
function isPageNumber(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0 && n <= 0xffffffff;
}

import type { CollectionIdentity, RequestScope } from '../dialect/types';
import { decide, type Policy } from './evaluate';

/** Who asks for a listing, and through which connection. */
export interface ListingReader {
  subject: string;
  groups: readonly string[];
  connection: string;
}

export interface VisibleListing<T> {
  /** the caller's page of the visible collections */
  page: T[];
  /** how many collections the caller may see in all (what a count answers) */
  visible: number;
  /** how many were left out because policy denies the caller reading them */
  hidden: number;
}

/**
 * The part of a listing a caller may see: a collection stays when policy does not deny them
 * reading it (a read under review stays visible: it can be asked for), in the listing's tenant and
 * database. A collection whose id or name could not be read is left out. The caller's page
 * (limit, offset) applies to the visible list, so paging never reveals how many were hidden where.
 */
export function visibleListing<T extends { identity?: CollectionIdentity }>(
  policy: Policy,
  reader: ListingReader,
  scope: RequestScope,
  listed: readonly T[],
  page: { limit?: number; offset: number },
): VisibleListing<T> {
  const visible = listed.filter(
    (c) => c.identity !== undefined && decide(policy, { ...reader, operation: 'read', collections: [c.identity.name], ...scope }).effect !== 'deny',
  );
  const end = page.limit === undefined ? undefined : page.offset + page.limit;
  return { page: visible.slice(page.offset, end), visible: visible.length, hidden: listed.length - visible.length };
}

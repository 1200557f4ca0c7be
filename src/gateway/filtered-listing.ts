import { Readable } from 'node:stream';
import type { Classification } from '../dialect/types';
import { readFullListing } from '../forward/collection-listing';
import type { UpstreamResponse } from '../forward/upstream';
import type { Policy } from '../policy/evaluate';
import { visibleListing, type ListingReader } from '../policy/visibility';
import type { ConnectionRuntime } from './connections';

/**
 * The answer to a collection listing or count, made by the gateway: the upstream's full listing,
 * read with the gateway's credential, less what the caller may not read, then the caller's page.
 * It goes out through respond() like an upstream answer, so masking and hashing apply as usual.
 * An upstream refusal (an unknown tenant, say) is passed on as it came.
 */
export async function filteredListing(
  conn: ConnectionRuntime,
  policy: Policy,
  reader: ListingReader,
  classification: Classification & { listing: NonNullable<Classification['listing']> },
): Promise<{ response: UpstreamResponse; hidden: number }> {
  const scope = classification.scope ?? {};
  const full = await readFullListing(conn, scope);
  if (!full.ok) return { response: { status: full.status, headers: full.headers, body: Readable.from([full.body]) }, hidden: 0 };
  conn.directory.learn(full.collections.flatMap((c) => (c.identity ? [c.identity] : [])));
  const { listing } = classification;
  const shown = visibleListing(policy, reader, scope, full.collections, listing);
  const text = listing.kind === 'count' ? String(shown.visible) : `[${shown.page.map((c) => c.raw).join(',')}]`;
  const body = Buffer.from(text, 'utf8');
  return {
    response: { status: 200, headers: { 'content-type': 'application/json', 'content-length': String(body.length) }, body: Readable.from([body]) },
    hidden: shown.hidden,
  };
}

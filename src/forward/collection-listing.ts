import type { Classification, CollectionIdentity, Dialect, RequestScope } from '../dialect/types';
import { VecgateError } from '../errors';
import { routeRequest } from '../gateway/routing';
import { credentialHeaders, type UpstreamCredential } from './headers';
import type { Upstream, UpstreamResponse } from './upstream';

/** What reading a connection's collection listing needs. */
export interface ListingSource {
  name: string;
  dialect: Dialect;
  upstream: Upstream;
  credential?: UpstreamCredential;
}

/** One listed collection: the upstream's own JSON text, and its id and name when they could be read. */
export interface ListedCollection {
  /** the element exactly as the upstream wrote it, so large integers in metadata pass unchanged */
  raw: string;
  identity?: CollectionIdentity;
}

export type FullListing =
  | { ok: true; collections: ListedCollection[] }
  /** the upstream refused a page (an unknown tenant, say): its answer, to pass on as it is */
  | { ok: false; status: number; headers: UpstreamResponse['headers']; body: Buffer };

const LIST_PAGE = 500;

/**
 * Every collection of a tenant/database, paged through with the gateway's own credential. A
 * listing is a JSON array of collection objects; the dialect reads each one's id and name as it
 * reads a client's listing.
 */
export async function readFullListing(source: ListingSource, scope: RequestScope): Promise<FullListing> {
  const collections: ListedCollection[] = [];
  for (let offset = 0; ; offset += LIST_PAGE) {
    const target = source.dialect.listCollectionsTarget(scope, { limit: LIST_PAGE, offset });
    if (target === undefined) return { ok: true, collections };
    const headers = { host: source.upstream.host, accept: 'application/json', 'accept-encoding': 'identity', ...credentialHeaders(source.credential) };
    const res = await source.upstream.request({ method: 'GET', target, headers, body: Buffer.alloc(0) });
    const body = await readAll(res.body);
    if (res.status !== 200) return { ok: false, status: res.status, headers: res.headers, body };
    const classification = listingClassification(source, target);
    const text = body.toString('utf8');
    let page: unknown;
    try {
      page = JSON.parse(text);
    } catch (err) {
      throw new VecgateError('UPSTREAM_RESET', 'The vector database answered the collection listing with malformed JSON.', { cause: err });
    }
    const raws = rawArrayItems(text);
    if (!Array.isArray(page) || raws?.length !== page.length) {
      throw new VecgateError('UPSTREAM_RESET', 'The vector database answered the collection listing with something other than a list.');
    }
    page.forEach((item: unknown, i) => {
      const [identity] = source.dialect.collectionsInResponse(classification, [item]);
      collections.push({ raw: raws[i] as string, ...(identity ? { identity } : {}) });
    });
    if (page.length < LIST_PAGE) return { ok: true, collections };
  }
}

/** The id/name pairs of a tenant/database, for the collection directory; a refused listing is an error. */
export async function listCollectionIdentities(source: ListingSource, scope: RequestScope): Promise<CollectionIdentity[]> {
  const listing = await readFullListing(source, scope);
  if (!listing.ok) {
    throw new VecgateError('UPSTREAM_UNREACHABLE', `The vector database did not list its collections (status ${listing.status}), so the collection could not be checked against policy.`);
  }
  return listing.collections.flatMap((c) => (c.identity ? [c.identity] : []));
}

/** The listing is classified like any request, so the dialect reads its answer as it reads a client's. */
function listingClassification(source: ListingSource, target: string): Classification {
  const route = routeRequest(target, source.name);
  const listing = source.dialect.classify({ method: 'GET', path: route.path, segments: route.segments, query: route.query, body: undefined });
  if (!listing.known) throw new VecgateError('INTERNAL', 'The dialect does not recognise its own collection listing.');
  return listing.classification;
}

/**
 * The text of each element of a JSON array, or undefined when the text is no array. Only for text
 * JSON.parse accepted: it tracks nesting and strings, nothing else.
 */
export function rawArrayItems(text: string): string[] | undefined {
  const open = text.search(/\S/);
  if (text[open] !== '[') return undefined;
  const items: string[] = [];
  let depth = 0;
  let start = -1;
  for (let i = open + 1; i < text.length; i += 1) {
    const ch = text[i] as string;
    if (ch === '"') {
      if (start < 0) start = i;
      for (i += 1; i < text.length && text[i] !== '"'; i += 1) if (text[i] === '\\') i += 1;
    } else if (ch === '[' || ch === '{') {
      if (start < 0) start = i;
      depth += 1;
    } else if (ch === ']' || ch === '}') {
      if (depth === 0) {
        if (start >= 0) items.push(text.slice(start, i).trim());
        return items;
      }
      depth -= 1;
    } else if (ch === ',' && depth === 0) {
      items.push(text.slice(start, i).trim());
      start = -1;
    } else if (start < 0 && !/\s/.test(ch)) {
      start = i;
    }
  }
  return undefined;
}

async function readAll(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}

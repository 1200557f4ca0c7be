import type { LoadedConfig } from '../config/load';
import { dialectFor } from '../dialect';
import type { CollectionIdentity, Dialect } from '../dialect/types';
import { CollectionDirectory } from '../forward/collection-directory';
import { credentialHeaders, type UpstreamCredential } from '../forward/headers';
import { createUpstream, type Upstream } from '../forward/upstream';
import { credentialHeaderNames } from '../identity/extract';
import { VecgateError } from '../errors';
import { routeRequest } from './routing';

/** Everything the gateway holds for one configured database. */
export interface ConnectionRuntime {
  name: string;
  dialect: Dialect;
  upstream: Upstream;
  directory: CollectionDirectory;
  credential?: UpstreamCredential;
  /** every header that may carry a caller's credential; all are removed before forwarding */
  callerCredentialHeaders: readonly string[];
}

const LIST_PAGE = 500;

export function createConnections(loaded: LoadedConfig): Map<string, ConnectionRuntime> {
  const { config, credentials } = loaded;
  const g = config.gateway;
  return new Map(
    config.connections.map((c) => {
      const dialect = dialectFor(c.dialect);
      const upstream = createUpstream(c.upstream, { connections: g.upstreamConnections, connectTimeoutMs: g.upstreamConnectTimeoutMs, timeoutMs: g.upstreamTimeoutMs });
      const value = credentials.get(c.name);
      const credential = value === undefined ? undefined : { header: c.credential?.header ?? dialect.defaultCredentialHeader, value };
      const runtime: ConnectionRuntime = {
        name: c.name,
        dialect,
        upstream,
        credential,
        callerCredentialHeaders: credentialHeaderNames(dialect.tokenHeaders),
        directory: new CollectionDirectory((scope) => listAllCollections(runtime, scope)),
      };
      return [c.name, runtime];
    }),
  );
}

/** Pages through the upstream's own collection listing, with the gateway's credential. */
async function listAllCollections(conn: ConnectionRuntime, scope: { tenant?: string; database?: string }): Promise<CollectionIdentity[]> {
  const all: CollectionIdentity[] = [];
  for (let offset = 0; ; offset += LIST_PAGE) {
    const target = conn.dialect.listCollectionsTarget(scope, { limit: LIST_PAGE, offset });
    if (target === undefined) return all;
    const headers = { host: conn.upstream.host, accept: 'application/json', ...credentialHeaders(conn.credential) };
    const res = await conn.upstream.request({ method: 'GET', target, headers, body: Buffer.alloc(0) });
    const text = await readAll(res.body);
    if (res.status !== 200) {
      throw new VecgateError('UPSTREAM_UNREACHABLE', `The vector database did not list its collections (status ${res.status}), so the collection could not be checked against policy.`);
    }
    // The listing is classified like any request, so the dialect reads its answer as it reads a client's.
    const route = routeRequest(target, conn.name);
    const listing = conn.dialect.classify({ method: 'GET', path: route.path, segments: route.segments, query: route.query, body: undefined });
    if (!listing.known) throw new VecgateError('INTERNAL', 'The dialect does not recognise its own collection listing.');
    let page: CollectionIdentity[];
    try {
      page = conn.dialect.collectionsInResponse(listing.classification, JSON.parse(text));
    } catch (err) {
      throw new VecgateError('UPSTREAM_RESET', 'The vector database answered the collection listing with malformed JSON.', { cause: err });
    }
    all.push(...page);
    if (page.length < LIST_PAGE) return all;
  }
}

async function readAll(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

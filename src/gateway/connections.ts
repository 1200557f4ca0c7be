import type { Clock } from '../clock';
import type { LoadedConfig } from '../config/load';
import { dialectFor } from '../dialect';
import type { Dialect } from '../dialect/types';
import { CollectionDirectory } from '../forward/collection-directory';
import { listCollectionIdentities } from '../forward/collection-listing';
import type { UpstreamCredential } from '../forward/headers';
import { LookupBudget } from '../forward/lookup-budget';
import { createUpstream, type Upstream } from '../forward/upstream';
import { credentialHeaderNames } from '../identity/extract';

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

export function createConnections(loaded: LoadedConfig, clock: Clock): Map<string, ConnectionRuntime> {
  const { config, credentials } = loaded;
  const g = config.gateway;
  // one budget for all connections: it bounds what one caller makes the gateway ask, wherever
  const lookups = new LookupBudget({ perMinute: g.collectionLookupsPerMinute, clock });
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
        directory: new CollectionDirectory((scope) => listCollectionIdentities(runtime, scope), { clock, ttlMs: g.collectionNameTtlSeconds * 1000, lookups }),
      };
      return [c.name, runtime];
    }),
  );
}

import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { IdpUnreachable } from './idp-unreachable';
import { forLog } from './log-safe';
import type { IdentityConfig } from './types';

/** After a failed discovery, requests fail fast for this long before the provider is asked again. */
export const DISCOVERY_RETRY_BACKOFF_MS = 1_000;

export interface DiscoveryDeps {
  clock: Clock;
  logger: Logger;
  fetch: typeof fetch;
}

/**
 * The provider's `jwks_uri`, read once from {issuer}/.well-known/openid-configuration and then
 * kept. Concurrent callers share one request; a failure is not kept, but for
 * DISCOVERY_RETRY_BACKOFF_MS callers fail fast so a flood of requests does not hammer the provider.
 * Rejects with IdpUnreachable.
 */
export function createJwksUriDiscovery(
  config: Pick<IdentityConfig, 'issuer' | 'httpTimeoutMs'>,
  deps: DiscoveryDeps,
): () => Promise<URL> {
  let found: URL | undefined;
  let inFlight: Promise<URL> | undefined;
  let retryAt: number | undefined;

  return function jwksUri(): Promise<URL> {
    if (found) return Promise.resolve(found);
    if (inFlight) return inFlight;
    if (retryAt !== undefined && deps.clock.now() < retryAt) {
      return Promise.reject(new IdpUnreachable('OpenID discovery failed moments ago; not retrying yet'));
    }
    inFlight = readJwksUri(config, deps.fetch)
      .then(
        (uri) => {
          found = uri;
          retryAt = undefined;
          deps.logger.info({ event: 'identity.discovered', issuer: config.issuer, jwksUri: uri.href }, 'identity provider discovered');
          return uri;
        },
        (err: unknown) => {
          retryAt = deps.clock.now() + DISCOVERY_RETRY_BACKOFF_MS;
          const detail = err instanceof Error ? err.message : forLog(err);
          deps.logger.warn({ event: 'identity.discovery_failed', issuer: config.issuer, detail, retryInMs: DISCOVERY_RETRY_BACKOFF_MS }, 'OpenID discovery failed');
          throw err;
        },
      )
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}

async function readJwksUri(config: Pick<IdentityConfig, 'issuer' | 'httpTimeoutMs'>, fetchImpl: typeof fetch): Promise<URL> {
  // OpenID Connect Discovery 1.0, section 4: drop a trailing "/" from the issuer before appending.
  const url = `${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const signal = AbortSignal.timeout(config.httpTimeoutMs);

  let response: Response;
  try {
    // A redirect is refused rather than followed: the document must come from the issuer itself.
    response = await fetchImpl(url, { method: 'GET', redirect: 'manual', signal, headers: { accept: 'application/json' } });
  } catch (cause) {
    throw new IdpUnreachable(`OpenID discovery request to ${url} failed`, { cause });
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw new IdpUnreachable(`OpenID discovery at ${url} answered HTTP ${response.status}, expected 200`);
  }

  let metadata: unknown;
  try {
    metadata = await response.json();
  } catch (cause) {
    const what = signal.aborted ? 'timed out while sending' : 'did not return';
    throw new IdpUnreachable(`OpenID discovery at ${url} ${what} a JSON document`, { cause });
  }
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new IdpUnreachable(`OpenID discovery at ${url} did not return a JSON object`);
  }

  const { issuer, jwks_uri: jwksUri } = metadata as Record<string, unknown>;
  if (issuer !== config.issuer) {
    throw new IdpUnreachable(
      `OpenID discovery at ${url} names issuer ${forLog(issuer, 200)}, but identity.issuer is ${config.issuer}: set identity.issuer to the provider's exact issuer`,
    );
  }
  if (typeof jwksUri !== 'string') {
    throw new IdpUnreachable(`OpenID discovery at ${url} has no jwks_uri`);
  }
  let parsed: URL;
  try {
    parsed = new URL(jwksUri);
  } catch (cause) {
    throw new IdpUnreachable(`OpenID discovery at ${url} has an unparseable jwks_uri ${forLog(jwksUri, 200)}`, { cause });
  }
  // Plain http only when the issuer itself is plain http (a local development provider).
  const issuerProtocol = new URL(config.issuer).protocol;
  if (parsed.protocol !== 'https:' && parsed.protocol !== issuerProtocol) {
    throw new IdpUnreachable(`OpenID discovery at ${url} names a jwks_uri that is not https: ${forLog(jwksUri, 200)}`);
  }
  return parsed;
}

import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import type { Clock } from '../clock';
import type { Principal, TokenVerifier } from './types';

/**
 * Remembers tokens that verified, for at most `ttlMs` and never past their own expiry, so a client
 * sending the same token on every request pays the signature check once. Failures are never
 * cached. The ttl bounds how long a key removed from the provider's JWKS still works.
 */
export function createCachingVerifier(inner: TokenVerifier, deps: { clock: Clock; ttlMs: number; maxEntries: number }): TokenVerifier {
  const cache = new Map<string, { principal: Principal; until: number }>();
  return {
    async verify(token) {
      const key = createHash('sha256').update(token).digest('base64');
      const now = deps.clock.now();
      const hit = cache.get(key);
      if (hit && hit.until > now) return hit.principal;
      if (hit) cache.delete(key);
      const principal = await inner.verify(token);
      const exp = decodeJwt(token).exp;
      const until = Math.min(now + deps.ttlMs, typeof exp === 'number' ? exp * 1000 : now);
      if (until > now) {
        if (cache.size >= deps.maxEntries) cache.delete(cache.keys().next().value as string);
        cache.set(key, { principal, until });
      }
      return principal;
    },
  };
}

import { createRemoteJWKSet, customFetch, errors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions } from 'jose';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { VecgateError } from '../errors';
import { createJwksUriDiscovery } from './discovery';
import { checkTokenHeader } from './header-check';
import { IdpUnreachable } from './idp-unreachable';
import { forLog } from './log-safe';
import { readPrincipal } from './principal';
import { toRejection } from './rejection';
import { checkTokenUse } from './token-use';
import type { IdentityConfig, Principal, TokenVerifier } from './types';

export interface TokenVerifierDeps {
  clock: Clock;
  logger: Logger;
  /** defaults to the global fetch; used for discovery and JWKS requests */
  fetch?: typeof fetch;
}

/**
 * Errors from the key set that are about the token (its kid or alg), not about the provider.
 * Anything else from the key set means the JWKS could not be fetched or used.
 */
const TOKEN_KEY_ERRORS = new Set(['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_MULTIPLE_MATCHING_KEYS', 'ERR_JOSE_NOT_SUPPORTED']);

/**
 * Verifies bearer tokens from the organisation's OpenID provider: signature against the provider's
 * published keys, algorithm pinned, issuer, audience, exp/nbf with the allowed skew, then the token's
 * type and client when configured. The config was validated at load (config/schema.ts). Keys are
 * fetched lazily and cached by jose; an unknown kid refetches at most once per cooldown.
 */
export function createTokenVerifier(config: IdentityConfig, deps: TokenVerifierDeps): TokenVerifier {
  const fetchImpl = deps.fetch ?? globalThis.fetch;
  const jwksUri = createJwksUriDiscovery(config, { clock: deps.clock, logger: deps.logger, fetch: fetchImpl });
  let keySet: JWTVerifyGetKey | undefined;

  async function keys(): Promise<JWTVerifyGetKey> {
    if (keySet) return keySet;
    const uri = await jwksUri();
    if (!keySet) {
      const remote = createRemoteJWKSet(uri, {
        cooldownDuration: config.jwksCooldownSeconds * 1000,
        cacheMaxAge: config.jwksCacheMaxAgeSeconds * 1000,
        timeoutDuration: config.httpTimeoutMs,
        [customFetch]: fetchImpl,
      });
      keySet = async (header, token) => {
        try {
          return await remote(header, token);
        } catch (err) {
          if (err instanceof errors.JOSEError && TOKEN_KEY_ERRORS.has(err.code)) throw err;
          throw new IdpUnreachable(`JWKS at ${uri.href} could not be fetched or used`, { cause: err });
        }
      };
    }
    return keySet;
  }

  async function verify(token: string): Promise<Principal> {
    if (typeof token !== 'string' || token === '') {
      throw new VecgateError('TOKEN_MISSING', 'no bearer token was sent: send "Authorization: Bearer <token>" from your identity provider');
    }
    const header = checkTokenHeader(token, config.algorithms);
    const options: JWTVerifyOptions = {
      algorithms: config.algorithms,
      issuer: config.issuer,
      audience: config.audience,
      clockTolerance: config.clockSkewSeconds,
      currentDate: new Date(deps.clock.now()),
      requiredClaims: ['exp', 'sub'],
    };
    const claims = await verifyWithKeySet(token, await keys(), options);
    checkTokenUse(header.typ, claims, config);
    const { principal, warnings } = readPrincipal(claims, config);
    for (const warning of warnings) {
      deps.logger.warn({ event: 'identity.claim_ignored', kid: header.kid, subject: forLog(principal.subject) }, warning);
    }
    return principal;
  }

  return {
    async verify(token: string): Promise<Principal> {
      try {
        return await verify(token);
      } catch (err) {
        const { error, level, detail } = toRejection(err, config);
        deps.logger[level]({ event: 'identity.token_rejected', code: error.code, ...detail }, 'token rejected');
        throw error;
      }
    },
  };
}

/**
 * jwtVerify against the key set; when several published keys fit a token (no kid, or a reused kid)
 * each is tried in turn, as jose leaves that choice to the caller.
 */
async function verifyWithKeySet(token: string, keySet: JWTVerifyGetKey, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, keySet, options)).payload;
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
    for await (const key of err) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (inner) {
        if (inner instanceof errors.JWSSignatureVerificationFailed) continue;
        throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

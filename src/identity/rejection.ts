import { errors } from 'jose';
import { VecgateError, isVecgateError } from '../errors';
import { ALGORITHM_MESSAGE, MALFORMED_MESSAGE } from './header-check';
import { IdpUnreachable } from './idp-unreachable';
import { forLog } from './log-safe';
import type { IdentityConfig } from './types';

export type LogLevel = 'debug' | 'warn' | 'error';

/** What the verifier throws, and what it logs about it. */
export interface Rejection {
  error: VecgateError;
  level: LogLevel;
  detail: Record<string, unknown>;
}

export const IDP_UNAVAILABLE_MESSAGE =
  'the identity provider cannot be reached to verify the token: retry later; if this persists, tell the operators';

const SIGNATURE_MESSAGE = 'the token signature could not be verified: get a new token from your identity provider';

interface JoseLike {
  code: string;
  message: string;
  claim?: unknown;
  reason?: unknown;
}

/** jose error code -> our code, client message and log level. Claim failures are refined below. */
const BY_JOSE_CODE: Readonly<Record<string, { code: 'TOKEN_INVALID' | 'TOKEN_EXPIRED'; message: string; level: LogLevel }>> = {
  ERR_JWT_EXPIRED: { code: 'TOKEN_EXPIRED', message: 'the token has expired: get a new token from your identity provider', level: 'debug' },
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: { code: 'TOKEN_INVALID', message: SIGNATURE_MESSAGE, level: 'warn' },
  ERR_JWKS_NO_MATCHING_KEY: { code: 'TOKEN_INVALID', message: SIGNATURE_MESSAGE, level: 'warn' },
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: { code: 'TOKEN_INVALID', message: SIGNATURE_MESSAGE, level: 'warn' },
  ERR_JOSE_ALG_NOT_ALLOWED: { code: 'TOKEN_INVALID', message: ALGORITHM_MESSAGE, level: 'warn' },
  ERR_JOSE_NOT_SUPPORTED: { code: 'TOKEN_INVALID', message: ALGORITHM_MESSAGE, level: 'warn' },
  ERR_JWS_INVALID: { code: 'TOKEN_INVALID', message: MALFORMED_MESSAGE, level: 'debug' },
  ERR_JWT_INVALID: { code: 'TOKEN_INVALID', message: MALFORMED_MESSAGE, level: 'debug' },
};

/**
 * Turns anything thrown while verifying into the one error the caller sees. Never yields INTERNAL:
 * an unexpected failure refuses the token (401) and is logged at error level.
 */
export function toRejection(err: unknown, config: Pick<IdentityConfig, 'issuer' | 'audience'>): Rejection {
  if (isVecgateError(err)) {
    // our own checks mark refusals that look like an attack rather than a stale token
    const suspicious = (err.cause as { suspicious?: unknown } | undefined)?.suspicious === true;
    return { error: err, level: suspicious || err.code === 'IDP_UNAVAILABLE' ? 'warn' : 'debug', detail: { cause: err.cause } };
  }
  if (err instanceof IdpUnreachable) {
    return {
      error: new VecgateError('IDP_UNAVAILABLE', IDP_UNAVAILABLE_MESSAGE, { cause: err }),
      level: 'warn',
      detail: { reason: err.message, error: describeCause(err.cause) },
    };
  }
  if (isJoseError(err)) {
    if (err.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return claimRejection(err, config);
    const entry = BY_JOSE_CODE[err.code];
    if (entry) {
      return {
        error: new VecgateError(entry.code, entry.message, { cause: err }),
        level: entry.level,
        detail: { joseCode: err.code, reason: err.message },
      };
    }
  }
  return {
    error: new VecgateError('TOKEN_INVALID', SIGNATURE_MESSAGE, { cause: err }),
    level: 'error',
    detail: { reason: 'unexpected failure while verifying a token', error: describeCause(err) },
  };
}

function claimRejection(err: JoseLike, config: Pick<IdentityConfig, 'issuer' | 'audience'>): Rejection {
  const claim = typeof err.claim === 'string' ? err.claim : 'unspecified';
  const reason = typeof err.reason === 'string' ? err.reason : 'unspecified';
  let message: string;
  if (claim === 'nbf' && reason === 'check_failed') {
    message = 'the token is not valid yet: retry shortly, or check the clock of the system that issued it';
  } else if (claim === 'iss') {
    message = `the token was issued by another issuer: use a token from ${config.issuer}`;
  } else if (claim === 'aud') {
    message = `the token is not meant for this gateway: request a token whose audience is one of ${config.audience.join(', ')}`;
  } else {
    message = `the token's "${forLog(claim, 32)}" claim is missing or malformed: use a token issued by your identity provider`;
  }
  return {
    error: new VecgateError('TOKEN_INVALID', message, { cause: err }),
    level: 'debug',
    detail: { joseCode: err.code, claim: forLog(claim, 32), reason: forLog(reason, 32), message: err.message },
  };
}

function isJoseError(err: unknown): err is JoseLike {
  return err instanceof errors.JOSEError;
}

function describeCause(cause: unknown): string | undefined {
  if (cause === undefined) return undefined;
  if (!(cause instanceof Error)) return forLog(cause, 200);
  const parts = [`${cause.name}: ${cause.message}`];
  // fetch() reports the network reason (ECONNREFUSED, timeout) one level down
  if (cause.cause instanceof Error) parts.push(`${cause.cause.name}: ${cause.cause.message}`);
  return forLog(parts.join(' <- '), 300);
}

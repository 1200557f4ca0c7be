import { decodeProtectedHeader } from 'jose';
import { VecgateError } from '../errors';
import { forLog } from './log-safe';

/** Larger tokens are refused before any parsing: real access tokens are a few kilobytes. */
export const MAX_TOKEN_CHARS = 16 * 1024;

/** Key ids in the wild: hex, base64 or base64url thumbprints (some with + / =), dotted names. */
export const MAX_KID_CHARS = 128;
const KID_CHARS = /^[A-Za-z0-9._:+/=-]+$/;

export const MALFORMED_MESSAGE = 'the token is not a well-formed signed JWT: send the access token your identity provider issued';
export const ALGORITHM_MESSAGE = 'the token is not signed with an accepted algorithm: use a token issued by your identity provider';
const BAD_KID = 'the token names an unacceptable key id: use a token issued by your identity provider';

export interface CheckedHeader {
  alg: string;
  kid?: string;
  /** the `typ` parameter as sent, checked only after the signature (token-use.ts) */
  typ?: unknown;
}

/**
 * Refuses a token on its shape and protected header alone, before any key is looked up or fetched:
 * size, compact form, `alg` pinned to the configured list (so `none` and HMAC confusion never reach
 * jose), and a `kid` that is short and plain.
 */
export function checkTokenHeader(token: string, allowedAlgorithms: readonly string[]): CheckedHeader {
  if (token.length > MAX_TOKEN_CHARS) {
    throw new VecgateError('TOKEN_INVALID', `the token is larger than ${MAX_TOKEN_CHARS} characters: send the access token your identity provider issued`, {
      cause: { reason: 'token too large', chars: token.length },
    });
  }
  if (token.split('.').length !== 3) {
    throw new VecgateError('TOKEN_INVALID', MALFORMED_MESSAGE, { cause: { reason: 'not a compact JWS (three dot-separated parts)' } });
  }

  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token) as Record<string, unknown>;
  } catch (err) {
    throw new VecgateError('TOKEN_INVALID', MALFORMED_MESSAGE, { cause: { reason: 'protected header is not base64url JSON', error: forLog(String(err)) } });
  }

  const { alg, kid, typ } = header;
  if (typeof alg !== 'string' || alg === '') {
    throw new VecgateError('TOKEN_INVALID', MALFORMED_MESSAGE, { cause: { reason: 'alg missing or not a string', alg: forLog(alg) } });
  }
  if (alg.toLowerCase() === 'none') {
    throw new VecgateError('TOKEN_INVALID', ALGORITHM_MESSAGE, { cause: { reason: 'unsigned token (alg none)', alg: forLog(alg), suspicious: true } });
  }
  if (!allowedAlgorithms.includes(alg)) {
    throw new VecgateError('TOKEN_INVALID', ALGORITHM_MESSAGE, { cause: { reason: 'alg not in the configured list', alg: forLog(alg), suspicious: true } });
  }

  if (kid === undefined) return { alg, typ };
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_CHARS || !KID_CHARS.test(kid) || kid.includes('..')) {
    throw new VecgateError('TOKEN_INVALID', BAD_KID, {
      cause: { reason: 'kid is not a short plain string', kid: forLog(kid), kidChars: typeof kid === 'string' ? kid.length : undefined, suspicious: true },
    });
  }
  return { alg, kid, typ };
}

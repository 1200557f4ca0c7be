import type { JWTPayload } from 'jose';
import { VecgateError } from '../errors';
import { forLog } from './log-safe';
import type { IdentityConfig } from './types';

/**
 * RFC 9068 media types compare case-insensitively and may carry the "application/" prefix
 * (RFC 7515 4.1.9), so `AT+JWT` and `application/at+jwt` name the same type.
 */
export function normalTokenType(typ: string): string {
  const lower = typ.trim().toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

/**
 * Refuses a verified token that was not issued as an access token for an allowed client: an ID
 * token (typ JWT) that happens to carry the gateway's audience, or a token obtained by a client
 * the organisation did not allow (azp). Runs after the signature check, so what it reads is vouched for.
 */
export function checkTokenUse(
  typ: unknown,
  claims: JWTPayload,
  config: Pick<IdentityConfig, 'requireTokenType' | 'allowedAzp'>,
): void {
  if (config.requireTokenType !== undefined) {
    const wanted = normalTokenType(config.requireTokenType);
    if (typeof typ !== 'string' || normalTokenType(typ) !== wanted) {
      throw new VecgateError(
        'TOKEN_WRONG_TYPE',
        `the token is not an access token of type ${wanted} (an ID token, perhaps): send the access token your identity provider issued for this gateway`,
        { cause: { reason: 'typ header does not match identity.requireTokenType', typ: forLog(typ), wanted, suspicious: true } },
      );
    }
  }
  if (config.allowedAzp !== undefined) {
    const azp = Object.hasOwn(claims, 'azp') ? claims.azp : undefined;
    if (typeof azp !== 'string' || !config.allowedAzp.includes(azp)) {
      throw new VecgateError(
        'TOKEN_CLIENT_NOT_ALLOWED',
        'the token was issued to a client application this gateway does not accept (its "azp" claim is missing or not allowed): get a token through an approved client',
        { cause: { reason: 'azp missing or not in identity.allowedAzp', azp: forLog(azp), suspicious: true } },
      );
    }
  }
}

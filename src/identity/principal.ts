import type { JWTPayload } from 'jose';
import { VecgateError } from '../errors';
import { forLog } from './log-safe';
import type { IdentityConfig, Principal } from './types';

export interface PrincipalReading {
  principal: Principal;
  /** claims that were present but unusable; the caller logs them */
  warnings: string[];
}

/**
 * The principal a verified claims set describes. `sub` must be a non-empty string; the email claim
 * is used when it is a string; the groups claim may be an array of strings or one string (taken as
 * one group, never split), anything else counts as no groups.
 */
export function readPrincipal(
  claims: JWTPayload,
  config: Pick<IdentityConfig, 'issuer' | 'emailClaim' | 'groupsClaim'>,
): PrincipalReading {
  const { sub } = claims;
  if (typeof sub !== 'string' || sub === '') {
    throw new VecgateError('TOKEN_INVALID', 'the token has no usable "sub" claim: use a token that names its subject', {
      cause: { reason: 'sub missing, empty or not a string', sub: forLog(sub) },
    });
  }

  const warnings: string[] = [];
  const email = ownClaim(claims, config.emailClaim);
  if (email !== undefined && typeof email !== 'string') {
    warnings.push(`email claim "${config.emailClaim}" is not a string; ignored`);
  }

  const rawGroups = ownClaim(claims, config.groupsClaim);
  let groups: string[] = [];
  if (typeof rawGroups === 'string') {
    groups = rawGroups === '' ? [] : [rawGroups];
  } else if (Array.isArray(rawGroups) && rawGroups.every((g): g is string => typeof g === 'string')) {
    groups = [...rawGroups];
  } else if (rawGroups !== undefined) {
    warnings.push(`groups claim "${config.groupsClaim}" is neither a string nor an array of strings (${forLog(rawGroups)}); the caller gets no groups`);
  }

  const principal: Principal = { subject: sub, groups, issuer: config.issuer };
  if (typeof email === 'string') principal.email = email;
  return { principal, warnings };
}

/** Own properties only: a claim named "__proto__" or "constructor" must not reach the prototype. */
function ownClaim(claims: JWTPayload, name: string): unknown {
  return Object.hasOwn(claims, name) ? claims[name] : undefined;
}

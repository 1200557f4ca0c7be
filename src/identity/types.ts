/** Who is calling, as the organisation's OpenID provider vouches for it. */
export interface Principal {
  subject: string;
  email?: string;
  groups: string[];
  issuer: string;
}

/** Validated once, by the configuration schema (config/schema.ts); the verifier trusts it. */
export interface IdentityConfig {
  /** the provider's issuer URL; discovery is read from {issuer}/.well-known/openid-configuration */
  issuer: string;
  /** accepted audience values; a token must name one of them */
  audience: string[];
  /** claim holding the caller's groups (array of strings or one string) */
  groupsClaim: string;
  emailClaim: string;
  /** the only signature algorithms accepted */
  algorithms: string[];
  /** allowed clock skew for exp/nbf/iat */
  clockSkewSeconds: number;
  /** an unknown kid refetches the JWKS at most once per cooldown */
  jwksCooldownSeconds: number;
  /** keys are refreshed after this age even when no unknown kid shows up */
  jwksCacheMaxAgeSeconds: number;
  /** timeout of discovery and JWKS requests */
  httpTimeoutMs: number;
  /** the `typ` header a token must carry (RFC 9068: at+jwt), so ID tokens are refused; unset: any */
  requireTokenType?: string;
  /** clients (`azp`) whose tokens are accepted; unset: any, set: a token without azp is refused */
  allowedAzp?: string[];
}

export interface TokenVerifier {
  /** resolves the principal, or throws VecgateError TOKEN_INVALID / TOKEN_EXPIRED / IDP_UNAVAILABLE */
  verify(token: string): Promise<Principal>;
}

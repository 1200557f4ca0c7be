import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../../src/clock';
import { SlackAppError } from '../errors';

export interface OidcClientConfig {
  /** the organisation's OpenID provider, exactly as its tokens name it in `iss` */
  issuer: string;
  clientId: string;
  /** for a confidential client (client_secret_post); a public client relies on PKCE alone */
  clientSecret?: string;
  /** where the provider sends the browser back: the link callback's public URL */
  redirectUri: string;
  /** default openid, email, groups */
  scopes?: string[];
  /** per request to the provider; default 10 s */
  httpTimeoutMs?: number;
}

interface ProviderMetadata {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwks: ReturnType<typeof createRemoteJWKSet>;
}

/** Algorithms an ID token may be signed with: asymmetric only, never `none` or a shared secret. */
const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * The relying-party half of the authorization code flow with PKCE: the sign-in URL, then the
 * code exchanged for an ID token verified against the provider's JWKS (from discovery).
 */
export interface OidcRelyingParty {
  /** maxAge: step-up, the provider must ask for a sign-in unless the last one is this recent (seconds) */
  authorizationUrl(input: { state: string; nonce: string; codeChallenge: string; maxAge?: number }): Promise<string>;
  /** exchanges the code and returns the verified ID token's claims */
  redeem(input: { code: string; codeVerifier: string; nonce: string }): Promise<JWTPayload>;
}

export function createOidcRelyingParty(config: OidcClientConfig, deps: { clock: Clock; fetch?: typeof fetch }): OidcRelyingParty {
  const fetchImpl = deps.fetch ?? fetch;
  const timeoutMs = config.httpTimeoutMs ?? 10_000;
  const issuer = config.issuer.replace(/\/$/, '');
  let metadata: Promise<ProviderMetadata> | undefined;

  const discover = (): Promise<ProviderMetadata> => {
    metadata ??= readMetadata().catch((err: unknown) => {
      metadata = undefined; // a failure is not kept: the next link asks again
      throw err;
    });
    return metadata;
  };

  async function readMetadata(): Promise<ProviderMetadata> {
    const url = `${issuer}/.well-known/openid-configuration`;
    const doc = await getJson(url);
    // OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer we asked
    if (typeof doc.issuer !== 'string' || doc.issuer.replace(/\/$/, '') !== issuer) {
      throw new SlackAppError('LINK_IDP_UNAVAILABLE', `OpenID discovery at ${url} names issuer ${String(doc.issuer)}, expected ${issuer}`);
    }
    const endpoint = (key: string): string => {
      const value = doc[key];
      if (typeof value !== 'string' || !URL.canParse(value)) throw new SlackAppError('LINK_IDP_UNAVAILABLE', `OpenID discovery at ${url} has no usable ${key}`);
      return value;
    };
    return {
      authorizationEndpoint: endpoint('authorization_endpoint'),
      tokenEndpoint: endpoint('token_endpoint'),
      jwks: createRemoteJWKSet(new URL(endpoint('jwks_uri')), { timeoutDuration: timeoutMs }),
    };
  }

  async function getJson(url: string, init?: RequestInit): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      // a redirect is refused rather than followed: answers must come from the provider itself
      res = await fetchImpl(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json', ...init?.headers } });
    } catch (cause) {
      throw new SlackAppError('LINK_IDP_UNAVAILABLE', `the OpenID provider did not answer at ${url}`, { cause });
    }
    const body = (await res.json().catch(() => undefined)) as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new SlackAppError('LINK_IDP_UNAVAILABLE', `the OpenID provider answered HTTP ${res.status} without a JSON object at ${url}`);
    }
    const doc = body as Record<string, unknown>;
    if (res.status !== 200) {
      // an OAuth error answer to the code exchange (invalid_grant: the code is used or expired)
      // is this sign-in failing; anything else is the provider being unusable
      if (init?.method === 'POST' && res.status >= 400 && res.status < 500 && typeof doc.error === 'string') {
        throw new SlackAppError('LINK_SIGN_IN_FAILED', `the OpenID provider refused the sign-in (${doc.error})`);
      }
      throw new SlackAppError('LINK_IDP_UNAVAILABLE', `the OpenID provider answered HTTP ${res.status} at ${url}`);
    }
    return doc;
  }

  return {
    async authorizationUrl({ state, nonce, codeChallenge, maxAge }) {
      const { authorizationEndpoint } = await discover();
      const url = new URL(authorizationEndpoint);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('client_id', config.clientId);
      url.searchParams.set('redirect_uri', config.redirectUri);
      url.searchParams.set('scope', (config.scopes ?? ['openid', 'email', 'groups']).join(' '));
      url.searchParams.set('state', state);
      url.searchParams.set('nonce', nonce);
      url.searchParams.set('code_challenge', codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');
      if (maxAge !== undefined) url.searchParams.set('max_age', String(maxAge));
      return url.href;
    },

    async redeem({ code, codeVerifier, nonce }) {
      const { tokenEndpoint, jwks } = await discover();
      const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: config.redirectUri, code_verifier: codeVerifier, client_id: config.clientId });
      if (config.clientSecret) form.set('client_secret', config.clientSecret);
      const answer = await getJson(tokenEndpoint, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      if (typeof answer.id_token !== 'string') {
        throw new SlackAppError('LINK_IDP_UNAVAILABLE', 'the OpenID provider answered the code exchange without an id_token; is the openid scope allowed for this client?');
      }
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(answer.id_token, jwks, {
          issuer: [issuer, `${issuer}/`],
          audience: config.clientId,
          algorithms: ID_TOKEN_ALGORITHMS,
          currentDate: new Date(deps.clock.now()),
          requiredClaims: ['sub', 'exp', 'iat'],
        }));
      } catch (cause) {
        const code = (cause as { code?: unknown }).code;
        throw new SlackAppError('LINK_TOKEN_INVALID', `the ID token failed verification (${typeof code === 'string' ? code : 'unknown'})`, { cause });
      }
      if (payload.nonce !== nonce) throw new SlackAppError('LINK_TOKEN_INVALID', 'the ID token was issued for another sign-in (nonce mismatch)');
      const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (audiences.length > 1 && payload.azp !== config.clientId) {
        throw new SlackAppError('LINK_TOKEN_INVALID', 'the ID token was issued to another client (azp)');
      }
      return payload;
    },
  };
}

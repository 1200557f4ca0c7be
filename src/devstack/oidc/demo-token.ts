import { DevStackError } from '../errors';
import { discoveryUrl } from '../probes';
import { DEFAULT_AUDIENCE, DEMO_CLIENT, type DemoClient } from './directory';

export interface DemoTokenRequest {
  username: string;
  password: string;
  /** default 'vecgate' */
  audience?: string;
  /** default DEMO_CLIENT */
  client?: DemoClient;
}

export interface ServiceTokenRequest {
  clientId: string;
  clientSecret: string;
  /** RFC 8707 resource indicator; the provider's default audience when absent */
  resource?: string;
}

/** A user's JWT access token from the demo provider, by the password grant: one POST. */
export async function fetchDemoToken(issuer: string, request: DemoTokenRequest): Promise<string> {
  const client = request.client ?? DEMO_CLIENT;
  return requestToken(issuer, `user ${request.username}`, {
    grant_type: 'password',
    client_id: client.clientId,
    client_secret: client.clientSecret,
    username: request.username,
    password: request.password,
    audience: request.audience ?? DEFAULT_AUDIENCE,
  });
}

/** A service account's JWT access token, by client_credentials. */
export async function fetchServiceToken(issuer: string, request: ServiceTokenRequest): Promise<string> {
  return requestToken(issuer, `service account ${request.clientId}`, {
    grant_type: 'client_credentials',
    client_id: request.clientId,
    client_secret: request.clientSecret,
    ...(request.resource ? { resource: request.resource } : {}),
  });
}

async function requestToken(issuer: string, who: string, form: Record<string, string>): Promise<string> {
  const fail = (reason: string, cause?: unknown) =>
    new DevStackError('TOKEN_REQUEST_FAILED', `token request for ${who} at ${issuer} failed: ${reason}`, { cause });
  let endpoint: string;
  let body: { access_token?: unknown; error?: unknown; error_description?: unknown };
  let status: number;
  try {
    endpoint = await tokenEndpoint(issuer);
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form),
      signal: AbortSignal.timeout(10_000),
    });
    status = res.status;
    body = (await res.json()) as typeof body;
  } catch (err) {
    throw fail(err instanceof Error ? err.message : String(err), err);
  }
  if (status !== 200 || typeof body.access_token !== 'string') {
    const error = typeof body.error === 'string' ? body.error : `HTTP ${status}`;
    const description = typeof body.error_description === 'string' ? `: ${body.error_description}` : '';
    throw fail(`${error}${description}`);
  }
  return body.access_token;
}

async function tokenEndpoint(issuer: string): Promise<string> {
  const res = await fetch(discoveryUrl(issuer), { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`discovery answered ${res.status}`);
  const doc = (await res.json()) as { token_endpoint?: unknown };
  if (typeof doc.token_endpoint !== 'string') throw new Error('discovery has no token_endpoint');
  return doc.token_endpoint;
}

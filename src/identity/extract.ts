import type { IncomingHttpHeaders } from 'node:http';
import { VecgateError } from '../errors';

/**
 * Request headers as Node hands them over. Prefer `req.headersDistinct`: plain `req.headers` keeps
 * only the first of repeated `Authorization` headers and joins other repeats with ", ", so a
 * repeated header can only be seen as such in the distinct form.
 */
export type RequestHeaders = IncomingHttpHeaders | Readonly<Record<string, string | readonly string[] | undefined>>;

/** Every header a caller could put a credential in; the gateway removes them all before forwarding. */
const ALWAYS_CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'] as const;

// RFC 7235 token68: what a bearer token may look like. A JWT always matches; a comma or space
// inside means two values were joined, or something that is not a token.
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const BEARER = /^bearer(?:[ \t]+(.*))?$/is;

interface FoundToken {
  header: string;
  token: string;
}

/**
 * The bearer token of a request, from `Authorization: Bearer <t>` or one of the dialect's API-key
 * headers (whose value may be a bare token or `Bearer <t>`). Undefined when none is sent.
 * Throws TOKEN_INVALID when a header is repeated, malformed, or two headers carry different tokens.
 */
export function extractToken(headers: RequestHeaders, dialectTokenHeaders: readonly string[]): string | undefined {
  const found: FoundToken[] = [];

  const authorization = singleValue(headers, 'authorization');
  if (authorization !== undefined) {
    found.push({ header: 'authorization', token: bearerToken(authorization, 'authorization', true) });
  }
  for (const name of unique(dialectTokenHeaders.map((h) => h.toLowerCase()))) {
    if (name === 'authorization') continue;
    const value = singleValue(headers, name);
    if (value !== undefined) found.push({ header: name, token: bearerToken(value, name, false) });
  }

  const [first, ...rest] = found;
  if (first === undefined) return undefined;
  const other = rest.find((f) => f.token !== first.token);
  if (other !== undefined) {
    throw new VecgateError(
      'TOKEN_INVALID',
      `the ${first.header} and ${other.header} headers carry different tokens: send one token only`,
    );
  }
  return first.token;
}

/** Lower-case names of every header that can carry a caller credential, to strip before forwarding. */
export function credentialHeaderNames(dialectTokenHeaders: readonly string[]): string[] {
  return unique([...ALWAYS_CREDENTIAL_HEADERS, ...dialectTokenHeaders.map((h) => h.toLowerCase())]);
}

/** The one value of a header, matched case-insensitively; undefined when absent or blank. */
function singleValue(headers: RequestHeaders, name: string): string | undefined {
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    if (typeof value === 'string') values.push(value);
    else values.push(...value);
  }
  if (values.length > 1) {
    throw new VecgateError('TOKEN_INVALID', `the ${name} header is repeated: send it once`);
  }
  const value = values[0]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function bearerToken(value: string, header: string, bearerRequired: boolean): string {
  const bearer = BEARER.exec(value);
  let token: string;
  if (bearer) {
    token = (bearer[1] ?? '').trim();
  } else if (bearerRequired) {
    throw new VecgateError('TOKEN_INVALID', `the ${header} header must use the Bearer scheme: send "Bearer <token>"`);
  } else {
    token = value;
  }
  if (!TOKEN68.test(token)) {
    throw new VecgateError('TOKEN_INVALID', `the ${header} header does not hold a well-formed bearer token`);
  }
  return token;
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}

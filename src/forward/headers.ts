import type { IncomingHttpHeaders } from 'node:http';

/** Headers that describe one hop, never the request itself (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length', 'expect']);

/** Caller-supplied claims about identity, approval or origin: only the gateway may assert these. */
const SPOOFABLE = new Set(['forwarded', 'x-real-ip', 'x-client-ip', 'x-remote-user', 'remote-user', 'x-user', 'x-email']);
const SPOOFABLE_PREFIXES = ['x-vecgate-', 'x-forwarded-', 'x-auth-request-', 'x-original-'];

export interface UpstreamCredential {
  header: string;
  value: string;
}

/**
 * The headers the upstream receives: the caller's own, minus every credential and every header the
 * caller could use to claim an identity or approval, plus the gateway's own credential.
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  opts: { credentialHeaders: readonly string[]; credential?: UpstreamCredential; host: string; bodyLength: number },
): Record<string, string | string[]> {
  // the sets are looked up, not merged: nothing is built per request but the caller's Connection
  // tokens, and only when they name more than the usual keep-alive or close
  const named = connectionTokens(incoming.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || HOP_BY_HOP.has(name) || SPOOFABLE.has(name) || opts.credentialHeaders.includes(name) || named?.has(name) || hasSpoofablePrefix(name)) continue;
    out[name] = value;
  }
  out.host = opts.host;
  if (opts.bodyLength > 0) out['content-length'] = String(opts.bodyLength);
  if (opts.credential) out[opts.credential.header] = credentialValue(opts.credential);
  return out;
}

function connectionTokens(connection: string | string[] | undefined): Set<string> | undefined {
  if (connection === undefined) return undefined;
  const lower = String(connection).toLowerCase();
  // keep-alive and close are hop-by-hop already
  if (lower === 'keep-alive' || lower === 'close') return undefined;
  return new Set(lower.split(',').map((t) => t.trim()));
}

function hasSpoofablePrefix(name: string): boolean {
  for (const prefix of SPOOFABLE_PREFIXES) if (name.startsWith(prefix)) return true;
  return false;
}

function credentialValue(credential: UpstreamCredential): string {
  return credential.header === 'authorization' ? `Bearer ${credential.value}` : credential.value;
}

/** The gateway's own credential as the upstream expects it (Bearer in Authorization). */
export function credentialHeaders(credential: UpstreamCredential | undefined): Record<string, string> {
  if (!credential) return {};
  return { [credential.header]: credentialValue(credential) };
}

const RESPONSE_HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'transfer-encoding', 'trailer', 'upgrade', 'proxy-connection']);

/** Response headers passed to the caller: everything but hop-by-hop framing, which Node redoes. */
export function downstreamResponseHeaders(upstream: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value !== undefined && !RESPONSE_HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

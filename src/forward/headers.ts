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
  // the sets are looked up, not merged: nothing is built per request but the caller's Connection tokens
  const named = incoming.connection === undefined ? undefined : new Set(String(incoming.connection).split(',').map((t) => t.trim().toLowerCase()));
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || opts.credentialHeaders.includes(name) || named?.has(name) || SPOOFABLE.has(name) || SPOOFABLE_PREFIXES.some((p) => name.startsWith(p))) continue;
    out[name] = value;
  }
  out.host = opts.host;
  if (opts.bodyLength > 0) out['content-length'] = String(opts.bodyLength);
  return { ...out, ...credentialHeaders(opts.credential) };
}

/** The gateway's own credential as the upstream expects it (Bearer in Authorization). */
export function credentialHeaders(credential: UpstreamCredential | undefined): Record<string, string> {
  if (!credential) return {};
  return { [credential.header]: credential.header === 'authorization' ? `Bearer ${credential.value}` : credential.value };
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

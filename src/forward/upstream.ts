import { Pool, errors as undiciErrors } from 'undici';
import type { Readable } from 'node:stream';
import { VecgateError } from '../errors';

export interface UpstreamLimits {
  connections: number;
  connectTimeoutMs: number;
  timeoutMs: number;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

export interface Upstream {
  readonly origin: string;
  /** host header value for the upstream */
  readonly host: string;
  request(req: { method: string; target: string; headers: Record<string, string | string[]>; body: Buffer }): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

/**
 * Pooled keep-alive connections to one database. Requests are sent once: nothing is retried, so a
 * write can never run twice because of the gateway.
 */
export function createUpstream(baseUrl: string, limits: UpstreamLimits): Upstream {
  const url = new URL(baseUrl);
  const pool = new Pool(url.origin, {
    connections: limits.connections,
    connectTimeout: limits.connectTimeoutMs,
    headersTimeout: limits.timeoutMs,
    bodyTimeout: limits.timeoutMs,
    keepAliveTimeout: 30_000,
  });
  const prefix = url.pathname.replace(/\/+$/, '');
  return {
    origin: url.origin,
    host: url.host,
    async request(req) {
      try {
        const res = await pool.request({
          method: req.method as 'GET',
          path: prefix + req.target,
          headers: req.headers,
          body: req.body.length > 0 ? req.body : null,
        });
        return { status: res.statusCode, headers: res.headers, body: res.body };
      } catch (err) {
        throw upstreamError(err);
      }
    },
    close: () => pool.close(),
  };
}

/** refused -> 502, reset -> 502, slow -> 504, each with a message the client library shows. */
export function upstreamError(err: unknown): VecgateError {
  if (err instanceof VecgateError) return err;
  const code = (err as { code?: string }).code;
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || err instanceof undiciErrors.ConnectTimeoutError || code === 'ETIMEDOUT') {
    return new VecgateError('UPSTREAM_TIMEOUT', 'The vector database did not answer in time; the request may or may not have run there. Retry reads; check writes before retrying.', { cause: err });
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EAI_AGAIN') {
    return new VecgateError('UPSTREAM_UNREACHABLE', 'The vector database refused the connection or cannot be reached; nothing was executed. Try again later.', { cause: err });
  }
  return new VecgateError('UPSTREAM_RESET', 'The connection to the vector database broke before it answered; the request may or may not have run there.', { cause: err });
}

import type { Dialect } from '../dialect/types';
import type { VecgateError } from '../errors';

/** An error as the caller's client library expects it: the dialect's shape when the connection is known. */
export function errorResponse(err: VecgateError, dialect: Dialect | undefined): { status: number; headers: Record<string, string>; body: Buffer } {
  const status = err.status;
  const shaped = dialect
    ? dialect.errorBody({ status, code: err.code, message: err.message })
    : { contentType: 'application/json', body: JSON.stringify({ error: err.code, message: err.message }) };
  const body = Buffer.from(shaped.body, 'utf8');
  const headers: Record<string, string> = {
    'content-type': shaped.contentType,
    'content-length': String(body.length),
    'x-vecgate-error': err.code,
    'cache-control': 'no-store',
  };
  if (status === 401) headers['www-authenticate'] = 'Bearer realm="vecgate"';
  return { status, headers, body };
}

import { VecgateError } from '../errors';

/**
 * Which connection a request is for, and the canonical path the gateway classifies and forwards.
 * The upstream always receives the path rebuilt from the segments that were classified, so what
 * policy judged is exactly what the database sees.
 *
 * Routing: a connection with a listener of its own gets every request on that port unchanged;
 * on the shared listener the path starts with /c/{connection}/, e.g. http://gw:8080/c/demo.
 */
export const SHARED_PREFIX = 'c';

export interface RoutedRequest {
  connection: string;
  /** canonical, percent-encoded path without the routing prefix, e.g. /api/v2/heartbeat */
  path: string;
  /** decoded segments of `path` */
  segments: string[];
  query: URLSearchParams;
  /** path and query as the upstream receives them */
  upstreamTarget: string;
}

/** `dedicated` is the connection of a per-connection listener; undefined on the shared listener. */
export function routeRequest(rawUrl: string, dedicated: string | undefined): RoutedRequest {
  if (!rawUrl.startsWith('/')) {
    throw new VecgateError('BAD_PATH', 'The request target must be a path such as /api/v2/heartbeat; absolute URLs and other forms are refused.');
  }
  const q = rawUrl.indexOf('?');
  const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const rawQuery = q === -1 ? '' : rawUrl.slice(q + 1);
  if (/[\\#\s]/.test(rawPath)) throw new VecgateError('BAD_PATH', 'The path contains a backslash, "#" or white space; send a plain path.');

  let segments = rawPath.split('/').filter((s) => s !== '').map(decodeSegment);
  let connection = dedicated;
  if (connection === undefined) {
    if (segments[0] !== SHARED_PREFIX || segments.length < 2) {
      throw new VecgateError('UNKNOWN_CONNECTION', `On this port the path must start with /${SHARED_PREFIX}/{connection}/; point your client at http://<gateway>/${SHARED_PREFIX}/<connection> or at the connection's own port.`);
    }
    connection = segments[1] as string;
    segments = segments.slice(2);
  }
  const query = new URLSearchParams(rawQuery);
  const path = '/' + segments.map(encodeSegment).join('/');
  const search = query.toString();
  return { connection, path, segments, query, upstreamTarget: search ? `${path}?${search}` : path };
}

function decodeSegment(raw: string): string {
  let s: string;
  try {
    s = decodeURIComponent(raw);
  } catch {
    throw new VecgateError('BAD_PATH', 'The path has a malformed percent-encoding.');
  }
  if (s === '.' || s === '..') throw new VecgateError('BAD_PATH', 'The path contains "." or ".." segments (possibly percent-encoded); send a normalised path.');
  // eslint-disable-next-line no-control-regex
  if (/[/\\\u0000-\u001f\u007f]/.test(s)) throw new VecgateError('BAD_PATH', 'A path segment contains an encoded slash, backslash or control character.');
  return s;
}

/** RFC 3986 pchar: keep sub-delims, ":" and "@" readable, encode everything else. */
function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(/%(21|24|26|27|28|29|2A|2B|2C|3B|3D|3A|40)/g, (m) => decodeURIComponent(m));
}

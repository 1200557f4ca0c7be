import { routeRequest } from '../../src/gateway/routing';
import { checkFraming } from '../../src/gateway/framing';
import { VecgateError } from '../../src/errors';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as VecgateError).code;
  }
};

describe('routing and path normalisation (THREATS 11)', () => {
  test.each<[string, string | undefined, string, string]>([
    ['a dedicated listener passes the path through', 'demo', '/api/v2/heartbeat', '/api/v2/heartbeat'],
    ['the shared listener takes the connection from /c/{name}', undefined, '/c/demo/api/v2/heartbeat', '/api/v2/heartbeat'],
    ['double slashes collapse', 'demo', '//api//v2///heartbeat', '/api/v2/heartbeat'],
    ['a trailing slash is dropped', 'demo', '/api/v2/heartbeat/', '/api/v2/heartbeat'],
    ['percent-encoded letters are normalised', 'demo', '/api/v2/%68eartbeat', '/api/v2/heartbeat'],
    ['the query is re-serialised from what was parsed', 'demo', '/api/v2/x?limit=10&offset=0', '/api/v2/x?limit=10&offset=0'],
    ['characters that need encoding are encoded once', 'demo', '/a/b%20c', '/a/b%20c'],
    ['colons and at-signs stay readable', 'demo', '/a/x:y@z', '/a/x:y@z'],
  ])('%s', (_n, dedicated, raw, target) => {
    const r = routeRequest(raw, dedicated);
    expect(r.upstreamTarget).toBe(target);
    expect(r.connection).toBe('demo');
  });

  test.each<[string, string | undefined, string, string]>([
    ['dot-dot segment', 'demo', '/api/../admin', 'BAD_PATH'],
    ['encoded dot-dot', 'demo', '/api/%2e%2e/admin', 'BAD_PATH'],
    ['mixed-case encoded dot-dot', 'demo', '/api/%2E%2e/admin', 'BAD_PATH'],
    ['single dot', 'demo', '/api/./v2', 'BAD_PATH'],
    ['encoded slash inside a segment', 'demo', '/api/v2%2Fheartbeat', 'BAD_PATH'],
    ['encoded backslash', 'demo', '/api/%5c..%5cadmin', 'BAD_PATH'],
    ['raw backslash', 'demo', '/api\\v2', 'BAD_PATH'],
    ['NUL byte', 'demo', '/api/%00/v2', 'BAD_PATH'],
    ['malformed percent-encoding', 'demo', '/api/%zz', 'BAD_PATH'],
    ['absolute-form URI', 'demo', 'http://evil.example/api/v2/heartbeat', 'BAD_PATH'],
    ['asterisk-form', 'demo', '*', 'BAD_PATH'],
    ['shared listener without /c/', undefined, '/api/v2/heartbeat', 'UNKNOWN_CONNECTION'],
    ['shared listener with /c but no name', undefined, '/c', 'UNKNOWN_CONNECTION'],
  ])('%s is refused with %s', (_n, dedicated, raw, code) => {
    expect(codeOf(() => routeRequest(raw, dedicated))).toBe(code);
  });

  test('a connection name smuggled through encoding still names one connection', () => {
    const r = routeRequest('/c/%64emo/api/v2/heartbeat', undefined);
    expect(r.connection).toBe('demo');
    expect(r.path).toBe('/api/v2/heartbeat');
  });
});

describe('framing (THREATS 12)', () => {
  test.each<[string, string[], string | undefined]>([
    ['one content-length', ['Content-Length', '5', 'Host', 'x'], undefined],
    ['chunked alone', ['Transfer-Encoding', 'chunked'], undefined],
    ['duplicate content-length, same value', ['Content-Length', '5', 'content-length', '5'], 'BAD_FRAMING'],
    ['duplicate content-length, other value', ['Content-Length', '5', 'Content-Length', '6'], 'BAD_FRAMING'],
    ['content-length and transfer-encoding', ['Content-Length', '5', 'Transfer-Encoding', 'chunked'], 'BAD_FRAMING'],
  ])('%s', (_n, raw, code) => {
    expect(codeOf(() => checkFraming(raw))).toBe(code);
  });
});

import { downstreamResponseHeaders, upstreamRequestHeaders } from '../../src/forward/headers';
import { parseJsonBody } from '../../src/gateway/body';
import { VecgateError } from '../../src/errors';

describe('upstream headers (THREATS 13)', () => {
  const incoming = {
    host: 'gateway.example',
    authorization: 'Bearer caller-token',
    'x-chroma-token': 'caller-token',
    cookie: 'session=1',
    'proxy-authorization': 'Basic abc',
    'x-vecgate-approval': 'approved',
    'x-vecgate-user': 'admin',
    'x-forwarded-user': 'admin',
    'x-forwarded-host': 'evil.example',
    'x-forwarded-for': '1.2.3.4',
    forwarded: 'for=1.2.3.4',
    'x-real-ip': '1.2.3.4',
    'x-auth-request-email': 'admin@example.com',
    connection: 'keep-alive, x-custom-hop',
    'x-custom-hop': 'hop',
    'transfer-encoding': 'chunked',
    'content-length': '999',
    'content-type': 'application/json',
    'user-agent': 'chromadb-js',
  };

  test('caller credentials and spoofable headers are removed, the gateway credential added', () => {
    const out = upstreamRequestHeaders(incoming, {
      credentialHeaders: ['authorization', 'proxy-authorization', 'cookie', 'x-chroma-token'],
      credential: { header: 'x-chroma-token', value: 'gateway-secret' },
      host: '127.0.0.1:8000',
      bodyLength: 12,
    });
    expect(out).toEqual({
      host: '127.0.0.1:8000',
      'content-type': 'application/json',
      'user-agent': 'chromadb-js',
      'content-length': '12',
      'x-chroma-token': 'gateway-secret',
    });
  });

  test('an authorization credential is sent as Bearer', () => {
    const out = upstreamRequestHeaders({ authorization: 'Bearer caller' }, { credentialHeaders: ['authorization'], credential: { header: 'authorization', value: 's3cret' }, host: 'h', bodyLength: 0 });
    expect(out.authorization).toBe('Bearer s3cret');
    expect(out['content-length']).toBeUndefined();
  });

  test('no credential configured: nothing of the caller is passed instead', () => {
    const out = upstreamRequestHeaders({ authorization: 'Bearer caller' }, { credentialHeaders: ['authorization'], host: 'h', bodyLength: 0 });
    expect(out.authorization).toBeUndefined();
  });

  test('hop-by-hop response headers are dropped', () => {
    expect(downstreamResponseHeaders({ 'content-type': 'application/json', connection: 'close', 'transfer-encoding': 'chunked', 'content-length': '2' })).toEqual({ 'content-type': 'application/json', 'content-length': '2' });
  });
});

describe('JSON bodies for classification (THREATS 14)', () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as VecgateError).code;
    }
    return undefined;
  };

  test.each<[string, string, string | undefined, unknown]>([
    ['empty body', '', 'application/json', undefined],
    ['an object', '{"ids":["a"]}', 'application/json', { ids: ['a'] }],
    ['JSON labelled as text is still inspected', '{"ids":[]}', 'text/plain', { ids: [] }],
    ['JSON without a content type is inspected', '  [1,2]', undefined, [1, 2]],
    ['a non-JSON body of another type is not parsed', 'hello', 'text/plain', undefined],
    ['brackets inside strings do not count as depth', JSON.stringify({ s: '[[[[[[[[[[[[' }), 'application/json', { s: '[[[[[[[[[[[[' }],
    ['escaped quotes inside strings', JSON.stringify({ s: 'a\\"[[[[[[' }), 'application/json', { s: 'a\\"[[[[[[' }],
  ])('%s', (_n, text, ct, expected) => {
    expect(parseJsonBody(Buffer.from(text), ct, 8)).toEqual(expected);
  });

  test.each<[string, string, string | undefined, string]>([
    ['malformed JSON with a JSON type', '{"ids":', 'application/json', 'BAD_REQUEST'],
    ['malformed JSON that looks like JSON', '{nope', 'text/plain', 'BAD_REQUEST'],
    ['nesting beyond the limit', '['.repeat(9) + ']'.repeat(9), 'application/json', 'BODY_TOO_DEEP'],
    ['very deep nesting is refused before parsing', '['.repeat(100000), 'application/json', 'BODY_TOO_DEEP'],
  ])('%s is refused with %s', (_n, text, ct, expected) => {
    expect(code(() => parseJsonBody(Buffer.from(text), ct, 8))).toBe(expected);
  });
});

import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { VecgateError } from '../../src/errors';
import { credentialHeaderNames, extractToken, type RequestHeaders } from '../../src/identity/extract';

const CHROMA = ['x-chroma-token'];
const QDRANT = ['api-key'];
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const OTHER = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJl';

describe('extractToken finds the bearer token', () => {
  it.each<[string, RequestHeaders, readonly string[], string | undefined]>([
    ['Authorization: Bearer', { authorization: `Bearer ${JWT}` }, CHROMA, JWT],
    ['a lower-case scheme', { authorization: `bearer ${JWT}` }, CHROMA, JWT],
    ['an upper-case scheme and extra spaces', { authorization: `BEARER   ${JWT}  ` }, CHROMA, JWT],
    ['a bare x-chroma-token', { 'x-chroma-token': JWT }, CHROMA, JWT],
    ['x-chroma-token holding "Bearer <t>"', { 'x-chroma-token': `Bearer ${JWT}` }, CHROMA, JWT],
    ['Qdrant api-key', { 'api-key': JWT }, QDRANT, JWT],
    ['dialect header names given in mixed case', { 'x-chroma-token': JWT }, ['X-Chroma-Token'], JWT],
    ['a plain object with a capitalised header name', { Authorization: `Bearer ${JWT}` }, CHROMA, JWT],
    ['the same token in both places', { authorization: `Bearer ${JWT}`, 'x-chroma-token': JWT }, CHROMA, JWT],
    ['a one-element array (headersDistinct)', { authorization: [`Bearer ${JWT}`] }, CHROMA, JWT],
    ['no credential at all', { host: 'example' }, CHROMA, undefined],
    ['blank headers, treated as absent', { authorization: '  ', 'x-chroma-token': '' }, CHROMA, undefined],
    ['a header of another dialect, ignored', { 'api-key': JWT }, CHROMA, undefined],
  ])('%s', (_label, headers, dialect, expected) => {
    expect(extractToken(headers, dialect)).toBe(expected);
  });
});

describe('extractToken refuses ambiguous or malformed credentials with TOKEN_INVALID', () => {
  it.each<[string, RequestHeaders, RegExp]>([
    ['different tokens in Authorization and x-chroma-token', { authorization: `Bearer ${JWT}`, 'x-chroma-token': OTHER }, /different tokens/],
    ['Authorization repeated (headersDistinct)', { authorization: [`Bearer ${JWT}`, `Bearer ${JWT}`] }, /repeated/],
    ['x-chroma-token repeated', { 'x-chroma-token': [JWT, OTHER] }, /repeated/],
    ['Authorization under two spellings', { authorization: `Bearer ${JWT}`, Authorization: `Bearer ${JWT}` }, /repeated/],
    ['repeats joined by Node with ", "', { 'x-chroma-token': `${JWT}, ${OTHER}` }, /well-formed/],
    ['Basic authentication', { authorization: 'Basic YWxpY2U6c2VjcmV0' }, /Bearer scheme/],
    ['Bearer without a token', { authorization: 'Bearer' }, /well-formed/],
    ['Bearer followed by two values', { authorization: `Bearer ${JWT} ${OTHER}` }, /well-formed/],
    ['a token with a quote', { 'x-chroma-token': 'abc"def' }, /well-formed/],
  ])('%s', (_label, headers, message) => {
    let caught: unknown;
    try {
      extractToken(headers, CHROMA);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(VecgateError);
    expect((caught as VecgateError).code).toBe('TOKEN_INVALID');
    expect((caught as VecgateError).message).toMatch(message);
    expect((caught as VecgateError).message).not.toContain(JWT);
  });
});

describe('credentialHeaderNames', () => {
  it('lists every header that can carry a credential, lower-cased and once each', () => {
    expect(credentialHeaderNames(['X-Chroma-Token', 'authorization'])).toEqual([
      'authorization',
      'proxy-authorization',
      'cookie',
      'x-chroma-token',
    ]);
  });

  it('includes the dialect API-key header', () => {
    expect(credentialHeaderNames(QDRANT)).toContain('api-key');
  });
});

describe('repeated headers as they arrive over the wire', () => {
  /** Sends a raw HTTP request and returns what Node made of its headers. */
  async function receive(rawHeaderLines: string[]): Promise<IncomingMessage> {
    const server = createServer((req, res) => res.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const received = new Promise<IncomingMessage>((resolve) => server.once('request', resolve));
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.on('data', () => undefined);
    socket.write(['GET / HTTP/1.1', 'Host: example', ...rawHeaderLines, 'Connection: close', '', ''].join('\r\n'));
    const req = await received;
    socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return req;
  }

  it('two Authorization headers are refused when the gateway passes req.headersDistinct', async () => {
    const req = await receive([`Authorization: Bearer ${JWT}`, `Authorization: Bearer ${OTHER}`]);
    expect(() => extractToken(req.headersDistinct, CHROMA)).toThrow(/repeated/);
    // plain req.headers keeps only the first Authorization: the repeat cannot be seen there
    expect(extractToken(req.headers, CHROMA)).toBe(JWT);
  });

  it('two x-chroma-token headers are refused from either form', async () => {
    const req = await receive([`x-chroma-token: ${JWT}`, `x-chroma-token: ${OTHER}`]);
    expect(() => extractToken(req.headersDistinct, CHROMA)).toThrow(/repeated/);
    expect(() => extractToken(req.headers, CHROMA)).toThrow(/well-formed/);
  });
});

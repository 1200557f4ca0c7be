import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { chromaErrorRecords, chromaMaskableRecords } from '../../src/dialect/chroma/records';
import type { Classification } from '../../src/dialect/types';
import { ERROR_STATUS, VecgateError } from '../../src/errors';
import { maskingRuleSchema } from '../../src/masking/config';
import { compileMasking, type MaskPlan } from '../../src/masking/masker';
import { type BufferedResponse, maskHttpResponse, type MaskResponseOptions } from '../../src/masking/response';

const get: Classification = { endpoint: 'chroma.collection_get', operation: 'read', collections: [], bulk: false, reason: 'test' };
const masker = compileMasking(
  [maskingRuleSchema.parse({ id: 'pii', fields: ['metadata.ssn'], detectors: ['email'], exemptGroups: ['pii-readers'] })],
  { tokenKey: undefined },
);
const plan = masker.planFor({ connection: 'prod', collections: ['customers'], groups: ['support'] }) as MaskPlan;
const exemptPlan = masker.planFor({ connection: 'prod', collections: ['customers'], groups: ['pii-readers'] }) as MaskPlan;
const LIMIT = 64 * 1024;

const options = (over: Partial<MaskResponseOptions> = {}): MaskResponseOptions => ({
  plan,
  records: (json) => chromaMaskableRecords(get, json),
  maxBodyBytes: LIMIT,
  ...over,
});

const getBody = {
  ids: ['r1', 'r2'],
  documents: ['mail jane@example.com', 'plain'],
  metadatas: [{ ssn: '123-45-6789' }, { note: 'x' }],
  embeddings: [
    [0.1, -0.25],
    [3.5, 1e-7],
  ],
  include: ['documents', 'metadatas', 'embeddings'],
};
const maskedGetBody = {
  ...getBody,
  documents: ['mail [EMAIL]', 'plain'],
  metadatas: [{ ssn: '[REDACTED]' }, { note: 'x' }],
};

function response(body: Buffer | string | object, headers: Record<string, string | string[] | undefined> = {}, status = 200): BufferedResponse {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return { status, headers: { 'content-type': 'application/json', 'content-length': String(buf.length), ...headers }, body: buf };
}

/** The error a refused response throws. */
function refusal(run: () => unknown): VecgateError {
  try {
    run();
  } catch (err) {
    if (err instanceof VecgateError) return err;
    throw err;
  }
  throw new Error('expected the response to be refused');
}

describe('a successful JSON response', () => {
  test('is masked and served plain with a correct content-length; vectors and ids unchanged', () => {
    const out = maskHttpResponse(response(getBody, { etag: '"abc"', 'content-md5': 'xyz', date: 'today' }), options());
    expect(JSON.parse(out.body.toString('utf8'))).toEqual(maskedGetBody);
    expect(out.headers['content-length']).toBe(String(out.body.length));
    expect(out.headers['content-type']).toBe('application/json');
    expect(out.headers.etag).toBeUndefined();
    expect(out.headers['content-md5']).toBeUndefined();
    expect(out.headers.date).toBe('today');
    expect(out.stats).toEqual({ rulesApplied: ['pii'], rulesExempted: [], detectorsFired: { email: 1 }, fieldsMasked: { 'metadata.ssn': 1 }, valuesMasked: 2 });
  });

  test('statistics carry no value', () => {
    const text = JSON.stringify(maskHttpResponse(response(getBody), options()).stats);
    for (const secret of ['jane', 'example.com', '123-45-6789', '6789']) expect(text).not.toContain(secret);
  });

  test.each<[string, (b: Buffer) => Buffer, string | string[]]>([
    ['gzip', (b) => gzipSync(b), 'gzip'],
    ['x-gzip', (b) => gzipSync(b), 'x-gzip'],
    ['deflate (zlib)', (b) => deflateSync(b), 'deflate'],
    ['deflate (raw, as some servers send it)', (b) => deflateRawSync(b), 'deflate'],
    ['br', (b) => brotliCompressSync(b), 'br'],
    ['gzip then br', (b) => brotliCompressSync(gzipSync(b)), 'gzip, br'],
    ['gzip then br, as two header lines', (b) => brotliCompressSync(gzipSync(b)), ['gzip', 'br']],
    ['identity', (b) => b, 'identity'],
  ])('%s is decoded and served plain, without content-encoding or transfer-encoding', (_name, encode, coding) => {
    const body = encode(Buffer.from(JSON.stringify(getBody)));
    const out = maskHttpResponse(response(body, { 'content-encoding': coding, 'transfer-encoding': 'chunked', vary: 'Accept-Encoding' }), options());
    expect(JSON.parse(out.body.toString('utf8'))).toEqual(maskedGetBody);
    expect(out.headers['content-encoding']).toBeUndefined();
    expect(out.headers['transfer-encoding']).toBeUndefined();
    expect(out.headers['content-length']).toBe(String(out.body.length));
    expect(out.headers.vary).toBe('Accept-Encoding');
  });

  test('content-type parameters and +json types are accepted', () => {
    const out = maskHttpResponse(response(getBody, { 'content-type': 'application/vnd.chroma+json; charset=UTF-8' }), options());
    expect(out.headers['content-type']).toBe('application/vnd.chroma+json; charset=UTF-8');
    expect(JSON.parse(out.body.toString('utf8'))).toEqual(maskedGetBody);
  });

  test('header names in any case', () => {
    const out = maskHttpResponse({ status: 200, headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, body: gzipSync(JSON.stringify(getBody)) }, options());
    expect(JSON.parse(out.body.toString('utf8'))).toEqual(maskedGetBody);
    expect(out.headers['content-encoding']).toBeUndefined();
  });
});

describe('responses that cannot be masked safely are refused, never passed on', () => {
  const bomb = gzipSync(Buffer.alloc(10 * LIMIT, 0x20));

  test.each<[string, BufferedResponse, RegExp]>([
    ['malformed JSON', response('{"ids": ["a"], "documents": ["jane@example.com"'), /not valid JSON/],
    ['an unknown content type', response(JSON.stringify(getBody), { 'content-type': 'text/html' }), /content type "text\/html" cannot be masked/],
    ['no content type', response(JSON.stringify(getBody), { 'content-type': undefined }), /content type \(none\) cannot be masked/],
    ['text/plain for a success', response('jane@example.com', { 'content-type': 'text/plain' }), /content type "text\/plain" cannot be masked/],
    ['a charset other than UTF-8', response(getBody, { 'content-type': 'application/json; charset=iso-8859-1' }), /charset "iso-8859-1"/],
    ['invalid UTF-8', response(Buffer.from([0x7b, 0xff, 0x7d])), /not valid UTF-8/],
    ['a body over the limit', response(Buffer.alloc(LIMIT + 1, 0x20)), /larger than 65536 bytes/],
    ['a compressed body that decodes beyond the limit (zip bomb)', response(bomb, { 'content-encoding': 'gzip' }), /decodes to more than 65536 bytes/],
    ['a brotli bomb', response(brotliCompressSync(Buffer.alloc(10 * LIMIT, 0x20)), { 'content-encoding': 'br' }), /decodes to more than 65536 bytes/],
    ['an encoding vecgate cannot decode', response(Buffer.from('xx'), { 'content-encoding': 'zstd' }), /encoded as "zstd"/],
    ['a corrupt gzip body', response(Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' }), /gzip encoding is corrupt/],
    ['a JSON shape the dialect does not know', response({ rows: [{ document: 'jane@example.com' }] }), /not a shape vecgate knows/],
    ['a partial (range) response', response(getBody, { 'content-range': 'bytes 0-10/100' }, 206), /partial \(range\) response/],
    ['JSON nested deeper than 256 levels', response(`{"ids":["a"],"metadatas":[{"n":${'['.repeat(300)}${']'.repeat(300)}}],"include":[]}`), /nests deeper than 256 levels/],
    ['a valid body followed by more text', response(`${JSON.stringify(getBody)} {"documents":["jane@example.com"]}`), /not valid JSON/],
  ])('%s', (_name, res, message) => {
    const err = refusal(() => maskHttpResponse(res, options()));
    expect(err.code).toBe('MASKING_FAILED');
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/^vecgate withheld the database response because it could not mask personal data in it: /);
    expect(err.message).not.toContain('jane');
  });

  test('a failure inside masking itself is refused too', () => {
    const err = refusal(() => maskHttpResponse(response(getBody), options({ records: () => { throw new TypeError('bug'); } })));
    expect(err.code).toBe('MASKING_FAILED');
    expect(err.cause).toBeInstanceOf(TypeError);
  });

  test('MASKING_FAILED answers 502 (add it to ERROR_STATUS in src/errors/codes.ts)', () => {
    expect(ERROR_STATUS).toHaveProperty('MASKING_FAILED', 502);
  });
});

describe('error bodies', () => {
  test('JSON error bodies are masked as loose JSON, whatever their shape', () => {
    const body = { error: 'InvalidArgumentError', message: 'no record r9 for jane@example.com' };
    const out = maskHttpResponse(response(gzipSync(JSON.stringify(body)), { 'content-encoding': 'gzip' }, 404), options());
    expect(JSON.parse(out.body.toString('utf8'))).toEqual({ error: 'InvalidArgumentError', message: 'no record r9 for [EMAIL]' });
    expect(out.stats.detectorsFired).toEqual({ email: 1 });
  });

  test('designated fields apply to record-shaped members of an error body, nested ones included', () => {
    const body = { error: 'InvalidArgumentError', metadata: { ssn: 'AB 12', metadata: { ssn: 'CD 34' } }, metadatas: [{ ssn: 'EF 56' }] };
    const out = maskHttpResponse(response(body, {}, 400), options({ errorRecords: chromaErrorRecords }));
    expect(JSON.parse(out.body.toString('utf8'))).toEqual({ error: 'InvalidArgumentError', metadata: { ssn: '[REDACTED]', metadata: { ssn: '[REDACTED]' } }, metadatas: [{ ssn: '[REDACTED]' }] });
    const whole = compileMasking([maskingRuleSchema.parse({ id: 'm', fields: ['metadata'] })], { tokenKey: undefined }).planFor({ connection: 'c', collections: [], groups: [] }) as MaskPlan;
    const twice = maskHttpResponse(response(body, {}, 400), options({ plan: whole, errorRecords: chromaErrorRecords }));
    expect(JSON.parse(twice.body.toString('utf8')).metadata).toEqual({ ssn: '[REDACTED]', metadata: { ssn: '[REDACTED]' } });
  });

  test('problem+json and text/plain error bodies too', () => {
    const problem = maskHttpResponse(response({ detail: 'ask jane@example.com' }, { 'content-type': 'application/problem+json' }, 500), options());
    expect(problem.body.toString('utf8')).toBe('{"detail":"ask [EMAIL]"}');
    const text = maskHttpResponse(response('upstream says: jane@example.com', { 'content-type': 'text/plain; charset=utf-8' }, 502), options());
    expect(text.body.toString('utf8')).toBe('upstream says: [EMAIL]');
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  test('an HTML error page is refused', () => {
    expect(refusal(() => maskHttpResponse(response('<h1>jane@example.com</h1>', { 'content-type': 'text/html' }, 500), options())).code).toBe('MASKING_FAILED');
  });
});

describe('nothing to mask', () => {
  test('an exempt caller gets the response as it came, still encoded, with the exemption in the stats', () => {
    const res = response(gzipSync(JSON.stringify(getBody)), { 'content-encoding': 'gzip', etag: '"e"' });
    const out = maskHttpResponse(res, options({ plan: exemptPlan }));
    expect(out.body).toBe(res.body);
    expect(out.headers['content-encoding']).toBe('gzip');
    expect(out.headers.etag).toBe('"e"');
    expect(out.stats).toEqual({ rulesApplied: [], rulesExempted: ['pii'], detectorsFired: {}, fieldsMasked: {}, valuesMasked: 0 });
  });

  test.each<[string, BufferedResponse]>([
    ['an empty body', response(Buffer.alloc(0), { 'content-type': undefined })],
    ['204 No Content', response(Buffer.alloc(0), {}, 204)],
  ])('%s passes unchanged', (_name, res) => {
    const out = maskHttpResponse(res, options());
    expect(out.body.length).toBe(0);
    expect(out.stats.valuesMasked).toBe(0);
  });

  test('an endpoint without record data is re-served byte for byte, integers beyond 2^53 included', () => {
    const text = '{"nanosecond heartbeat": 1764513245123456789}';
    const out = maskHttpResponse(response(text), options({ records: () => [] }));
    expect(out.body.toString('utf8')).toBe(text);
  });

  test('integers beyond 2^53 in records keep their exact digits; the strings around them are masked', () => {
    const text = '{"ids":["a"],"documents":["mail jane@example.com"],"metadatas":[{"n":12345678901234567890,"m":-9223372036854775808,"ssn":"1"}],"include":[]}';
    const out = maskHttpResponse(response(text), options());
    expect(out.body.toString('utf8')).toBe(text.replace('jane@example.com', '[EMAIL]').replace('"ssn":"1"', '"ssn":"[REDACTED]"'));
  });
});

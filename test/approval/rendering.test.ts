import { cut, print, renderRequest, type RenderRequestInput } from '../../src/approval/rendering';
import type { RequestDetail } from '../../src/dialect/types';
import { compileMasking, maskingRuleSchema, type MaskingRuleInput } from '../../src/masking';

/** The request as approvers are shown it: canonical, masked, bounded (THREATS 34). */
const SHA = 'ab'.repeat(32);
const base: RenderRequestInput = { method: 'POST', target: '/api/v2/x/delete', bodyBytes: 10, bodySha256: SHA, details: [] };
const render = (details: RequestDetail[] | undefined, extra: Partial<RenderRequestInput> = {}) => renderRequest({ ...base, details, ...extra });

function planFor(rule: MaskingRuleInput) {
  const plan = compileMasking([maskingRuleSchema.parse(rule)], { tokenKey: undefined }).planFor({ connection: 'demo', collections: ['docs'], groups: [] });
  if (!plan) throw new Error('the rule does not apply');
  return plan;
}

describe('print: canonical JSON on one line', () => {
  it.each<[string, unknown, boolean, string]>([
    ['keys sorted', { b: 1, a: { d: 2, c: 3 } }, false, '{"a": {"c": 3, "d": 2}, "b": 1}'],
    ['scalars as JSON', [null, true, 1.5, 'x'], false, '[null, true, 1.5, "x"]'],
    ['a long list in full when exact', [1, 2, 3, 4, 5, 6], false, '[1, 2, 3, 4, 5, 6]'],
    ['a long string in full when exact', 'y'.repeat(130), false, JSON.stringify('y'.repeat(130))],
    ['a vector by its length in a summary', [0.1, 0.2, 0.3, 0.4, 0.5], true, '<5 numbers>'],
    ['a short number list in full in a summary', [1, 2, 3, 4], true, '[1, 2, 3, 4]'],
    ['the first three of a long list in a summary', ['a', 'b', 'c', 'd', 'e'], true, '["a", "b", "c", … 2 more, 5 in all]'],
    ['a long string cut in a summary', 'z'.repeat(130), true, `"${'z'.repeat(120)}"…(130 characters)`],
    ['an undefined member left out', { a: undefined, b: 1 }, false, '{"b": 1}'],
    ['control characters escaped', 'a\nb\u0007', false, '"a\\nb\\u0007"'],
    ['bidi overrides and zero-width spaces spelled out', 'abc\u202edef\u200b', false, '"abc\\u202edef\\u200b"'],
    ['an invisible character in a key spelled out', { 'k\u200b': 1 }, false, '{"k\\u200b": 1}'],
  ])('%s', (_what, value, summarise, expected) => {
    expect(print(value, summarise)).toBe(expected);
  });

  it('prints the same text whatever order the keys came in', () => {
    expect(print(JSON.parse('{"where":{"b":1,"a":2},"limit":3}'), false)).toBe(print(JSON.parse('{"limit":3,"where":{"a":2,"b":1}}'), false));
  });
});

describe('renderRequest', () => {
  it.each<[string, RequestDetail[] | undefined, Partial<RenderRequestInput>, string]>([
    ['a request without a body', [], { method: 'GET', target: '/api/v2/x?limit=10&offset=5', bodyBytes: 0 }, 'GET /api/v2/x?limit=10&offset=5'],
    ['a filter in full', [{ label: 'where', exact: { source: { $ne: 'none' } } }], {}, 'POST /api/v2/x/delete\nwhere: {"source": {"$ne": "none"}}'],
    ['a note as the dialect wrote it', [{ label: 'embeddings', note: '12 vectors of dimension 384' }], {}, 'POST /api/v2/x/delete\nembeddings: 12 vectors of dimension 384'],
    [
      'records, the first few and how many',
      [{ label: 'records', total: 5, records: [{ id: 'a', data: { document: 'one' } }, { id: 'b', data: { document: 'two', metadata: { k: 1 } } }] }],
      {},
      'POST /api/v2/x/delete\nrecords: 5 in all\n  {"document": "one", "id": "a"}\n  {"document": "two", "id": "b", "metadata": {"k": 1}}\n  … 3 more',
    ],
    ['a body that is not JSON, by its size alone', undefined, { bodyBytes: 42 }, 'POST /api/v2/x/delete\nbody: 42 bytes, not JSON: not shown; the grant is bound to it by its sha256'],
    ['an invisible character in the target spelled out', [], { target: '/a\u202eb' }, 'POST /a\\u202eb'],
  ])('renders %s', (_what, details, extra, expected) => {
    expect(render(details, extra)).toEqual({ text: expected, truncated: false });
  });

  it('masks values before it prints them, and leaves the request as it was', () => {
    const plan = planFor({ id: 'pii', detectors: ['email'], fields: ['metadata.ssn'] });
    const where = { owner: 'alice@example.com' };
    const record = { id: 'r1', data: { document: 'mail bob@example.com', metadata: { ssn: '123-45-6789', team: 'x' } } };
    const { text } = render([{ label: 'where', exact: where }, { label: 'records', total: 1, records: [record] }], { mask: plan });
    expect(text).toBe('POST /api/v2/x/delete\nwhere: {"owner": "[EMAIL]"}\nrecords: 1 in all\n  {"document": "mail [EMAIL]", "id": "r1", "metadata": {"ssn": "[REDACTED]", "team": "x"}}');
    expect(where.owner).toBe('alice@example.com');
    expect(record.data.metadata.ssn).toBe('123-45-6789');
  });

  it('masks a value whole before the rendering is cut, so a cut cannot hide part of it from the detectors', () => {
    const plan = planFor({ id: 'pii', detectors: ['email'] });
    const email = 'someone.with.a.long.name@example.com';
    const prefix = 'POST /api/v2/x/delete\nwhere: {"a": "';
    const { text, truncated } = render([{ label: 'where', exact: { a: email } }], { mask: plan, maxChars: prefix.length + 200 });
    expect(truncated).toBe(false);
    expect(text).not.toContain('someone');
  });

  it('withholds a value too deeply nested to mask rather than show it unmasked', () => {
    const plan = planFor({ id: 'pii', detectors: ['email'] });
    let deep: unknown = 'alice@example.com';
    for (let i = 0; i < 300; i++) deep = [deep];
    const { text } = render([{ label: 'where', exact: deep }], { mask: plan });
    expect(text).toBe('POST /api/v2/x/delete\nwhere: (not shown: too deeply nested to mask)');
  });

  it('is cut at its limit with a note that says how much was cut', () => {
    const rendering = render([{ label: 'where', exact: { a: 'x'.repeat(5000) } }]);
    expect(rendering.truncated).toBe(true);
    expect(rendering.text.length).toBeLessThanOrEqual(3000);
    const omitted = Number(/… (\d+) more characters not shown/.exec(rendering.text)?.[1]);
    const whole = render([{ label: 'where', exact: { a: 'x'.repeat(5000) } }], { maxChars: 1e9 }).text;
    expect(whole.startsWith(rendering.text.slice(0, whole.length - omitted))).toBe(true);
    expect(rendering.text).toContain(`sha256 ${SHA.slice(0, 16)}…`);
  });
});

describe('cut', () => {
  it.each<[string, number, boolean]>([
    ['short', 10, false],
    ['x'.repeat(200), 200, false],
    ['x'.repeat(201), 200, true],
    ['x'.repeat(100_000), 200, true],
  ])('cut(%#) to %d: truncated %s, never longer than the limit', (text, max, truncated) => {
    const result = cut(text, max, SHA);
    expect(result.truncated).toBe(truncated);
    expect(result.text.length).toBeLessThanOrEqual(max);
    if (truncated) {
      const omitted = Number(/… (\d+) more characters/.exec(result.text)?.[1]);
      expect(result.text.indexOf('\n…') + omitted).toBe(text.length);
    } else {
      expect(result.text).toBe(text);
    }
  });
});

import { DEFAULT_MASKING_MAX_BODY_BYTES, maskingRuleSchema, maskingSchema, maskingSettingsSchema } from '../../src/masking/config';
import { nestedQuantifier } from '../../src/masking/pattern-safety';

/** The messages zod gives for an input, as "path: message". */
function issues(input: unknown, schema: { safeParse(i: unknown): { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } } } = maskingRuleSchema): string[] {
  const r = schema.safeParse(input);
  return r.success ? [] : (r.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('a masking rule', () => {
  test('defaults: every connection and collection, placeholder style, nobody exempt', () => {
    expect(maskingRuleSchema.parse({ id: 'pii', detectors: ['email'] })).toEqual({
      id: 'pii',
      connections: ['*'],
      collections: ['*'],
      fields: [],
      detectors: ['email'],
      customPatterns: [],
      scanKeys: true,
      scanIds: true,
      style: 'placeholder',
      exemptGroups: [],
      filterOnMasked: 'refuse',
    });
  });

  test('fields are paths or { path, style } for a per-field style', () => {
    const rule = maskingRuleSchema.parse({ id: 'f', fields: ['metadata.email', { path: 'metadata.card', style: 'partial' }], style: 'token' });
    expect(rule.fields).toEqual([{ path: 'metadata.email' }, { path: 'metadata.card', style: 'partial' }]);
  });

  test.each<[string, unknown, RegExp]>([
    ['a rule that masks nothing', { id: 'x' }, /masks nothing: list fields, detectors or customPatterns/],
    ['an unknown detector', { id: 'x', detectors: ['passport'] }, /detectors.0: must be one of: email, phone, payment_card, iban, us_ssn, ipv4, ipv6/],
    ['an unknown style', { id: 'x', detectors: ['email'], style: 'blur' }, /style: must be one of: placeholder, partial, token/],
    ['a bad id', { id: 'Bad Id', detectors: ['email'] }, /id: must be 1-63 characters/],
    ['an empty field path part', { id: 'x', fields: ['metadata..email'] }, /fields.0: must be dot-separated keys without empty parts, e.g. metadata.customer.ssn/],
    ['a field listed twice', { id: 'x', fields: ['document', 'document'] }, /fields.1: "document" is listed twice/],
    ['an empty glob', { id: 'x', detectors: ['email'], collections: [''] }, /collections.0: must not be empty: use "\*" for any/],
    ['an unknown key', { id: 'x', detectors: ['email'], mask: true }, /mask/],
    ['a pattern that does not compile', { id: 'x', customPatterns: [{ name: 'p', pattern: '(' }] }, /customPatterns.0.pattern: does not compile .*: fix the regular expression/],
    ['a pattern matching the empty string', { id: 'x', customPatterns: [{ name: 'p', pattern: '\\d*' }] }, /can match the empty string/],
    ['a pattern matching only the empty string at a boundary', { id: 'x', customPatterns: [{ name: 'p', pattern: '\\b' }] }, /can match the empty string/],
    ['a pattern with nested repetition', { id: 'x', customPatterns: [{ name: 'p', pattern: '(a+)+b' }] }, /repeats a group that itself repeats \(\(a\+\)\+\)/],
    ['a pattern with the g flag', { id: 'x', customPatterns: [{ name: 'p', pattern: 'x', flags: 'g' }] }, /flags: may only combine the flags i, m, s and u/],
    ['a pattern named like a built-in detector', { id: 'x', customPatterns: [{ name: 'email', pattern: 'x' }] }, /must differ from the built-in detectors/],
    ['two patterns with one name', { id: 'x', customPatterns: [{ name: 'p', pattern: 'x' }, { name: 'p', pattern: 'y' }] }, /customPatterns.1.name: "p" is used twice/],
  ])('refuses %s, saying how to fix it', (_name, input, message) => {
    expect(issues(input).join('\n')).toMatch(message);
  });
});

describe('nested repetition', () => {
  test.each<[string, string | undefined]>([
    ['(a+)+', '(a+)+'],
    ['(\\w*x)*', '(\\w*x)*'],
    ['(?:a|b+){2,}', '(?:a|b+){2,}'],
    ['((ab)+c)+', '((ab)+c)+'],
    ['EMP-\\d{6}', undefined],
    ['(\\d{3}-)+', undefined],
    ['(ab)+', undefined],
    ['[(a+)+]', undefined],
    ['\\(a+\\)+', undefined],
    ['(?<year>\\d{4})-(?<m>\\d\\d)', undefined],
    ['\\p{L}+(?:-\\p{L}+)?', undefined],
    ['(a+)?', undefined],
  ])('%s', (source, expected) => expect(nestedQuantifier(source)).toBe(expected));
});

describe('settings and the masking section', () => {
  test('defaults: no token key, a 32 MiB limit', () => {
    expect(maskingSettingsSchema.parse({})).toEqual({ maxBodyBytes: DEFAULT_MASKING_MAX_BODY_BYTES });
    expect(DEFAULT_MASKING_MAX_BODY_BYTES).toBe(32 * 1024 * 1024);
    expect(maskingSchema.parse({})).toEqual({ settings: { maxBodyBytes: DEFAULT_MASKING_MAX_BODY_BYTES }, rules: [] });
  });

  test.each<[string, unknown, RegExp]>([
    ['the key itself in place of its variable name', { tokenKeyEnv: 'c2VjcmV0LWtleQ==' }, /tokenKeyEnv: must be the NAME of an environment variable/],
    ['a tiny body limit', { maxBodyBytes: 10 }, /maxBodyBytes: must be at least 1024 bytes/],
  ])('settings refuse %s', (_name, input, message) => {
    expect(issues(input, maskingSettingsSchema).join('\n')).toMatch(message);
  });

  test('the token style needs tokenKeyEnv', () => {
    const message = issues({ rules: [{ id: 't', detectors: ['email'], style: 'token' }] }, maskingSchema).join('\n');
    expect(message).toMatch(/rules.0.style: the token style needs a key: set masking.settings.tokenKeyEnv/);
    expect(issues({ settings: { tokenKeyEnv: 'VECGATE_MASK_KEY' }, rules: [{ id: 't', detectors: ['email'], style: 'token' }] }, maskingSchema)).toEqual([]);
  });

  test('a per-field token style needs it too', () => {
    expect(issues({ rules: [{ id: 't', fields: [{ path: 'document', style: 'token' }] }] }, maskingSchema).join('\n')).toMatch(/tokenKeyEnv/);
  });

  test('rule ids are unique', () => {
    const rules = [
      { id: 'a', detectors: ['email'] },
      { id: 'a', detectors: ['phone'] },
    ];
    expect(issues({ rules }, maskingSchema).join('\n')).toMatch(/rules.1.id: "a" is used twice/);
  });
});

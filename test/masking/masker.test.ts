import { maskingRuleSchema, type MaskingRuleInput } from '../../src/masking/config';
import { type JsonEdit, scanJson, splice } from '../../src/masking/json-scan';
import { compileMasking, type MaskPlan, type MaskQuestion } from '../../src/masking/masker';

const KEY = Buffer.alloc(32, 3);
const rule = (r: MaskingRuleInput) => maskingRuleSchema.parse(r);
const ask = (over: Partial<MaskQuestion> = {}): MaskQuestion => ({ connection: 'prod', collections: ['customers'], groups: ['support'], ...over });

function planOf(rules: MaskingRuleInput[], question: Partial<MaskQuestion> = {}, tokenKey: Buffer | undefined = KEY): MaskPlan {
  const plan = compileMasking(rules.map(rule), { tokenKey }).planFor(ask(question));
  if (!plan) throw new Error('expected a plan');
  return plan;
}

describe('which rules apply', () => {
  const rules = [
    rule({ id: 'all-pii', detectors: ['email'] }),
    rule({ id: 'crm-fields', collections: ['customers', 'leads-*'], fields: ['metadata.ssn'], exemptGroups: ['pii-readers'] }),
    rule({ id: 'prod-only', connections: ['prod'], collections: ['hr-*'], detectors: ['phone'] }),
    rule({ id: 'staging', connections: ['staging'], detectors: ['iban'] }),
  ];
  const masker = compileMasking(rules, { tokenKey: undefined });

  test.each<[string, Partial<MaskQuestion>, string[], string[]]>([
    ['rules matching the connection and collection', {}, ['all-pii', 'crm-fields'], []],
    ['a glob collection pattern', { collections: ['leads-2024'] }, ['all-pii', 'crm-fields'], []],
    ['an exempt group: the rule is exempted, not dropped', { groups: ['support', 'pii-readers'] }, ['all-pii'], ['crm-fields']],
    ['another connection', { connection: 'staging' }, ['all-pii', 'crm-fields', 'staging'], []],
    ['several collections: any match applies the rule', { collections: ['orders', 'hr-payroll'] }, ['all-pii', 'prod-only'], []],
    ['a connection-level request gets every rule of the connection', { collections: [] }, ['all-pii', 'crm-fields', 'prod-only'], []],
    ['group patterns match exactly', { groups: ['pii-readers-old'] }, ['all-pii', 'crm-fields'], []],
  ])('%s', (_name, q, applied, exempted) => {
    const plan = masker.planFor(ask(q));
    expect(plan?.rulesApplied).toEqual(applied);
    expect(plan?.rulesExempted).toEqual(exempted);
    expect(plan?.masks).toBe(applied.length > 0);
  });

  test('no plan when no rule applies', () => {
    expect(compileMasking([rules[3] as never], { tokenKey: undefined }).planFor(ask())).toBeUndefined();
  });

  test('a plan that only exempts masks nothing but says which rules it exempted', () => {
    const plan = compileMasking([rules[1] as never], { tokenKey: undefined }).planFor(ask({ groups: ['pii-readers'] }));
    expect(plan?.masks).toBe(false);
    const data = { metadata: { ssn: '123-45-6789' } };
    expect(plan?.maskRecord(data)).toEqual({ rulesApplied: [], rulesExempted: ['crm-fields'], detectorsFired: {}, fieldsMasked: {}, valuesMasked: 0 });
    expect(data.metadata.ssn).toBe('123-45-6789');
  });
});

describe('plans of one masker, request after request', () => {
  const rules = [
    rule({ id: 'pii', style: 'partial', detectors: ['email', 'phone'], fields: ['metadata.ssn'], exemptGroups: ['pii-readers'] }),
    rule({ id: 'hr', collections: ['hr-*'], style: 'placeholder', detectors: ['email'] }),
  ];
  const masker = compileMasking(rules, { tokenKey: undefined });
  const record = () => ({ document: 'mail jane@example.com', metadata: { ssn: '123-45-6789', note: 'jane@example.com' } });

  test('each request gets its own plan, and alternating callers and collections get their own rules', () => {
    for (let round = 0; round < 3; round++) {
      const masked = record();
      const stats = masker.planFor(ask())?.maskRecord(masked);
      expect(masked).toEqual({ document: 'mail j***@example.com', metadata: { ssn: '1***', note: 'j***@example.com' } });
      expect(stats).toEqual({ rulesApplied: ['pii'], rulesExempted: [], detectorsFired: { email: 2 }, fieldsMasked: { 'metadata.ssn': 1 }, valuesMasked: 3 });

      const exempt = record();
      const exemptPlan = masker.planFor(ask({ groups: ['pii-readers'] }));
      expect(exemptPlan?.masks).toBe(false);
      exemptPlan?.maskRecord(exempt);
      expect(exempt).toEqual(record());

      const hr = record();
      masker.planFor(ask({ collections: ['hr-payroll'], groups: ['pii-readers'] }))?.maskRecord(hr);
      expect(hr).toEqual({ document: 'mail [EMAIL]', metadata: { ssn: '123-45-6789', note: '[EMAIL]' } });
    }
  });

  test('a plan handed out earlier keeps its own rule lists when later plans are made', () => {
    const first = masker.planFor(ask()) as MaskPlan;
    masker.planFor(ask({ collections: ['hr-payroll'] }))?.maskRecord(record());
    expect(first.rulesApplied).toEqual(['pii']);
    expect(first.guarded.fields).toEqual(['metadata.ssn']);
    expect(() => (first.rulesApplied as string[]).push('x')).toThrow();
  });
});

describe('masked strings spliced into a scanned document', () => {
  test.each<[string, MaskingRuleInput]>([
    ['built-in detectors only', { id: 'b', style: 'partial', detectors: ['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'ipv4', 'ipv6'] }],
    ['with a custom pattern', { id: 'c', style: 'partial', detectors: ['email'], customPatterns: [{ name: 'any_char', pattern: 'X.' }] }],
  ])('are the JSON text JSON.stringify gives for them (%s)', (_name, input) => {
    const plan = planOf([input]);
    const texts = [
      'Zoë 😀 jane@example.com, 📞 +49 30 1234567 日本 123-45-6789',
      'DEL \u007f and line separator \u2028 next to 10.0.0.1 and fe80::1 and jane@example.com',
      'a quote " and a backslash \\ around 4111 1111 1111 1111, jane@example.com',
      'tab\tand newline\n before DE89 3704 0044 0532 0130 00, jane@example.com',
      'X😀 a custom match that ends inside a surrogate pair, jane@example.com',
      'then X\ud83d alone, jane@example.com',
    ];
    for (const value of texts) {
      const source = Buffer.from(JSON.stringify({ document: value }));
      const json = scanJson(source);
      const edits: JsonEdit[] = [];
      plan.maskScannedRecord(json, { parts: { document: (json.root as Extract<typeof json.root, { kind: 'object' }>).members[0]?.value } }, edits);
      expect(edits.length).toBe(1);
      expect(splice(source, edits).toString('utf8')).toBe(JSON.stringify({ document: plan.maskText(value).text }));
    }
  });
});

describe('designated fields', () => {
  test.each<[string, string[], Record<string, unknown>, Record<string, unknown>, Record<string, number>]>([
    ['a top-level field', ['document'], { document: 'Jane Roe wrote this', metadata: { a: 1 } }, { document: '[REDACTED]', metadata: { a: 1 } }, { document: 1 }],
    ['a nested field', ['metadata.customer.ssn'], { metadata: { customer: { ssn: 'x', name: 'y' } } }, { metadata: { customer: { ssn: '[REDACTED]', name: 'y' } } }, { 'metadata.customer.ssn': 1 }],
    ['a flat key containing dots', ['metadata.customer.ssn'], { metadata: { 'customer.ssn': 'x' } }, { metadata: { 'customer.ssn': '[REDACTED]' } }, { 'metadata.customer.ssn': 1 }],
    ['a missing field', ['metadata.email'], { metadata: { other: 'x' } }, { metadata: { other: 'x' } }, {}],
    ['a path through a non-object', ['metadata.email.local'], { metadata: { email: 'x' } }, { metadata: { email: 'x' } }, {}],
    ['a number becomes a string placeholder', ['metadata.age'], { metadata: { age: 42 } }, { metadata: { age: '[REDACTED]' } }, { 'metadata.age': 1 }],
    ['a boolean too', ['metadata.vip'], { metadata: { vip: true } }, { metadata: { vip: '[REDACTED]' } }, { 'metadata.vip': 1 }],
    ['null stays null and is not counted', ['metadata.email'], { metadata: { email: null } }, { metadata: { email: null } }, {}],
    ['a null document (not included) stays null', ['document'], { document: null }, { document: null }, {}],
    ['arrays on the way are entered', ['metadata.contacts.email'], { metadata: { contacts: [{ email: 'a' }, { email: 'b' }, { phone: 'c' }] } }, { metadata: { contacts: [{ email: '[REDACTED]' }, { email: '[REDACTED]' }, { phone: 'c' }] } }, { 'metadata.contacts.email': 2 }],
    ['an array value: every element, the array stays', ['metadata.tags'], { metadata: { tags: ['a', 'b', 3] } }, { metadata: { tags: ['[REDACTED]', '[REDACTED]', '[REDACTED]'] } }, { 'metadata.tags': 1 }],
    ['an object value: every leaf, the keys stay', ['metadata'], { metadata: { a: 'x', b: { c: 1 } } }, { metadata: { a: '[REDACTED]', b: { c: '[REDACTED]' } } }, { metadata: 1 }],
    ['* stands for any one key', ['metadata.*.ssn'], { metadata: { alice: { ssn: 'x' }, bob: { ssn: 'y' } } }, { metadata: { alice: { ssn: '[REDACTED]' }, bob: { ssn: '[REDACTED]' } } }, { 'metadata.*.ssn': 2 }],
    ['an outer and an inner path: masked once', ['metadata.customer', 'metadata.customer.ssn'], { metadata: { customer: { ssn: 'x' } } }, { metadata: { customer: { ssn: '[REDACTED]' } } }, { 'metadata.customer': 1 }],
  ])('%s', (_name, fields, data, expected, fieldsMasked) => {
    const stats = planOf([{ id: 'f', fields }]).maskRecord(data);
    expect(data).toEqual(expected);
    expect(stats.fieldsMasked).toEqual(fieldsMasked);
  });

  test('a per-field style overrides the rule style', () => {
    const data = { metadata: { name: 'Jane Roe', email: 'jane@example.com' } };
    planOf([{ id: 'f', style: 'token', fields: [{ path: 'metadata.name', style: 'partial' }, 'metadata.email'] }]).maskRecord(data);
    expect(data.metadata.name).toBe('J***');
    expect(data.metadata.email).toMatch(/^tok_field_[0-9a-f]{20}$/);
  });

  test('the same field in two rules: the strictest style wins', () => {
    const data = { metadata: { name: 'Jane Roe' } };
    planOf([
      { id: 'a', style: 'partial', fields: ['metadata.name'] },
      { id: 'b', style: 'placeholder', fields: ['metadata.name'] },
    ]).maskRecord(data);
    expect(data.metadata.name).toBe('[REDACTED]');
  });

  test('detectors do not run again on a designated field', () => {
    const data = { metadata: { email: 'jane@example.com', note: 'mail jane@example.com' } };
    const stats = planOf([{ id: 'f', fields: ['metadata.email'], detectors: ['email'] }]).maskRecord(data);
    expect(data.metadata).toEqual({ email: '[REDACTED]', note: 'mail [EMAIL]' });
    expect(stats.detectorsFired).toEqual({ email: 1 });
    expect(stats.valuesMasked).toBe(2);
  });
});

describe('detectors on every string of the record', () => {
  test('documents, metadata values and keys at any depth, strings in arrays; numbers untouched', () => {
    const data = {
      document: 'Call +49 30 1234567 or mail jane@example.com about card 4111 1111 1111 1111.',
      metadata: { owner: 'ops@example.com', n: 4111111111111111, nested: { list: ['10.0.0.1', 'ok'] }, 'jane@example.com': true },
      uri: 'https://example.com/users/jane@example.com',
    };
    const stats = planOf([{ id: 'd', detectors: ['email', 'phone', 'payment_card', 'ipv4'] }]).maskRecord(data);
    expect(data).toEqual({
      document: 'Call [PHONE] or mail [EMAIL] about card [PAYMENT_CARD].',
      metadata: { owner: '[EMAIL]', n: 4111111111111111, nested: { list: ['[IPV4]', 'ok'] }, '[EMAIL]': true },
      uri: 'https://example.com/users/[EMAIL]',
    });
    expect(stats.detectorsFired).toEqual({ phone: 1, email: 4, payment_card: 1, ipv4: 1 });
    expect(stats.valuesMasked).toBe(5);
  });

  test('scanKeys: false leaves object keys alone; values are still searched', () => {
    const data = { metadata: { 'jane@example.com': 'ops@example.com' } };
    const stats = planOf([{ id: 'd', detectors: ['email'], scanKeys: false }]).maskRecord(data);
    expect(data).toEqual({ metadata: { 'jane@example.com': '[EMAIL]' } });
    expect(stats.detectorsFired).toEqual({ email: 1 });
  });

  test('keys inside a designated field are still searched; its values are masked as the field', () => {
    const data = { metadata: { contact: { 'jane@example.com': 'Jane Roe' } } };
    planOf([{ id: 'd', fields: ['metadata.contact'], detectors: ['email'] }]).maskRecord(data);
    expect(data).toEqual({ metadata: { contact: { '[EMAIL]': '[REDACTED]' } } });
  });

  test('keys of two rules: a rule without scanKeys does not search keys with its detectors', () => {
    const data = { metadata: { 'jane@example.com': 1, '10.0.0.1': 2 } };
    planOf([
      { id: 'mail', detectors: ['email'] },
      { id: 'ip', detectors: ['ipv4'], scanKeys: false },
    ]).maskRecord(data);
    expect(data).toEqual({ metadata: { '[EMAIL]': 1, '10.0.0.1': 2 } });
  });

  test('styles per type in one text', () => {
    const data = { document: 'jane@example.com, +49 30 1234567, DE89 3704 0044 0532 0130 00, 123-45-6789' };
    planOf([{ id: 'p', style: 'partial', detectors: ['email', 'phone', 'iban', 'us_ssn'] }]).maskRecord(data);
    expect(data.document).toBe('j***@example.com, +** ** *****67, DE** **** **** **** **30 00, ***-**-6789');
  });

  test('the same detector in two rules: the strictest style wins', () => {
    const data = { document: 'jane@example.com' };
    planOf([
      { id: 'a', style: 'partial', detectors: ['email'] },
      { id: 'b', style: 'token', detectors: ['email'] },
    ]).maskRecord(data);
    expect(data.document).toMatch(/^tok_email_[0-9a-f]{20}$/);
  });

  test('custom patterns, with their own placeholder', () => {
    const data = { document: 'ticket for EMP-123456 and emp-654321' };
    const stats = planOf([{ id: 'c', customPatterns: [{ name: 'employee_id', pattern: 'EMP-\\d{6}', flags: 'i' }] }]).maskRecord(data);
    expect(data.document).toBe('ticket for [EMPLOYEE_ID] and [EMPLOYEE_ID]');
    expect(stats.detectorsFired).toEqual({ employee_id: 2 });
  });

  test('overlapping finds become one masked region: no flagged character stays clear', () => {
    const data = { document: 'paid with card 4111 1111 1111 1111 today' };
    planOf([{ id: 'c', style: 'partial', detectors: ['payment_card'], customPatterns: [{ name: 'card_ref', pattern: 'card \\d{4}' }] }]).maskRecord(data);
    // the card is the longest span and names the region; the region also covers "card ", so partial falls back to the placeholder
    expect(data.document).toBe('paid with [PAYMENT_CARD] today');
  });

  test('maskLooseJson masks strings anywhere, including a bare string', () => {
    const plan = planOf([{ id: 'd', detectors: ['email'] }]);
    const body = { error: 'NotFound', message: 'no record for jane@example.com', details: [{ hint: 'ask ops@example.com' }] };
    const out = plan.maskLooseJson(body);
    expect(out.value).toBe(body);
    expect(body).toEqual({ error: 'NotFound', message: 'no record for [EMAIL]', details: [{ hint: 'ask [EMAIL]' }] });
    expect(out.stats.detectorsFired).toEqual({ email: 2 });
    expect(plan.maskLooseJson('bad jane@example.com').value).toBe('bad [EMAIL]');
  });

  test('JSON nested deeper than the limit is refused, not walked', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 300; i++) deep = [deep];
    expect(() => planOf([{ id: 'd', detectors: ['email'] }]).maskLooseJson(deep)).toThrow(/deeper than 256/);
  });
});

describe('tokens and statistics', () => {
  test('the same value and key give the same token in every record; another key another token', () => {
    const rules: MaskingRuleInput[] = [{ id: 't', style: 'token', detectors: ['email'], fields: ['metadata.customer'] }];
    const a = { document: 'from jane@example.com', metadata: { customer: 'C-1' } };
    const b = { document: 'to JANE@example.com', metadata: { customer: 'C-1' } };
    const c = { document: 'from jane@example.com', metadata: { customer: 'C-1' } };
    planOf(rules).maskRecord(a);
    planOf(rules).maskRecord(b);
    planOf(rules, {}, Buffer.alloc(32, 9)).maskRecord(c);
    expect(a.document.slice(5)).toBe(b.document.slice(3));
    expect(a.metadata.customer).toBe(b.metadata.customer);
    expect(c.document).not.toBe(a.document);
    expect(c.metadata.customer).not.toBe(a.metadata.customer);
  });

  test('the token style without a key is refused at compile time', () => {
    expect(() => compileMasking([rule({ id: 't', style: 'token', detectors: ['email'] })], { tokenKey: undefined })).toThrow(/t use the token style, but no token key was given/);
  });

  test('statistics hold names and counts, never a value', () => {
    const secrets = ['jane@example.com', '4111 1111 1111 1111', '123-45-6789', 'Jane Roe', '1111', '6789', 'jane', 'example.com'];
    const data = { document: `jane@example.com 4111 1111 1111 1111 123-45-6789`, metadata: { name: 'Jane Roe' } };
    const stats = planOf([{ id: 'p', style: 'partial', detectors: ['email', 'payment_card', 'us_ssn'], fields: ['metadata.name'] }]).maskRecord(data);
    const text = JSON.stringify(stats);
    for (const s of secrets) expect(text).not.toContain(s);
    expect(stats).toEqual({
      rulesApplied: ['p'],
      rulesExempted: [],
      detectorsFired: { email: 1, payment_card: 1, us_ssn: 1 },
      fieldsMasked: { 'metadata.name': 1 },
      valuesMasked: 2,
    });
  });
});

describe('explain', () => {
  const masker = compileMasking(
    [
      rule({ id: 'crm', description: 'customer PII', collections: ['customers'], fields: ['metadata.email', { path: 'metadata.name', style: 'partial' }], detectors: ['phone'], exemptGroups: ['pii-readers'] }),
      rule({ id: 'cards', detectors: ['payment_card'], customPatterns: [{ name: 'employee_id', pattern: 'EMP-\\d{6}' }], style: 'partial', scanKeys: false }),
    ],
    { tokenKey: undefined },
  );

  test('says which rules mask what for these groups', () => {
    expect(masker.explain(ask())).toEqual([
      'Masking rule "crm" (customer PII) masks the whole value of metadata.email (placeholder), metadata.name (partial), and every phone found in any other string, object key or record id (placeholder) in responses from collection "customers" of connection "prod".',
      'Masking rule "cards" masks every payment_card, employee_id found in any other string or record id (partial) in responses from collection "customers" of connection "prod".',
    ]);
  });

  test('names the exempting group', () => {
    expect(masker.explain(ask({ groups: ['pii-readers'] }))[1]).toBe(
      'Masking rule "crm" would mask the whole value of metadata.email (placeholder), metadata.name (partial), and every phone found in any other string, object key or record id (placeholder), but group pii-readers is exempt: clear text for this caller (groups: pii-readers), audited as exempt.',
    );
  });

  test('says when nothing applies', () => {
    expect(compileMasking([], { tokenKey: undefined }).explain(ask())).toEqual(['No masking rule applies to collection "customers" of connection "prod": responses pass unmasked.']);
  });
});

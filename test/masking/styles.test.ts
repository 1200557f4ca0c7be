import { DETECTOR_TYPES, findEmails, findIbans, findIpv4s, findIpv6s, findPaymentCards, findPhones, findUsSsns } from '../../src/masking/detectors';
import { createTokenizer, FIELD_PLACEHOLDER, maskDetected, maskFieldLeaf, MIN_TOKEN_KEY_BYTES } from '../../src/masking/styles';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);
const ctx = { tokenize: createTokenizer(KEY) };

describe('placeholder and partial, per type', () => {
  test.each<[string, string, string, string]>([
    ['email', 'john.doe@example.com', '[EMAIL]', 'j***@example.com'],
    ['phone', '+49 30 1234567', '[PHONE]', '+** ** *****67'],
    ['phone', '(415) 555-2671', '[PHONE]', '(***) ***-**71'],
    ['payment_card', '4111 1111 1111 1111', '[PAYMENT_CARD]', '**** **** **** 1111'],
    ['payment_card', '378282246310005', '[PAYMENT_CARD]', '**** **** **** 0005'],
    ['iban', 'DE89 3704 0044 0532 0130 00', '[IBAN]', 'DE** **** **** **** **30 00'],
    ['iban', 'GB82WEST12345698765432', '[IBAN]', 'GB****************5432'],
    ['us_ssn', '123-45-6789', '[US_SSN]', '***-**-6789'],
    ['ipv4', '192.168.1.10', '[IPV4]', '192.168.*.*'],
    ['ipv6', '2001:0db8:85a3:0000:0000:8a2e:0370:7334', '[IPV6]', '2001:db8:85a3:*:*:*:*:*'],
    ['ipv6', '::1', '[IPV6]', '0:0:0:*:*:*:*:*'],
    ['employee_id', 'EMP-123456', '[EMPLOYEE_ID]', 'E***'],
    ['employee_id', 'E12', '[EMPLOYEE_ID]', '***'],
  ])('%s %j', (detector, value, placeholder, partial) => {
    expect(maskDetected(detector, value, 'placeholder', ctx)).toBe(placeholder);
    expect(maskDetected(detector, value, 'partial', ctx)).toBe(partial);
  });
});

describe('token', () => {
  test.each(DETECTOR_TYPES.map((d) => [d]))('%s tokens are labelled, 20 hex characters, and deterministic', (detector) => {
    const t = maskDetected(detector, 'some value', 'token', ctx);
    expect(t).toMatch(new RegExp(`^tok_${detector}_[0-9a-f]{20}$`));
    expect(maskDetected(detector, 'some value', 'token', { tokenize: createTokenizer(Buffer.from(KEY)) })).toBe(t);
  });

  test('another key gives another token; another value gives another token', () => {
    const t = maskDetected('email', 'a@example.com', 'token', ctx);
    expect(maskDetected('email', 'a@example.com', 'token', { tokenize: createTokenizer(OTHER_KEY) })).not.toBe(t);
    expect(maskDetected('email', 'b@example.com', 'token', ctx)).not.toBe(t);
  });

  test.each<[string, string, string]>([
    ['email', 'Jane@Example.COM', 'jane@example.com'],
    ['phone', '+49 30 1234567', '+49-30-1234567'],
    ['payment_card', '4111 1111 1111 1111', '4111-1111-1111-1111'],
    ['iban', 'DE89 3704 0044 0532 0130 00', 'DE89370400440532013000'],
    ['ipv6', '2001:0db8::0001', '2001:db8:0:0:0:0:0:1'],
  ])('equal %s values written differently give the same token', (detector, a, b) => {
    expect(maskDetected(detector, a, 'token', ctx)).toBe(maskDetected(detector, b, 'token', ctx));
  });

  test('a key shorter than 32 bytes is refused', () => {
    expect(() => createTokenizer(Buffer.alloc(MIN_TOKEN_KEY_BYTES - 1))).toThrow(/at least 32/);
  });

  test('the token style without a key fails instead of leaking', () => {
    expect(() => maskDetected('email', 'a@example.com', 'token', {})).toThrow(/needs a key/);
  });

  test('the key is copied: changing the caller\'s buffer later changes nothing', () => {
    const key = Buffer.alloc(32, 1);
    const tokenize = createTokenizer(key);
    const before = tokenize('email', 'x');
    key.fill(2);
    expect(tokenize('email', 'x')).toBe(before);
  });
});

describe('designated field leaves', () => {
  test.each<[string, unknown, string, unknown]>([
    ['a string, placeholder', 'Jane Roe', 'placeholder', FIELD_PLACEHOLDER],
    ['a string, partial', 'Jane Roe', 'partial', 'J***'],
    ['a short string, partial', 'Al', 'partial', '***'],
    ['a number, placeholder', 42, 'placeholder', FIELD_PLACEHOLDER],
    ['a number, partial', 42, 'partial', FIELD_PLACEHOLDER],
    ['a boolean, placeholder', true, 'placeholder', FIELD_PLACEHOLDER],
    ['null stays null', null, 'placeholder', null],
    ['null stays null, token', null, 'token', null],
  ])('%s', (_name, value, style, expected) => {
    expect(maskFieldLeaf(value, style as 'placeholder', ctx)).toBe(expected);
  });

  test('token: strings and numbers become field tokens; a number joins with its digits as a string', () => {
    const s = maskFieldLeaf('Jane Roe', 'token', ctx);
    expect(s).toMatch(/^tok_field_[0-9a-f]{20}$/);
    expect(maskFieldLeaf('Jane Roe', 'token', ctx)).toBe(s);
    expect(maskFieldLeaf(42, 'token', ctx)).toMatch(/^tok_field_[0-9a-f]{20}$/);
    expect(maskFieldLeaf(42, 'token', ctx)).toBe(maskFieldLeaf('42', 'token', ctx));
    expect(maskFieldLeaf(true, 'token', ctx)).not.toBe(maskFieldLeaf(42, 'token', ctx));
  });
});

describe('masked output is not found again by any detector', () => {
  const all = [findEmails, findPhones, findPaymentCards, findIbans, findUsSsns, findIpv4s, findIpv6s];
  const outputs = [
    '+** ** *****67',
    '**** **** **** 1111',
    'DE** **** **** **** **30 00',
    '***-**-6789',
    '192.168.*.*',
    '2001:db8:85a3:*:*:*:*:*',
    '[EMAIL]',
    'tok_phone_0123456789abcdef0123',
  ];
  test.each(outputs.map((o) => [o]))('%j', (output) => {
    expect(all.flatMap((find) => find(output))).toEqual([]);
  });
});

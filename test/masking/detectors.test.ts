import {
  customDetector,
  CUSTOM_WINDOW,
  findEmails,
  findIbans,
  findIpv4s,
  findIpv6s,
  findPaymentCards,
  findPhones,
  findUsSsns,
  type FindSpans,
  ibanChecksumValid,
  luhnValid,
  parseIpv6,
  resolveOverlaps,
  type Span,
} from '../../src/masking/detectors';

/** The substrings a detector finds. */
const found = (find: FindSpans, text: string) => find(text).map((s) => text.slice(s.start, s.end));

/** Each case: a text and exactly what must be found in it ([] = nothing: a false positive otherwise). */
type Case = [text: string, expected: string[]];

describe('e-mail', () => {
  test.each<Case>([
    ['mail john.doe@example.com today', ['john.doe@example.com']],
    ['<a.b+tag@mail.example.co.uk>', ['a.b+tag@mail.example.co.uk']],
    ['ends a sentence: jane@example.org.', ['jane@example.org']],
    ['two: a@x.io, b_c@y.de', ['a@x.io', 'b_c@y.de']],
    ['IDN in ACE form: user@xn--bcher-kva.example', ['user@xn--bcher-kva.example']],
    ['mailto:ops@corp.example', ['ops@corp.example']],
    ['UPPER@EXAMPLE.COM', ['UPPER@EXAMPLE.COM']],
    ["o'brien@example.ie", ["o'brien@example.ie"]],
    ['in a URL https://example.com/users/jane@example.com', ['jane@example.com']],
    ['in a query ?to=jane@example.com&x=1', ['jane@example.com']],
    ['a file named after an address: jane@example.com.txt', ['jane@example.com']],
  ])('finds %j', (text, expected) => expect(found(findEmails, text)).toEqual(expected));

  test.each<Case>([
    ['a@b', []],
    ['follow @handle on social', []],
    ['foo@bar without a TLD', []],
    ['user@localhost', []],
    ['npm i lodash@4.17.21', []],
    ['@scope/pkg@1.2.3', []],
    ['icon@2x.png and logo@3x.webp', []],
    ['double dot: only the valid tail of a..b@example.com', ['b@example.com']],
    ['trailing dot in local: a.@example.com', []],
    ['domain label with a leading hyphen x@-bad.com', []],
    ['no local part: @example.com', []],
    ['numeric TLD: me@10.0.0.1', []],
  ])('does not find a whole address in %j', (text, expected) => expect(found(findEmails, text)).toEqual(expected));
});

describe('phone', () => {
  test.each<Case>([
    ['call +49 30 1234567 now', ['+49 30 1234567']],
    ['+1 (415) 555-2671', ['+1 (415) 555-2671']],
    ['+44 (0)20 7946 0958', ['+44 (0)20 7946 0958']],
    ['+44 20 7946 0958', ['+44 20 7946 0958']],
    ['+33 1 23 45 67 89', ['+33 1 23 45 67 89']],
    ['+4930123456', ['+4930123456']],
    ['tel:+14155552671', ['+14155552671']],
    ['+7 (495) 123-45-67', ['+7 (495) 123-45-67']],
    ['(030) 1234567', ['(030) 1234567']],
    ['(415) 555-2671', ['(415) 555-2671']],
    ['Tel. 030 1234567.', ['030 1234567']],
    ['030/1234567', ['030/1234567']],
    ['06 12 34 56 78', ['06 12 34 56 78']],
    ['0049 30 1234567', ['0049 30 1234567']],
    ['415-555-2671 or 415.555.2671', ['415-555-2671', '415.555.2671']],
    ['1-800-555-0199', ['1-800-555-0199']],
  ])('finds %j', (text, expected) => expect(found(findPhones, text)).toEqual(expected));

  test.each<Case>([
    ['date 2024-01-15', []],
    ['date and time 2024-01-15 12:30:45', []],
    ['15.01.2024 10:30', []],
    ['01/15/2024', []],
    ['a plain long id 123456789012', []],
    ['an id with leading zeros 000123456789', []],
    ['decimal 3.14159265358979', []],
    ['decimals 0.123456789 0.987654321', []],
    ['uuid 123e4567-e89b-12d3-a456-426614174000', []],
    ['all-digit uuid 12345678-1234-1234-1234-123456789012', []],
    ['vector [0.12, 0.5533, 0.9912, 0.1234]', []],
    ['vector 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9', []],
    ['space-separated integers 1024 2048 4096 8192', []],
    ['thousands 1.234.567.890', []],
    ['thousands 1 234 567 890', []],
    ['an address 192.168.100.200', []],
    ['version 10.0.19041.1', []],
    ['too few digits +49 30 123', []],
    ['too many digits +49 30 1234567 8901 2345', []],
    ['mixed separators 12.345 67.891', []],
    ['time 12:30:45', []],
    ['epoch millis 1718000000000', []],
  ])('finds no phone in %j', (text, expected) => expect(found(findPhones, text)).toEqual(expected));
});

describe('payment card', () => {
  test.each<Case>([
    ['visa 4111 1111 1111 1111', ['4111 1111 1111 1111']],
    ['visa 4111-1111-1111-1111.', ['4111-1111-1111-1111']],
    ['unseparated 4111111111111111', ['4111111111111111']],
    ['mastercard 5555 5555 5555 4444', ['5555 5555 5555 4444']],
    ['mastercard 2-series 2223003122003222', ['2223003122003222']],
    ['amex 3782 822463 10005', ['3782 822463 10005']],
    ['amex 378282246310005', ['378282246310005']],
    ['discover 6011 1111 1111 1117', ['6011 1111 1111 1117']],
    ['19 digits 4111 1111 1111 1111 003', ['4111 1111 1111 1111 003']],
  ])('finds %j', (text, expected) => expect(found(findPaymentCards, text)).toEqual(expected));

  test.each<Case>([
    ['Luhn-invalid 4111 1111 1111 1112', []],
    ['Luhn-invalid 4111111111111112', []],
    ['too short 4111 1111 111', []],
    ['epoch millis (starts with 1) 1718000000000', []],
    ['snowflake id 1234567890123456789', []],
    ['mixed separators 4111 1111-1111 1111', []],
    ['odd grouping 41 1111 1111 1111 11', []],
    ['inside a longer number 94111111111111111', []],
    ['decimal 4111111111111111.5', []],
  ])('finds no card in %j', (text, expected) => expect(found(findPaymentCards, text)).toEqual(expected));

  test('Luhn', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
  });
});

describe('IBAN', () => {
  test.each<Case>([
    ['DE89 3704 0044 0532 0130 00', ['DE89 3704 0044 0532 0130 00']],
    ['pay to DE89370400440532013000.', ['DE89370400440532013000']],
    ['GB82 WEST 1234 5698 7654 32 please', ['GB82 WEST 1234 5698 7654 32']],
    ['FR1420041010050500013M02606', ['FR1420041010050500013M02606']],
    ['NL91ABNA0417164300', ['NL91ABNA0417164300']],
    ['NO9386011117947 (shortest)', ['NO9386011117947']],
    ['followed by a word: DE89 3704 0044 0532 0130 00 ABCD', ['DE89 3704 0044 0532 0130 00']],
  ])('finds %j', (text, expected) => expect(found(findIbans, text)).toEqual(expected));

  test.each<Case>([
    ['bad checksum DE88 3704 0044 0532 0130 00', []],
    ['bad checksum DE89370400440532013001', []],
    ['lower case de89370400440532013000', []],
    ['too short DE89 3704', []],
    ['part of a word XDE89370400440532013000', []],
    ['a product code AB12CDEF34567890', []],
  ])('finds no IBAN in %j', (text, expected) => expect(found(findIbans, text)).toEqual(expected));

  test('mod-97', () => {
    expect(ibanChecksumValid('GB82WEST12345698765432')).toBe(true);
    expect(ibanChecksumValid('GB83WEST12345698765432')).toBe(false);
  });
});

describe('US SSN', () => {
  test.each<Case>([
    ['ssn 123-45-6789', ['123-45-6789']],
    ['(078-05-1120)', ['078-05-1120']],
    ['665-01-0001 and 899-99-9999', ['665-01-0001', '899-99-9999']],
  ])('finds %j', (text, expected) => expect(found(findUsSsns, text)).toEqual(expected));

  test.each<Case>([
    ['area 000: 000-12-3456', []],
    ['area 666: 666-12-3456', []],
    ['area 9xx: 900-12-3456 and 987-65-4321', []],
    ['group 00: 123-00-4567', []],
    ['serial 0000: 123-45-0000', []],
    ['no dashes 123456789', []],
    ['inside a longer run 1123-45-6789 or 123-45-67890', []],
    ['a date 2024-01-15', []],
  ])('finds no SSN in %j', (text, expected) => expect(found(findUsSsns, text)).toEqual(expected));
});

describe('IPv4', () => {
  test.each<Case>([
    ['from 192.168.1.10 at noon', ['192.168.1.10']],
    ['0.0.0.0 and 255.255.255.255', ['0.0.0.0', '255.255.255.255']],
    ['host 10.0.0.1:8080', ['10.0.0.1']],
    ['ends a sentence 8.8.8.8.', ['8.8.8.8']],
  ])('finds %j', (text, expected) => expect(found(findIpv4s, text)).toEqual(expected));

  test.each<Case>([
    ['octet over 255: 256.1.1.1 and 1.2.3.300', []],
    ['three parts 10.0.1', []],
    ['five parts 1.2.3.4.5', []],
    ['leading zeros 01.02.03.04', []],
    ['a version v1.2.3.4', []],
    ['decimal 3.14159', []],
  ])('finds no IPv4 in %j', (text, expected) => expect(found(findIpv4s, text)).toEqual(expected));
});

describe('IPv6', () => {
  test.each<Case>([
    ['full 2001:0db8:85a3:0000:0000:8a2e:0370:7334', ['2001:0db8:85a3:0000:0000:8a2e:0370:7334']],
    ['compressed 2001:db8::1 here', ['2001:db8::1']],
    ['loopback ::1', ['::1']],
    ['link-local fe80::1ff:fe23:4567:890a.', ['fe80::1ff:fe23:4567:890a']],
    ['bracketed [2001:db8::8a2e:370:7334]:443', ['2001:db8::8a2e:370:7334']],
    ['mapped ::ffff:192.0.2.128', ['::ffff:192.0.2.128']],
    ['trailing :: 2001:db8::', ['2001:db8::']],
  ])('finds %j', (text, expected) => expect(found(findIpv6s, text)).toEqual(expected));

  test.each<Case>([
    ['ratio a:b', []],
    ['time 12:30:45', []],
    ['time 12:30', []],
    ['MAC 00:1A:2B:3C:4D:5E', []],
    ['C++ std::vector', []],
    ['Ruby Foo::Bar', []],
    ['two :: compressions 1::2::3', []],
    ['group too long 12345::1', []],
    ['nine groups 1:2:3:4:5:6:7:8:9', []],
    ['bare ::', []],
    ['a hash abc:def:ghi', []],
  ])('finds no IPv6 in %j', (text, expected) => expect(found(findIpv6s, text)).toEqual(expected));

  test('parses to eight groups', () => {
    expect(parseIpv6('2001:db8::1')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6('::ffff:192.0.2.128')).toEqual([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0280]);
  });
});

describe('custom patterns', () => {
  test('finds matches and skips empty ones', () => {
    const find = customDetector('employee_id', 'EMP-\\d{6}');
    expect(found(find, 'EMP-123456 and EMP-654321, not EMP-12')).toEqual(['EMP-123456', 'EMP-654321']);
  });

  test('flags apply; g and y are implied or dropped', () => {
    expect(found(customDetector('x', 'emp-\\d+', 'iy'), 'EMP-1 emp-2')).toEqual(['EMP-1', 'emp-2']);
  });

  test('finds matches across the window edges of a long value', () => {
    const filler = 'x'.repeat(CUSTOM_WINDOW - 5);
    const text = `${filler} EMP-123456 ${'y'.repeat(CUSTOM_WINDOW * 2)} EMP-999999`;
    expect(found(customDetector('e', 'EMP-\\d{6}'), text)).toEqual(['EMP-123456', 'EMP-999999']);
  });
});

describe('overlapping spans', () => {
  const span = (start: number, end: number, detector: string): Span => ({ start, end, detector });

  test.each<[string, Span[], { start: number; end: number; winner: string }[]]>([
    ['disjoint spans stay apart', [span(0, 3, 'a'), span(5, 8, 'b')], [{ start: 0, end: 3, winner: 'a' }, { start: 5, end: 8, winner: 'b' }]],
    ['the longest span names the region', [span(0, 5, 'phone'), span(0, 10, 'payment_card')], [{ start: 0, end: 10, winner: 'payment_card' }]],
    ['a later, longer span names it too, and the region covers both', [span(0, 4, 'ipv4'), span(2, 10, 'ipv6')], [{ start: 0, end: 10, winner: 'ipv6' }]],
    ['equal length: the earliest wins', [span(3, 8, 'email'), span(0, 5, 'phone')], [{ start: 0, end: 8, winner: 'phone' }]],
    ['equal span: the priority list decides', [span(0, 5, 'phone'), span(0, 5, 'payment_card')], [{ start: 0, end: 5, winner: 'payment_card' }]],
    ['touching spans are separate', [span(0, 3, 'a'), span(3, 6, 'b')], [{ start: 0, end: 3, winner: 'a' }, { start: 3, end: 6, winner: 'b' }]],
  ])('%s', (_name, spans, expected) => {
    const regions = resolveOverlaps(spans).map((r) => ({ start: r.start, end: r.end, winner: r.winner.detector }));
    expect(regions).toEqual(expected);
    expect(resolveOverlaps([...spans].reverse()).map((r) => ({ start: r.start, end: r.end, winner: r.winner.detector }))).toEqual(expected);
  });
});

describe('detectors stay linear on hostile input', () => {
  test.each<[string, string]>([
    ['a long run of digits and spaces', '1 '.repeat(50_000)],
    ['a long hex-and-colon run followed by a letter', `${'ab:'.repeat(50_000)}g`],
    ['many @ signs', 'a@'.repeat(50_000)],
    ['a long local part without a domain', `${'a'.repeat(100_000)}@`],
    ['many IBAN-like starts', 'DE89 '.repeat(50_000)],
  ])('%s', (_name, text) => {
    const started = process.hrtime.bigint();
    for (const find of [findEmails, findPhones, findPaymentCards, findIbans, findUsSsns, findIpv4s, findIpv6s]) find(text);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2000);
  });
});

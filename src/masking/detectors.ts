/**
 * Finding personal data in a string: each detector is a pure function from text to spans. Every
 * detector is a bounded pattern or a linear scan followed by a check (Luhn, mod-97, octet ranges,
 * IPv6 grammar), so run time grows linearly with the text and false positives stay rare.
 */

export const DETECTOR_TYPES = ['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'ipv4', 'ipv6'] as const;
export type DetectorType = (typeof DETECTOR_TYPES)[number];

/** A half-open range [start, end) of `text` and what was found there. */
export interface Span {
  start: number;
  end: number;
  /** the detector's name: a DetectorType or a custom pattern's name */
  detector: string;
}

export type FindSpans = (text: string) => Span[];

// ---------------------------------------------------------------------------------------------
// e-mail

/**
 * The local-part characters addresses use in practice. RFC 5322 also allows / = ? & # and others,
 * but those chars join an address to the URL or text around it (https://x.com/?to=jane@x.com);
 * an address using them is still masked from the last such character on.
 */
// local part: [A-Za-z0-9._%+'-] (isLocalChar); domain: [A-Za-z0-9.-] (isDomainChar)
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const TLD = /^(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$/;
/** file extensions that follow an @ in names like icon@2x.png; none of them is a top-level domain */
const NOT_TLDS = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'bmp', 'tif', 'tiff', 'ico', 'heic', 'avif', 'json', 'txt', 'htm', 'html', 'css', 'js', 'mjs', 'cjs', 'ts', 'tsx', 'jsx', 'yaml', 'yml', 'lock', 'tgz']);

/**
 * address@domain.tld with a dotted domain and an alphabetic TLD: `a@b`, `@handle`, `foo@bar`,
 * `pkg@1.2.3` and `icon@2x.png` are not addresses. ASCII only (IDN domains in xn-- form).
 */
export function findEmails(text: string): Span[] {
  const spans: Span[] = [];
  let from = 0;
  for (let at = text.indexOf('@', from); at !== -1; at = text.indexOf('@', from)) {
    from = at + 1;
    let start = at;
    while (start > 0 && isLocalChar(text.charCodeAt(start - 1))) start--;
    // a local part never starts with a dot; "see:.john@x.com" starts at john
    while (start < at && text.charCodeAt(start) === DOT) start++;
    // "a..b@x.com" is no address, but b@x.com within it is
    for (let k = at - 2; k >= start; k--) {
      if (text.charCodeAt(k) === DOT && text.charCodeAt(k + 1) === DOT) {
        start = k + 2;
        break;
      }
    }
    if (start === at || text.charCodeAt(at - 1) === DOT || at - start > 64) continue;

    let end = at + 1;
    while (end < text.length && isDomainChar(text.charCodeAt(end))) end++;
    // sentence punctuation after the address is not part of it
    while (end > at + 1 && (text.charCodeAt(end - 1) === DOT || text.charCodeAt(end - 1) === HYPHEN)) end--;
    const labels = text.slice(at + 1, end).split('.');
    // jane@example.com.txt (a file named after an address) holds jane@example.com
    if (labels.length > 2 && NOT_TLDS.has((labels[labels.length - 1] as string).toLowerCase())) {
      end -= (labels.pop() as string).length + 1;
    }
    if (labels.length < 2 || end - at - 1 > 253 || !labels.every((l) => LABEL.test(l))) continue;
    const tld = labels[labels.length - 1] as string;
    if (!TLD.test(tld) || NOT_TLDS.has(tld.toLowerCase())) continue;
    spans.push({ start, end, detector: 'email' });
    from = end;
  }
  return spans;
}

const DOT = 0x2e;
const HYPHEN = 0x2d;

/** LOCAL_CHAR as a test on a char code: the backwards walk over a local part calls it per character. */
function isLocalChar(c: number): boolean {
  return isAsciiAlnum(c) || c === DOT || c === 0x5f || c === 0x25 || c === 0x2b || c === 0x27 || c === HYPHEN;
}

/** DOMAIN_CHAR as a test on a char code */
function isDomainChar(c: number): boolean {
  return isAsciiAlnum(c) || c === DOT || c === HYPHEN;
}

function isAsciiAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

// ---------------------------------------------------------------------------------------------
// phone

/**
 * The formats accepted, each bounded (so a scan is linear) and each ending where no digit, word
 * character or decimal continuation follows:
 *  1. international +CC: unseparated (+4930123456) or in groups (+1 (415) 555-2671, +44 (0)20 7946 0958)
 *  2. national with the area code in parentheses: (030) 1234567, (415) 555-2671
 *  3. national with a trunk 0: 030 1234567, 030/1234567, 06 12 34 56 78, 0049 30 1234567
 *  4. North American 3-3-4: 415-555-2671, 415.555.2671, 1-800-555-0199
 * After the first group the separators must agree (`-`, `.`, `/` or a space), which rules out
 * mixed runs such as "12.345 67.891". Unseparated national numbers are not found: they cannot be
 * told apart from ids.
 */
const GROUPS = (n: number) => `[ .\\/-]?\\d{2,8}(?:([ .\\/-])\\d{2,8}(?:\\${n}\\d{2,8}){0,4})?`;
const PHONE_SOURCE = [
  String.raw`(?<![\w.,\/+-])\+[1-9]\d{8,14}(?![\w@]|[.,:\/-]\w)`,
  String.raw`(?<![\w.,\/+-])\+[1-9]\d{0,2}(?:[ .-]?\(0\)[ .-]?|[ .-]?)(?:\(\d{1,5}\)|\d{1,5})${GROUPS(1)}(?![\w@]|[.,:\/-]\w)`,
  String.raw`(?<![\w.,\/+(-]|\d:)\(\d{2,5}\)${GROUPS(2)}(?![\w@]|[.,:\/-]\w)`,
  String.raw`(?<![\w.,\/+-]|\d:)0\d{1,4}[ .\/-]\d{2,8}(?:([ .\/-])\d{2,8}(?:\3\d{2,8}){0,4})?(?![\w@]|[.,:\/-]\w)`,
  String.raw`(?<![\w.,\/+-]|\d:)(?:1[ .-])?[2-9]\d{2}([ .-])\d{3}\4\d{4}(?![\w@]|[.,:\/-]\w)`,
].join('|');

const phonesAtNumbers = matcherAtNumbers(PHONE_SOURCE, '[+(]?\\d+');

export function findPhones(text: string): Span[] {
  if (countDigits(text, 9) < 9) return [];
  return phonesAtNumbers(text, isPhone).map((m) => ({ start: m.index, end: m.index + m[0].length, detector: 'phone' }));
}

function isPhone(candidate: string): boolean {
  const digits = countDigits(candidate, 16);
  return digits >= 9 && digits <= 15 && !looksLikeDottedQuad(candidate);
}

/** 10.20.30.40-like: four dot-separated groups of at most 3 digits, an address or version, not a phone */
function looksLikeDottedQuad(s: string): boolean {
  return /^\d{1,3}(?:\.\d{1,3}){3}$/.test(s);
}

// ---------------------------------------------------------------------------------------------
// payment card

/**
 * 13-19 digits starting with 2-6 (Visa, Mastercard, Amex, Discover, JCB, UnionPay, Diners), either
 * unseparated or in the printed groups (4-4-4-4[-1..3], 4-6-4/5) with one kind of separator, and
 * Luhn-valid. Cards of networks starting with 1, 7, 8 or 9 are not found; that keeps most numeric
 * ids (timestamps, snowflakes) out.
 */
const CARD_SOURCE = String.raw`(?<![\w.,/+-])(?:[2-6]\d{12,18}|[2-6]\d{3}([ -])\d{4,6}(?:\1\d{1,5}){1,3})(?![\w]|[.,/-]\d)`;

const cardsAtNumbers = matcherAtNumbers(CARD_SOURCE, '\\d+');

export function findPaymentCards(text: string): Span[] {
  if (countDigits(text, 13) < 13) return [];
  return cardsAtNumbers(text, isPaymentCard).map((m) => ({ start: m.index, end: m.index + m[0].length, detector: 'payment_card' }));
}

function isPaymentCard(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  const groups = candidate.split(/[ -]/).map((g) => g.length);
  return (groups.length === 1 || printedCardGroups(groups)) && luhnValid(digits);
}

function printedCardGroups(g: number[]): boolean {
  const fours = g.slice(0, -1).every((n) => n === 4) && (g[g.length - 1] as number) <= 4 && g.length >= 4;
  const amex = g.length === 3 && g[0] === 4 && g[1] === 6 && (g[2] === 4 || g[2] === 5);
  return fours || amex;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

// ---------------------------------------------------------------------------------------------
// IBAN

/** Country code, two check digits, then the account in groups of four (spaced or not); upper case. */
const IBAN_START = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}/g;

export function findIbans(text: string): Span[] {
  if (text.length < 15 || !/[A-Z]{2}\d{2}/.test(text)) return [];
  const spans: Span[] = [];
  let after = 0;
  for (const m of matchAll(IBAN_START, text)) {
    if (m.index < after) continue;
    const end = ibanEnd(text, m.index);
    if (end === undefined) continue;
    spans.push({ start: m.index, end, detector: 'iban' });
    after = end;
  }
  return spans;
}

/**
 * The longest valid IBAN starting at `start`, as its end offset. Reads at most 34 characters;
 * the mod-97 remainder of the account part is kept as it grows, so each candidate end costs four
 * more digits, not a new pass.
 */
function ibanEnd(text: string, start: number): number | undefined {
  const head = text.slice(start, start + 4);
  let remainder = 0;
  let best: number | undefined;
  let chars = 4;
  let sinceSpace = 4;
  let i = start + 4;
  while (i < text.length && chars < 34) {
    const c = text.charCodeAt(i);
    if (c === 32 && sinceSpace === 4 && isUpperAlnum(text.charCodeAt(i + 1))) {
      sinceSpace = 0;
      i++;
      continue;
    }
    if (!isUpperAlnum(c)) break;
    remainder = mod97Append(remainder, c);
    chars++;
    sinceSpace++;
    i++;
    // an IBAN ends where a word ends, and has 15-34 characters
    if (chars >= 15 && !isAlnum(text.charCodeAt(i)) && ibanRemainder(remainder, head) === 1) best = i;
  }
  return best;
}

function isUpperAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
}

function isAlnum(c: number): boolean {
  return isUpperAlnum(c) || (c >= 97 && c <= 122);
}

/** Appends one character (0-9 as itself, A-Z as 10-35) to a mod-97 remainder. */
function mod97Append(remainder: number, c: number): number {
  const value = c >= 65 ? c - 55 : c - 48;
  return value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
}

/** The remainder of account + country + check digits, and a check-digit range check. */
function ibanRemainder(accountRemainder: number, head: string): number {
  const check = Number(head.slice(2, 4));
  if (check < 2 || check > 98) return -1;
  let r = accountRemainder;
  for (let k = 0; k < 4; k++) r = mod97Append(r, head.charCodeAt(k));
  return r;
}

export function ibanChecksumValid(iban: string): boolean {
  let remainder = 0;
  for (let k = 4; k < iban.length; k++) remainder = mod97Append(remainder, iban.charCodeAt(k));
  return ibanRemainder(remainder, iban.slice(0, 4)) === 1;
}
// ---------------------------------------------------------------------------------------------
// US SSN

/** AAA-GG-SSSS without the ranges never issued: area 000, 666 and 9xx; group 00; serial 0000. */
const SSN = /(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w]|-\d)/g;

export function findUsSsns(text: string): Span[] {
  if (text.length < 11 || !text.includes('-')) return [];
  return [...matchAll(SSN, text)].map((m) => ({ start: m.index, end: m.index + m[0].length, detector: 'us_ssn' }));
}

// ---------------------------------------------------------------------------------------------
// IP addresses

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`(?<![\\w.])${OCTET}(?:\\.${OCTET}){3}(?![\\w]|\\.\\d)`, 'g');

export function findIpv4s(text: string): Span[] {
  if (text.length < 7 || !text.includes('.')) return [];
  return [...matchAll(IPV4, text)].map((m) => ({ start: m.index, end: m.index + m[0].length, detector: 'ipv4' }));
}

/**
 * Whole runs of hex digits, colons and dots not touching a word character; each is then parsed.
 * The lookahead-and-backreference reads a run atomically, so a long run never backtracks.
 */
const IPV6_RUN = /(?<![\w:.])(?=([0-9A-Fa-f:.]+))\1(?!\w)/g;

/**
 * Full (8 groups) and compressed (::) forms, with an embedded IPv4 tail. Times (12:30:45), ratios
 * (a:b), MAC addresses and `std::vector` are not addresses: they fail the grammar or touch a word.
 */
export function findIpv6s(text: string): Span[] {
  if (!text.includes(':')) return [];
  const spans: Span[] = [];
  for (const m of matchAll(IPV6_RUN, text)) {
    let candidate = m[0];
    if (!candidate.includes(':')) continue;
    // sentence punctuation after an address: "at fe80::1." or "use 2001:db8::1:"
    while (/[.]$/.test(candidate) || (/:$/.test(candidate) && !candidate.endsWith('::'))) candidate = candidate.slice(0, -1);
    if (parseIpv6(candidate) !== undefined) spans.push({ start: m.index, end: m.index + candidate.length, detector: 'ipv6' });
  }
  return spans;
}

/** The eight 16-bit groups of an IPv6 address, or undefined when the text is not one. */
export function parseIpv6(s: string): number[] | undefined {
  if (!/[0-9A-Fa-f]/.test(s) || s.length > 45) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string, last: boolean): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const groups = part.split(':');
    for (const [i, g] of groups.entries()) {
      if (last && i === groups.length - 1 && g.includes('.')) {
        const v4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`).test(g) ? g.split('.').map(Number) : undefined;
        if (!v4) return undefined;
        out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(g)) {
        out.push(parseInt(g, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  if (halves.length === 1) {
    const groups = parse(s, true);
    return groups?.length === 8 ? groups : undefined;
  }
  const head = parse(halves[0] as string, false);
  const tail = parse(halves[1] as string, true);
  if (!head || !tail || head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

// ---------------------------------------------------------------------------------------------
// all built-in detectors in one pass

/**
 * The spans of the built-in detectors of `types`, exactly as each find* function above would give
 * them (grouped by detector, in DETECTOR_TYPES order), found in one pass over the text instead of
 * one per detector. Every match of phone, card, SSN, IPv4 and IBAN starts at a run of digits (or a
 * "+" or "(" just before one, or two capitals just before one), so the text is walked once for its
 * digit runs and each detector's sticky pattern is tried only at the runs whose shape it can start
 * with: SSN at three digits and a "-", IPv4 at one to three digits and a ".", and so on. Most text
 * then costs one search for digits, and most strings none of the patterns. E-mail and IPv6 keep their
 * own scans, which start from indexOf("@") and a ":" check. The detectors above stay as the
 * reference: test/masking/detector-scanner.test.ts compares the two.
 */
export function builtinScanner(types: readonly DetectorType[]): FindSpans {
  const want = new Set(types);
  const email = want.has('email');
  const phone = want.has('phone');
  const card = want.has('payment_card');
  const iban = want.has('iban');
  const ssn = want.has('us_ssn');
  const ipv4 = want.has('ipv4');
  const ipv6 = want.has('ipv6');
  const numbers = phone || card || iban || ssn || ipv4;
  return (text) => {
    // each detector appends to the list in turn: grouped by detector, in DETECTOR_TYPES order
    const spans = email ? findEmails(text) : [];
    // the shortest match of a number detector is an IPv4 address of seven characters
    if (numbers && text.length >= 7) {
      const runs = digitRuns(text);
      if (runs.bounds.length > 0) {
        if (phone && runs.digits >= 9) phonesAt(text, runs, spans);
        if (card && runs.digits >= 13) cardsAt(text, runs, spans);
        if (iban && text.length >= 15) ibansAt(text, runs, spans);
        if (ssn) sticky(text, runs, SSN_AT, ssnCanStart, 'us_ssn', spans);
        if (ipv4) sticky(text, runs, IPV4_AT, ipv4CanStart, 'ipv4', spans);
      }
    }
    if (ipv6 && text.includes(':')) for (const s of findIpv6s(text)) spans.push(s);
    return spans;
  };
}

/** Maximal runs of ASCII digits, and how many digits there are in all. */
interface Runs {
  /** start, end (exclusive), start, end, ... */
  bounds: number[];
  digits: number;
}

function digitRuns(text: string): Runs {
  const bounds: number[] = [];
  let digits = 0;
  // the regex skips to the next digit in native code, faster than a loop over every character
  DIGIT.lastIndex = 0;
  while (DIGIT.test(text)) {
    const start = DIGIT.lastIndex - 1;
    let end = start + 1;
    let c = text.charCodeAt(end);
    while (c <= 57 && c >= 48) c = text.charCodeAt(++end);
    bounds.push(start, end);
    digits += end - start;
    DIGIT.lastIndex = end;
  }
  return { bounds, digits };
}

// The patterns above, sticky: tried at one position. JavaScript runs one call at a time and every use
// sets lastIndex first, so nothing carries over between calls.
const DIGIT = /[0-9]/g;
const PHONE_AT = new RegExp(PHONE_SOURCE, 'y');
const CARD_AT = new RegExp(CARD_SOURCE, 'y');
const SSN_AT = new RegExp(SSN.source, 'y');
const IPV4_AT = new RegExp(IPV4.source, 'y');

const isSeparator = (c: number, slash: boolean) => c === 32 || c === DOT || c === HYPHEN || (slash && c === 0x2f);

/**
 * Phone matches start where `[+(]?\d+` does (findPhones): at a digit run, or at the "+" or "(" just
 * before it. A match starting at a digit is the trunk-0 form (0 and 1-4 digits, then a separator) or
 * the North American one ("1" and a separator, or three digits from 2 and a separator).
 */
function phonesAt(text: string, all: Runs, spans: Span[]): void {
  let after = 0;
  const runs = all.bounds;
  for (let r = 0; r < runs.length; r += 2) {
    const s = runs[r] as number;
    const e = runs[r + 1] as number;
    const before = text.charCodeAt(s - 1);
    let at = s;
    if ((before === 0x2b || before === 0x28) && s - 1 >= after) at = s - 1;
    else if (s < after) continue;
    else {
      const first = text.charCodeAt(s);
      const next = text.charCodeAt(e);
      const length = e - s;
      // the group after the separator: 2-8 digits (trunk), three digits from 2 after a leading "1", three after an area code
      const trunk = first === 48 && length >= 2 && length <= 5 && isSeparator(next, true) && nextRun(runs, r, 2, 8);
      const american =
        isSeparator(next, false) && ((length === 1 && first === 49 && nextRun(runs, r, 3, 3) && text.charCodeAt(e + 1) >= 50) || (length === 3 && first >= 50 && nextRun(runs, r, 3, 3)));
      if (!trunk && !american) continue;
    }
    PHONE_AT.lastIndex = at;
    const m = PHONE_AT.exec(text);
    if (m === null || !isPhone(m[0])) continue;
    spans.push({ start: at, end: at + m[0].length, detector: 'phone' });
    after = at + m[0].length;
  }
}

/** Cards start at a run from 2 to 6: 13-19 digits unseparated, or a group of four and a space or "-". */
function cardsAt(text: string, all: Runs, spans: Span[]): void {
  let after = 0;
  const runs = all.bounds;
  for (let r = 0; r < runs.length; r += 2) {
    const s = runs[r] as number;
    if (s < after) continue;
    const e = runs[r + 1] as number;
    const first = text.charCodeAt(s);
    if (first < 50 || first > 54) continue;
    const length = e - s;
    if (!((length >= 13 && length <= 19) || (length === 4 && (text.charCodeAt(e) === 32 || text.charCodeAt(e) === HYPHEN) && nextRun(runs, r, 4, 6)))) continue;
    CARD_AT.lastIndex = s;
    const m = CARD_AT.exec(text);
    if (m === null || !isPaymentCard(m[0])) continue;
    spans.push({ start: s, end: s + m[0].length, detector: 'payment_card' });
    after = s + m[0].length;
  }
}

/** An IBAN starts with two capitals (not preceded by a letter or digit) right before a run of two digits or more. */
function ibansAt(text: string, all: Runs, spans: Span[]): void {
  let after = 0;
  const runs = all.bounds;
  for (let r = 0; r < runs.length; r += 2) {
    const s = runs[r] as number;
    const start = s - 2;
    if (start < after || (runs[r + 1] as number) - s < 2) continue;
    if (!isUpper(text.charCodeAt(s - 1)) || !isUpper(text.charCodeAt(start)) || isAsciiAlnum(text.charCodeAt(start - 1))) continue;
    const end = ibanEnd(text, start);
    if (end === undefined) continue;
    spans.push({ start, end, detector: 'iban' });
    after = end;
  }
}

function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

/** AAA-GG-: an SSN starts at a run of exactly three digits, "-", two digits (its lookbehind rules out a digit before). */
function ssnCanStart(text: string, runs: readonly number[], r: number): boolean {
  const e = runs[r + 1] as number;
  return e - (runs[r] as number) === 3 && text.charCodeAt(e) === HYPHEN && nextRun(runs, r, 2, 2);
}

/** An IPv4 address is four runs of one to three digits, each after the first following a "." */
function ipv4CanStart(text: string, runs: readonly number[], r: number): boolean {
  if ((runs[r + 1] as number) - (runs[r] as number) > 3) return false;
  for (let k = r; k < r + 6; k += 2) if (text.charCodeAt(runs[k + 1] as number) !== DOT || !nextRun(runs, k, 1, 3)) return false;
  return true;
}

/** Whether run r is followed, after exactly one character, by a run of `min` to `max` digits. */
function nextRun(runs: readonly number[], r: number, min: number, max: number): boolean {
  const start = runs[r + 2];
  if (start !== (runs[r + 1] as number) + 1) return false;
  const length = (runs[r + 3] as number) - start;
  return length >= min && length <= max;
}

/** The matches of a global pattern whose matches start at a digit run: tried at the runs `canStart` allows. */
function sticky(text: string, all: Runs, re: RegExp, canStart: (text: string, runs: readonly number[], r: number) => boolean, detector: string, spans: Span[]): void {
  let after = 0;
  const runs = all.bounds;
  for (let r = 0; r < runs.length; r += 2) {
    const s = runs[r] as number;
    if (s < after || !canStart(text, runs, r)) continue;
    re.lastIndex = s;
    const m = re.exec(text);
    if (m === null) continue;
    spans.push({ start: s, end: s + m[0].length, detector });
    after = s + m[0].length;
  }
}

// ---------------------------------------------------------------------------------------------
// custom patterns

/**
 * Custom patterns run on windows of at most this many characters, overlapping by CUSTOM_OVERLAP,
 * so that one exec never sees more input than this: it caps how long a badly written pattern can
 * backtrack on one value. A match longer than the overlap that crosses a window edge can be missed.
 */
export const CUSTOM_WINDOW = 4096;
export const CUSTOM_OVERLAP = 256;

/** A detector for an operator's pattern; zero-length matches are skipped. */
export function customDetector(name: string, pattern: string, flags = ''): FindSpans {
  const re = new RegExp(pattern, `${flags.replace(/[gy]/g, '')}g`);
  return (text) => {
    const spans: Span[] = [];
    let covered = 0;
    for (let from = 0; from < text.length; from += CUSTOM_WINDOW - CUSTOM_OVERLAP) {
      const window = text.slice(from, from + CUSTOM_WINDOW);
      for (const m of matchAll(re, window)) {
        const start = from + m.index;
        // the overlap is read twice: a match found in the previous window is not reported again
        if (m[0].length === 0 || start < covered) continue;
        spans.push({ start, end: start + m[0].length, detector: name });
        covered = start + m[0].length;
      }
      if (from + CUSTOM_WINDOW >= text.length) break;
    }
    return spans;
  };
}

// ---------------------------------------------------------------------------------------------

/** Each finds only text holding a digit, an "@" or a ":": the masker skips other strings without calling them (keep it so). */
export const BUILTIN_DETECTORS: Readonly<Record<DetectorType, FindSpans>> = Object.freeze({
  email: findEmails,
  phone: findPhones,
  payment_card: findPaymentCards,
  iban: findIbans,
  us_ssn: findUsSsns,
  ipv4: findIpv4s,
  ipv6: findIpv6s,
});

/** When two spans are equally long and start together, the earlier type in this list wins. */
const PRIORITY: readonly string[] = ['payment_card', 'iban', 'us_ssn', 'email', 'phone', 'ipv6', 'ipv4'];

/** A masked region: `winner` is the span whose type names it; `start`/`end` cover every span it absorbed. */
export interface Region {
  start: number;
  end: number;
  winner: Span;
}

/**
 * Overlapping spans become one region covering all of them, so no character any detector flagged
 * stays clear. The region is named after its longest span, then the earliest, then by PRIORITY
 * (custom patterns after the built-ins, in the order given), which keeps the outcome deterministic.
 */
export function resolveOverlaps(spans: readonly Span[], order: readonly string[] = PRIORITY): Region[] {
  // most masked strings hold one finding
  if (spans.length === 1) {
    const only = spans[0] as Span;
    return [{ start: only.start, end: only.end, winner: only }];
  }
  const rank = (s: Span) => {
    const i = order.indexOf(s.detector);
    return i === -1 ? order.length : i;
  };
  const better = (a: Span, b: Span) =>
    a.end - a.start !== b.end - b.start ? a.end - a.start > b.end - b.start : a.start !== b.start ? a.start < b.start : rank(a) < rank(b);
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end || rank(a) - rank(b));
  const regions: Region[] = [];
  for (const span of sorted) {
    const last = regions[regions.length - 1];
    if (last && span.start < last.end) {
      last.end = Math.max(last.end, span.end);
      if (better(span, last.winner)) last.winner = span;
    } else {
      regions.push({ start: span.start, end: span.end, winner: span });
    }
  }
  return regions;
}

/** The number of ASCII digits in `text`, counting no further than `enough`: a cheap test before a pattern runs. */
function countDigits(text: string, enough: number): number {
  let n = 0;
  for (let i = 0; i < text.length && n < enough; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

/**
 * Matches of a pattern tried only where `starts` finds the beginning of a number, rather than at
 * every character: the phone and card patterns are long alternations, and most text has few numbers.
 * The two regexes are compiled once per detector (building them for every string cost a sixth of
 * the masking time); their lastIndex is set before every use and JavaScript runs one call at a
 * time, so nothing carries over from one call to the next.
 */
function matcherAtNumbers(source: string, starts: string): (text: string, accept: (candidate: string) => boolean) => RegExpExecArray[] {
  const sticky = new RegExp(source, 'y');
  const number = new RegExp(starts, 'g');
  return (text, accept) => {
    number.lastIndex = 0;
    const found: RegExpExecArray[] = [];
    for (let start = number.exec(text); start !== null; start = number.exec(text)) {
      sticky.lastIndex = start.index;
      const m = sticky.exec(text);
      if (m === null || !accept(m[0])) continue;
      found.push(m);
      number.lastIndex = Math.max(number.lastIndex, start.index + m[0].length);
    }
    return found;
  };
}

/** Every match of a global regex; String#matchAll works on a copy, so no lastIndex is shared. */
function matchAll(re: RegExp, text: string): IterableIterator<RegExpExecArray & { index: number }> {
  return text.matchAll(re) as IterableIterator<RegExpExecArray & { index: number }>;
}

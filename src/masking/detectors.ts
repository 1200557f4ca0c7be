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
const LOCAL_CHAR = /[A-Za-z0-9._%+'-]/;
const DOMAIN_CHAR = /[A-Za-z0-9.-]/;
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
    while (start > 0 && LOCAL_CHAR.test(text[start - 1] as string)) start--;
    // a local part never starts with a dot; "see:.john@x.com" starts at john
    while (start < at && text[start] === '.') start++;
    // "a..b@x.com" is no address, but b@x.com within it is
    const doubled = text.slice(start, at).lastIndexOf('..');
    if (doubled !== -1) start += doubled + 2;
    const local = text.slice(start, at);
    if (local === '' || local.endsWith('.') || local.length > 64) continue;

    let end = at + 1;
    while (end < text.length && DOMAIN_CHAR.test(text[end] as string)) end++;
    // sentence punctuation after the address is not part of it
    while (end > at + 1 && (text[end - 1] === '.' || text[end - 1] === '-')) end--;
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

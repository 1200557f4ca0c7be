import { createHmac } from 'node:crypto';
import type { MaskStyle } from './config';
import { parseIpv6 } from './detectors';

/**
 * What a masked value looks like. Every output is chosen so that no detector finds personal data
 * in it again, and so that a masked record is still valid for the database's client library.
 *
 * | type          | placeholder      | partial                    | token                  |
 * |---------------|------------------|----------------------------|------------------------|
 * | email         | [EMAIL]          | j***@example.com           | tok_email_<20 hex>     |
 * | phone         | [PHONE]          | +** ** *****67 (last 2)    | tok_phone_<20 hex>     |
 * | payment_card  | [PAYMENT_CARD]   | **** **** **** 1111        | tok_payment_card_<hex> |
 * | iban          | [IBAN]           | DE** **** **** **** **30 00| tok_iban_<hex>         |
 * | us_ssn        | [US_SSN]         | ***-**-6789                | tok_us_ssn_<hex>       |
 * | ipv4          | [IPV4]           | 192.168.*.*                | tok_ipv4_<hex>         |
 * | ipv6          | [IPV6]           | 2001:db8:85a3:*:*:*:*:*    | tok_ipv6_<hex>         |
 * | custom `name` | [NAME]           | E*** (first character)     | tok_name_<hex>         |
 * | field         | [REDACTED]       | J*** (first character)     | tok_field_<hex>        |
 * A designated field's value that is not a string (number, boolean) becomes [REDACTED], or its token
 * under the token style; null stays null.
 */

/** Keyed, deterministic: the same value and key give the same token, so masked values stay joinable. */
export type Tokenize = (label: string, normalized: string) => string;

export const TOKEN_HEX_CHARS = 20;
/** Keys shorter than this are refused: the token is only as unguessable as the key. */
export const MIN_TOKEN_KEY_BYTES = 32;

/** HMAC-SHA256 over a domain-separated value, cut to 80 bits: joinable, not reversible without the key. */
export function createTokenizer(key: Buffer): Tokenize {
  if (key.length < MIN_TOKEN_KEY_BYTES) {
    throw new Error(`the masking token key has ${key.length} bytes; use at least ${MIN_TOKEN_KEY_BYTES} random bytes`);
  }
  const ownKey = Buffer.from(key);
  return (label, normalized) => {
    const mac = createHmac('sha256', ownKey).update('vecgate-mask-token-v1\0').update(normalized, 'utf8').digest('hex');
    return `tok_${label}_${mac.slice(0, TOKEN_HEX_CHARS)}`;
  };
}

export interface StyleContext {
  tokenize?: Tokenize;
}

export const FIELD_PLACEHOLDER = '[REDACTED]';

/** The masked form of a value a detector (built-in or custom) found. */
export function maskDetected(detector: string, value: string, style: MaskStyle, ctx: StyleContext): string {
  switch (style) {
    case 'placeholder':
      return placeholderFor(detector);
    case 'partial':
      return partialFor(detector, value);
    case 'token':
      return token(ctx, detector, normalizeFor(detector, value));
  }
}

/**
 * The masked form of one leaf of a designated field. Strings keep their type; numbers and booleans
 * become strings (the JSON stays valid, the client library reads a string); null stays null.
 */
export function maskFieldLeaf(value: unknown, style: MaskStyle, ctx: StyleContext): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'string') {
    if (style === 'placeholder') return FIELD_PLACEHOLDER;
    if (style === 'partial') return firstCharacter(value);
    return token(ctx, 'field', value);
  }
  if (style === 'token') return token(ctx, 'field', JSON.stringify(value));
  return FIELD_PLACEHOLDER;
}

/**
 * The masked form of a number or boolean leaf given as its JSON source text: the exact digits are
 * what the token is made of, so integers beyond 2^53 give their own tokens.
 */
export function maskFieldScalar(raw: string, style: MaskStyle, ctx: StyleContext): string {
  return style === 'token' ? token(ctx, 'field', raw) : FIELD_PLACEHOLDER;
}

export function placeholderFor(detector: string): string {
  return `[${detector.toUpperCase()}]`;
}

function token(ctx: StyleContext, label: string, normalized: string): string {
  if (!ctx.tokenize) throw new Error('the token style needs a key, and none was given to compileMasking');
  return ctx.tokenize(label, normalized);
}

export function partialFor(detector: string, value: string): string {
  switch (detector) {
    case 'email': {
      const at = value.lastIndexOf('@');
      return `${value.slice(0, 1)}***@${value.slice(at + 1)}`;
    }
    case 'phone':
      return keepLastDigits(value, 2);
    case 'payment_card':
      return `**** **** **** ${lastDigits(value, 4)}`;
    case 'iban':
      return maskIban(value);
    case 'us_ssn':
      return `***-**-${value.slice(-4)}`;
    case 'ipv4': {
      const [a, b] = value.split('.');
      return `${a}.${b}.*.*`;
    }
    case 'ipv6': {
      const groups = parseIpv6(value);
      return groups ? `${groups.slice(0, 3).map((g) => g.toString(16)).join(':')}:*:*:*:*:*` : placeholderFor('ipv6');
    }
    default:
      return firstCharacter(value);
  }
}

/** Equal values must give equal tokens however they were written: +49 30 1234567 and +49-30-1234567. */
function normalizeFor(detector: string, value: string): string {
  switch (detector) {
    case 'email':
      return value.toLowerCase();
    case 'phone':
      return (value.trimStart().startsWith('+') ? '+' : '') + value.replace(/\D/g, '');
    case 'payment_card':
    case 'us_ssn':
      return value.replace(/\D/g, '');
    case 'iban':
      return value.replace(/ /g, '').toUpperCase();
    case 'ipv6': {
      const groups = parseIpv6(value);
      return groups ? groups.map((g) => g.toString(16)).join(':') : value.toLowerCase();
    }
    default:
      return value;
  }
}

// The partial formats below walk the value once by char code: they run for every value masked.

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

function keepLastDigits(value: string, keep: number): string {
  let total = 0;
  for (let i = 0; i < value.length; i++) if (isDigitCode(value.charCodeAt(i))) total++;
  let seen = 0;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    out += isDigitCode(c) && ++seen <= total - keep ? '*' : value[i];
  }
  return out;
}

/** The last `n` digits of a value, e.g. of a card number written with separators. */
function lastDigits(value: string, n: number): string {
  let out = '';
  for (let i = value.length - 1; i >= 0 && out.length < n; i--) if (isDigitCode(value.charCodeAt(i))) out = value[i] + out;
  return out;
}

/** DE89 3704 0044 0532 0130 00 -> DE** **** **** **** **30 00: the country and the last four stay. */
function maskIban(value: string): string {
  let total = 0;
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) !== 32) total++;
  let seen = 0;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (isDigitCode(c) || (c >= 65 && c <= 90)) {
      seen++;
      out += seen <= 2 || seen > total - 4 ? value[i] : '*';
    } else {
      out += value[i];
    }
  }
  return out;
}

/** The first character (a whole code point) and three stars; short values become only stars. */
function firstCharacter(value: string): string {
  const first = String.fromCodePoint(value.codePointAt(0) ?? 42);
  return value.length <= 3 ? '***' : `${first}***`;
}

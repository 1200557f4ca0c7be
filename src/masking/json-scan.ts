/**
 * A strict JSON scanner that keeps where every value sits in the source bytes, so masking can
 * splice replacements into the original text instead of re-serialising it: numbers stay the exact
 * digits the database sent (integers of any size), and arrays of numbers (vectors) are validated
 * in one tight pass without building a node per number.
 *
 * Pure: bytes in, a tree of spans out. The caller checks UTF-8 validity first (node:buffer isUtf8);
 * anything that is not RFC 8259 JSON throws a JsonScanError.
 */

/** Byte offsets in the source: [start, end), strings with their quotes. */
interface Spanned {
  start: number;
  end: number;
}

export interface JsonString extends Spanned {
  kind: 'string';
  /** true when the literal holds escapes (decoded by JSON.parse, otherwise sliced) */
  escaped: boolean;
  /** true when the literal holds a digit, "@", ":" or an escape: the only strings the built-in detectors can find anything in */
  marked: boolean;
}
export interface JsonNumber extends Spanned {
  kind: 'number';
}
export interface JsonBoolean extends Spanned {
  kind: 'boolean';
}
export interface JsonNull extends Spanned {
  kind: 'null';
}
/** An array holding only numbers (a vector): validated, its elements not built. `expand` gives them. */
export interface JsonNumbers extends Spanned {
  kind: 'numbers';
}
export interface JsonArray extends Spanned {
  kind: 'array';
  items: JsonNode[];
}
export interface JsonObject extends Spanned {
  kind: 'object';
  /** in source order; a key may repeat (JSON allows it) */
  members: { key: JsonString; value: JsonNode }[];
}
export type JsonNode = JsonString | JsonNumber | JsonBoolean | JsonNull | JsonNumbers | JsonArray | JsonObject;

export class JsonScanError extends Error {}
/** Nesting beyond the bound: valid JSON perhaps, but refused rather than walked. */
export class JsonTooDeepError extends JsonScanError {}

export interface ScannedJson {
  source: Buffer;
  root: JsonNode;
}

/** Deeper nesting than this is refused rather than walked. */
export const MAX_SCAN_DEPTH = 256;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const AT = 0x40;

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= ZERO && c <= NINE;
// one comparison for the usual case (a digit, a sign, a quote, a bracket)
const isSpace = (c: number | undefined): boolean => c !== undefined && c <= 0x20 && (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09);

/** Scans a whole JSON text. `maxDepth` bounds arrays and objects nested in each other. */
export function scanJson(source: Buffer, maxDepth = MAX_SCAN_DEPTH): ScannedJson {
  const scanner = new Scanner(source, maxDepth, true);
  const root = scanner.value(0);
  scanner.skipSpace();
  if (scanner.at !== source.length) scanner.fail('unexpected text after the JSON value');
  return { source, root };
}

/** The elements of a `numbers` node, each with its own span (for masking a vector as a designated field). */
export function expand(json: ScannedJson, node: JsonNumbers): JsonArray {
  const scanner = new Scanner(json.source, MAX_SCAN_DEPTH, false);
  scanner.at = node.start;
  return scanner.value(0) as JsonArray;
}

/** The text of a string node. */
export function stringValue(json: ScannedJson, node: JsonString): string {
  if (!node.escaped) return json.source.toString('utf8', node.start + 1, node.end - 1);
  return JSON.parse(json.source.toString('utf8', node.start, node.end)) as string;
}

/** The source text of any node, e.g. a number's exact digits. */
export function rawText(json: ScannedJson, node: JsonNode): string {
  return json.source.toString('utf8', node.start, node.end);
}

/** The value of the last member named `key` (as JSON.parse would keep), or undefined. */
export function member(json: ScannedJson, object: JsonObject, key: string): JsonNode | undefined {
  let found: JsonNode | undefined;
  for (const m of object.members) if (keyIs(json, m.key, key)) found = m.value;
  return found;
}

/** Compares a key with a plain string without decoding keys that cannot match (`bytes`: the key's UTF-8 length). */
export function keyIs(json: ScannedJson, node: JsonString, key: string, bytes = Buffer.byteLength(key)): boolean {
  if (!node.escaped && node.end - node.start - 2 !== bytes) return false;
  return stringValue(json, node) === key;
}

class Scanner {
  at = 0;
  private readonly view: DataView;

  constructor(
    private readonly src: Buffer,
    private readonly maxDepth: number,
    /** try the vector fast path for arrays that start with a number */
    private readonly fastNumbers: boolean,
  ) {
    this.view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  }

  fail(what: string): never {
    throw new JsonScanError(`${what} at byte ${this.at}`);
  }

  skipSpace(): void {
    const b = this.src;
    let i = this.at;
    while (isSpace(b[i])) i++;
    this.at = i;
  }

  value(depth: number): JsonNode {
    this.skipSpace();
    const c = this.src[this.at];
    switch (c) {
      case QUOTE:
        return this.string();
      case OPEN_BRACE:
        return this.object(depth + 1);
      case OPEN_BRACKET:
        return this.array(depth + 1);
      case 0x74: // t
        return this.literal('true', 'boolean');
      case 0x66: // f
        return this.literal('false', 'boolean');
      case 0x6e: // n
        return this.literal('null', 'null');
      default:
        if (c === MINUS || isDigit(c)) {
          const start = this.at;
          this.at = this.number(start);
          return { kind: 'number', start, end: this.at };
        }
        return this.fail(c === undefined ? 'unexpected end of JSON' : 'unexpected character');
    }
  }

  private literal(word: 'true' | 'false' | 'null', kind: 'boolean' | 'null'): JsonBoolean | JsonNull {
    const start = this.at;
    for (let k = 0; k < word.length; k++) if (this.src[start + k] !== word.charCodeAt(k)) this.fail(`invalid literal (expected ${word})`);
    this.at = start + word.length;
    return { kind, start, end: this.at } as JsonBoolean | JsonNull;
  }

  /** RFC 8259 number grammar; returns the index after it. */
  private number(from: number): number {
    const end = numberEnd(this.src, this.view, from);
    if (end < 0) {
      this.at = -end - 1;
      this.fail('invalid number');
    }
    return end;
  }

  private string(): JsonString {
    const b = this.src;
    const start = this.at;
    let i = start + 1;
    let escaped = false;
    let marked = false;
    for (;;) {
      const c = b[i];
      if (c === QUOTE) break;
      if ((c !== undefined && c >= ZERO && c <= COLON) || c === AT) marked = true;
      if (c === undefined) {
        this.at = i;
        this.fail('unterminated string');
      }
      if (c < 0x20) {
        this.at = i;
        this.fail('control character in a string');
      }
      if (c === BACKSLASH) {
        escaped = true;
        marked = true;
        const e = b[i + 1];
        if (e === 0x75) {
          // \uXXXX: four hex digits (lone surrogates are legal JSON; JSON.parse decodes them)
          for (let k = 2; k < 6; k++) {
            if (!isHex(b[i + k])) {
              this.at = i;
              this.fail('invalid \\u escape');
            }
          }
          i += 6;
          continue;
        }
        if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          i += 2;
          continue;
        }
        this.at = i;
        this.fail('invalid escape');
      }
      i++;
    }
    this.at = i + 1;
    return { kind: 'string', start, end: this.at, escaped, marked };
  }

  private enter(depth: number): void {
    if (depth > this.maxDepth) throw new JsonTooDeepError(`JSON nested deeper than ${this.maxDepth} levels at byte ${this.at}`);
  }

  private object(depth: number): JsonObject {
    this.enter(depth);
    const b = this.src;
    const start = this.at;
    this.at++;
    const members: JsonObject['members'] = [];
    this.skipSpace();
    if (b[this.at] === CLOSE_BRACE) {
      this.at++;
      return { kind: 'object', start, end: this.at, members };
    }
    for (;;) {
      this.skipSpace();
      if (b[this.at] !== QUOTE) this.fail('expected a string key');
      const key = this.string();
      this.skipSpace();
      if (b[this.at] !== COLON) this.fail('expected ":"');
      this.at++;
      members.push({ key, value: this.value(depth) });
      this.skipSpace();
      const c = b[this.at];
      this.at++;
      if (c === COMMA) continue;
      if (c === CLOSE_BRACE) return { kind: 'object', start, end: this.at, members };
      this.at--;
      this.fail('expected "," or "}"');
    }
  }

  private array(depth: number): JsonArray | JsonNumbers {
    this.enter(depth);
    const b = this.src;
    const start = this.at;
    if (this.fastNumbers) {
      const end = this.numbersOnly(start);
      if (end !== undefined) {
        this.at = end;
        return { kind: 'numbers', start, end };
      }
      this.at = start;
    }
    this.at++;
    const items: JsonNode[] = [];
    this.skipSpace();
    if (b[this.at] === CLOSE_BRACKET) {
      this.at++;
      return { kind: 'array', start, end: this.at, items };
    }
    for (;;) {
      items.push(this.value(depth));
      this.skipSpace();
      const c = b[this.at];
      this.at++;
      if (c === COMMA) continue;
      if (c === CLOSE_BRACKET) return { kind: 'array', start, end: this.at, items };
      this.at--;
      this.fail('expected "," or "]"');
    }
  }

  /**
   * The vector fast path: `[` numbers separated by commas `]`, nothing else. Returns the index after
   * the closing bracket, or undefined when the array holds anything else (then it is scanned in full,
   * which also reports any error in it).
   */
  private numbersOnly(open: number): number | undefined {
    const b = this.src;
    let i = open + 1;
    while (isSpace(b[i])) i++;
    if (b[i] !== MINUS && !isDigit(b[i])) return undefined;
    const view = this.view;
    const n = b.length;
    for (;;) {
      i = fractionEnd(b, view, i, n);
      if (i < 0) return undefined;
      let c = b[i];
      // "0.1,0.2": the separator with no space around it, as databases write vectors
      if (c === COMMA && !isSpace(b[i + 1])) {
        i++;
        continue;
      }
      while (isSpace(c)) c = b[++i];
      if (c === COMMA) {
        i++;
        while (isSpace(b[i])) i++;
        continue;
      }
      if (c === CLOSE_BRACKET) return i + 1;
      return undefined;
    }
  }
}

/** "0." and "-0." as the first bytes of a little-endian word: most vector elements lie in (-1, 1). */
const ZERO_POINT = 0x2e30;
const MINUS_ZERO_POINT = 0x2e302d;

/**
 * numberEnd, with a shortcut for the usual element of a vector: "0." or "-0." then digits, no
 * exponent. The shortcut reads the first three bytes as one word; anything else (and an exponent
 * after the digits) goes the general way from the number's start, so both accept the same text.
 */
function fractionEnd(b: Buffer, view: DataView, i: number, n: number): number {
  if (i + 4 <= n) {
    const w = view.getUint32(i, true);
    const digits = (w & 0xffff) === ZERO_POINT ? i + 2 : (w & 0xffffff) === MINUS_ZERO_POINT ? i + 3 : -1;
    if (digits !== -1) {
      const end = digitsEnd(b, view, digits, n);
      const c = b[end];
      if (end > digits && c !== 0x65 && c !== 0x45) return end;
    }
  }
  return numberEnd(b, view, i);
}

/**
 * The index after the RFC 8259 number at `i`, or -(index of the offending byte) - 1. Digit runs are
 * read four bytes at a time while all four are digits: vectors are mostly digits.
 */
function numberEnd(b: Buffer, view: DataView, i: number): number {
  const n = b.length;
  let c = b[i];
  if (c === MINUS) c = b[++i];
  if (c === ZERO) c = b[++i];
  else if (c !== undefined && c >= 0x31 && c <= NINE) {
    i = digitsEnd(b, view, i + 1, n);
    c = b[i];
  } else return -i - 1;
  if (c === DOT) {
    c = b[++i];
    if (c === undefined || c < ZERO || c > NINE) return -i - 1;
    i = digitsEnd(b, view, i + 1, n);
    c = b[i];
  }
  if (c === 0x65 || c === 0x45) {
    c = b[++i];
    if (c === PLUS || c === MINUS) c = b[++i];
    if (c === undefined || c < ZERO || c > NINE) return -i - 1;
    i = digitsEnd(b, view, i + 1, n);
  }
  return i;
}

function digitsEnd(b: Buffer, view: DataView, i: number, n: number): number {
  while (i + 4 <= n) {
    const x = view.getUint32(i, true);
    if ((((x - 0x30303030) | (0x39393939 - x)) & 0x80808080) === 0) {
      i += 4;
      continue;
    }
    // the first byte of the word that is not a digit, found without a loop: per byte, bit 7 is set
    // for a non-digit (checked on the low seven bits, with no carry between bytes, or a non-ASCII byte)
    const low = x & 0x7f7f7f7f;
    const other = ~((low + 0x50505050) & ~(low + 0x46464646) & ~x) & 0x80808080;
    return i + ((31 - Math.clz32(other & -other)) >> 3);
  }
  let c = b[i];
  while (c !== undefined && c >= ZERO && c <= NINE) c = b[++i];
  return i;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

/** A replacement of one node's source text by another JSON text. */
export interface JsonEdit {
  start: number;
  end: number;
  /** the JSON text put in its place, e.g. "\"[EMAIL]\"" */
  text: string;
}

/**
 * The source with each edit's span replaced. Edits replace leaves and keys, so two edits either
 * name the same span (a leaf reached by two paths, e.g. nested record parts of an error body: the
 * first one stands) or do not overlap at all; a partial overlap is a bug and throws.
 */
export function splice(source: Buffer, edits: readonly JsonEdit[]): Buffer {
  if (edits.length === 0) return source;
  const sorted = [...edits].sort((a, b) => a.start - b.start);
  // First the length of the result, then one copy into it: no intermediate buffer per edit.
  const kept: JsonEdit[] = [];
  const bytes: number[] = [];
  let length = source.length;
  let at = 0;
  let last: JsonEdit | undefined;
  for (const e of sorted) {
    if (last !== undefined && e.start === last.start && e.end === last.end) continue;
    last = e;
    if (e.start < at) throw new Error('overlapping JSON edits');
    const n = Buffer.byteLength(e.text, 'utf8');
    kept.push(e);
    bytes.push(n);
    length += n - (e.end - e.start);
    at = e.end;
  }
  const out = Buffer.allocUnsafe(length);
  let to = 0;
  at = 0;
  for (let k = 0; k < kept.length; k++) {
    const e = kept[k] as JsonEdit;
    to += source.copy(out, to, at, e.start);
    to += out.write(e.text, to, bytes[k] as number, 'utf8');
    at = e.end;
  }
  source.copy(out, to, at);
  return out;
}

import picomatch from 'picomatch';
import { type MaskingRule, type MaskStyle, usesToken } from './config';
import { builtinScanner, customDetector, DETECTOR_TYPES, type DetectorType, type FindSpans, resolveOverlaps, type Span } from './detectors';
import { expand, type JsonEdit, type JsonNode, keyIs, rawText, type ScannedJson, scanJson, splice, stringValue } from './json-scan';
import { createTokenizer, maskDetected, maskFieldLeaf, maskFieldScalar, placeholderFor, type StyleContext } from './styles';
import { emptyStats, type MaskStats, type RecordView } from './types';

/**
 * Masking as a pure function of rules, caller and data. `compileMasking` runs once at start;
 * `planFor` once per request; the plan then masks each record of the response in place.
 */

export interface MaskQuestion {
  connection: string;
  /** collection names the request touches; empty for a connection-level request */
  collections: readonly string[];
  /** the caller's identity-provider groups */
  groups: readonly string[];
}

export interface MaskPlan {
  /** rules that apply to this request and mask it */
  readonly rulesApplied: readonly string[];
  /** rules that apply but that the caller's groups exempt */
  readonly rulesExempted: readonly string[];
  /** false when every applicable rule is exempt: the response passes in clear text (and is audited so) */
  readonly masks: boolean;
  /** what a filter must not test while this plan masks (it would answer guesses about masked values) */
  readonly guarded: MaskGuard;
  /** Masks the designated fields, then runs the detectors on every other string in `data`, in place. */
  maskRecord(data: Record<string, unknown>): MaskStats;
  /** Runs the detectors on every string of any JSON value; objects and arrays are edited in place. */
  maskLooseJson(value: unknown): { value: unknown; stats: MaskStats };
  /**
   * maskRecord on a scanned response: designated fields on the record's parts, then the detectors on
   * every string and object key in them and on its id. Replacements are added to `edits`; nothing
   * else of the source changes (numbers keep their digits, vectors are never visited). The counts are
   * added to `into` when given (one response's records into one total), else to new stats.
   */
  maskScannedRecord(json: ScannedJson, record: RecordView, edits: JsonEdit[], into?: MaskStats): MaskStats;
  /**
   * An error body: designated fields on the record-shaped parts the dialect found in it, then the
   * detectors on every string and object key of the whole body.
   */
  maskScannedError(json: ScannedJson, records: readonly RecordView[], edits: JsonEdit[]): MaskStats;
  /** The detectors over a plain text (a text/plain error body). */
  maskText(text: string): { text: string; stats: MaskStats };
}

export interface MaskGuard {
  /** designated field paths of the applied rules (metadata.email, document, ...) */
  readonly fields: readonly string[];
  /** detectors or custom patterns apply, so document text may be masked */
  readonly documentDetectors: boolean;
  /** refuse when any applied rule says refuse; review only when all say review */
  readonly onFilter: 'refuse' | 'review';
}

export interface Masker {
  readonly ruleIds: readonly string[];
  /** undefined when no rule applies to this connection and these collections */
  planFor(question: MaskQuestion): MaskPlan | undefined;
  /** sentences for `vecgate policy explain`: which rules would mask what for these groups */
  explain(question: MaskQuestion): string[];
}

export interface CompileOptions {
  /** the HMAC key of the token style, read by the caller from masking.settings.tokenKeyEnv */
  tokenKey: Buffer | undefined;
}

/** Deeper JSON than this is refused rather than walked (the caller fails closed). */
export const MAX_MASK_DEPTH = 256;

const CLEAN_CACHE_MAX_LENGTH = 128;
/** distinct sets of applied and exempted rules whose plan shape is kept */
const PLAN_SHAPES_MAX = 1024;
const CLEAN_CACHE_MAX_ENTRIES = 10_000;

interface CompiledRule {
  rule: MaskingRule;
  /** its place in the configuration */
  index: number;
  connection: (name: string) => boolean;
  collection: (name: string) => boolean;
  exempt: (group: string) => boolean;
  custom: { name: string; find: FindSpans }[];
}

interface Detector {
  name: string;
  find: FindSpans;
  style: MaskStyle;
}

/** The functions run on one string, in order; their spans are masked together. */
type Finders = readonly FindSpans[];

interface FieldTarget {
  path: string;
  segments: string[];
  /** per segment index: the keys that can stand there (joined with the following segments, for flat dotted keys) and where the path goes on */
  keysFrom: PathKey[][];
  style: MaskStyle;
}

interface PathKey {
  key: string;
  /** its length in UTF-8, to pass over keys of another length without decoding them */
  bytes: number;
  next: number;
}

/** One document being masked: where the replacements go and what is done. */
interface Pass {
  json: ScannedJson;
  edits: JsonEdit[];
  stats: MaskStats;
  /** nodes already masked whole as designated fields: the detectors leave their values alone */
  done: Set<JsonNode>;
}

/** placeholder reveals nothing, a token reveals equality, partial reveals part of the value */
const STRICTNESS: Record<MaskStyle, number> = { partial: 0, token: 1, placeholder: 2 };
const stricter = (a: MaskStyle, b: MaskStyle): MaskStyle => (STRICTNESS[a] >= STRICTNESS[b] ? a : b);

export function compileMasking(rules: readonly MaskingRule[], options: CompileOptions): Masker {
  const needKey = rules.filter(usesToken).map((r) => r.id);
  if (needKey.length > 0 && options.tokenKey === undefined) {
    throw new Error(`masking rule(s) ${needKey.join(', ')} use the token style, but no token key was given: set masking.settings.tokenKeyEnv and that variable`);
  }
  const ctx: StyleContext = { tokenize: options.tokenKey === undefined ? undefined : createTokenizer(options.tokenKey) };
  const matcher = (patterns: readonly string[]) => picomatch([...patterns], { dot: true, nocase: false });
  const compiled: CompiledRule[] = rules.map((rule, index) => ({
    rule,
    index,
    connection: matcher(rule.connections),
    collection: matcher(rule.collections),
    exempt: rule.exemptGroups.length > 0 ? matcher(rule.exemptGroups) : () => false,
    custom: rule.customPatterns.map((p) => ({ name: p.name, find: customDetector(p.name, p.pattern, p.flags) })),
  }));

  const matching = (q: MaskQuestion) => {
    const applied: CompiledRule[] = [];
    const exempted: CompiledRule[] = [];
    for (const r of compiled) {
      if (!applies(r, q)) continue;
      (q.groups.some((g) => r.exempt(g)) ? exempted : applied).push(r);
    }
    return { applied, exempted };
  };

  /**
   * A plan's rules, fields and detectors depend only on which rules apply and which are exempted, so
   * they are worked out once per such pair; each request still gets its own plan (its own cache of
   * clean strings). Bounded: beyond the bound, shapes are built per request.
   */
  const shapes = new Map<string, PlanShape>();
  const shapeFor = (applied: readonly CompiledRule[], exempted: readonly CompiledRule[]): PlanShape => {
    const key = `${applied.map((r) => r.index).join(',')}|${exempted.map((r) => r.index).join(',')}`;
    let shape = shapes.get(key);
    if (shape === undefined) {
      shape = planShape(applied, exempted);
      if (shapes.size < PLAN_SHAPES_MAX) shapes.set(key, shape);
    }
    return shape;
  };

  return {
    ruleIds: rules.map((r) => r.id),
    planFor(q) {
      const { applied, exempted } = matching(q);
      if (applied.length === 0 && exempted.length === 0) return undefined;
      return buildPlan(shapeFor(applied, exempted), ctx);
    },
    explain(q) {
      const { applied, exempted } = matching(q);
      const target = q.collections.length === 0 ? `connection "${q.connection}" (connection-level)` : `collection ${q.collections.map((c) => `"${c}"`).join(', ')} of connection "${q.connection}"`;
      const groups = q.groups.length ? q.groups.join(', ') : 'none';
      if (applied.length === 0 && exempted.length === 0) return [`No masking rule applies to ${target}: responses pass unmasked.`];
      const lines = applied.map((r) => `Masking rule "${r.rule.id}"${why(r.rule)} masks ${describeRule(r.rule)} in responses from ${target}.`);
      for (const r of exempted) {
        const by = q.groups.filter((g) => r.exempt(g)).join(', ');
        lines.push(`Masking rule "${r.rule.id}" would mask ${describeRule(r.rule)}, but group ${by} is exempt: clear text for this caller (groups: ${groups}), audited as exempt.`);
      }
      return lines;
    },
  };
}

function applies(r: CompiledRule, q: MaskQuestion): boolean {
  if (!r.connection(q.connection)) return false;
  // A connection-level response (a list of collections) may carry any collection's metadata: every rule of the connection applies.
  return q.collections.length === 0 || q.collections.some((c) => r.collection(c));
}

function why(rule: MaskingRule): string {
  return rule.description ? ` (${rule.description})` : '';
}

function describeRule(rule: MaskingRule): string {
  const parts: string[] = [];
  if (rule.fields.length > 0) {
    parts.push(`the whole value of ${rule.fields.map((f) => `${f.path} (${f.style ?? rule.style})`).join(', ')}`);
  }
  const found = [...rule.detectors, ...rule.customPatterns.map((p) => p.name)];
  const where = ['any other string', ...(rule.scanKeys ? ['object key'] : []), ...(rule.scanIds ? ['record id'] : [])];
  const places = where.length === 1 ? where[0] : `${where.slice(0, -1).join(', ')} or ${where.at(-1)}`;
  if (found.length > 0) parts.push(`every ${found.join(', ')} found in ${places} (${rule.style})`);
  return parts.join(', and ');
}

/** What a plan knows before it sees a response: the same for every request with the same applied and exempted rules. */
interface PlanShape {
  rulesApplied: readonly string[];
  rulesExempted: readonly string[];
  masks: boolean;
  guarded: MaskGuard;
  /** designated fields, shorter paths first */
  targets: readonly FieldTarget[];
  /** on every string; on object keys; on record ids */
  everywhere: Finders;
  inKeys: Finders;
  inIds: Finders;
  /** detector names in priority order, for resolveOverlaps */
  order: readonly string[];
  styleOf: ReadonlyMap<string, MaskStyle>;
  /** no custom pattern: strings the scanner did not mark cannot hold a finding */
  builtinsOnly: boolean;
}

function planShape(applied: readonly CompiledRule[], exempted: readonly CompiledRule[]): PlanShape {
  const rulesApplied = Object.freeze(applied.map((r) => r.rule.id));
  const rulesExempted = Object.freeze(exempted.map((r) => r.rule.id));

  // Several rules may name the same field or detector: the strictest style wins.
  const fields = new Map<string, FieldTarget>();
  const builtins = new Map<DetectorType, MaskStyle>();
  const custom: (Detector & { rule: MaskingRule })[] = [];
  for (const { rule, custom: patterns } of applied) {
    for (const f of rule.fields) {
      const style = f.style ?? rule.style;
      const known = fields.get(f.path);
      const segments = f.path.split('.');
      fields.set(f.path, { path: f.path, segments, keysFrom: keysFrom(segments), style: known ? stricter(known.style, style) : style });
    }
    for (const d of rule.detectors) builtins.set(d, stricter(builtins.get(d) ?? 'partial', rule.style));
    for (const p of patterns) custom.push({ name: p.name, find: p.find, style: rule.style, rule });
  }
  // Shorter paths first: once `metadata` is masked whole, `metadata.email` inside it is not visited again.
  const targets = [...fields.values()].sort((a, b) => a.segments.length - b.segments.length);
  /** What runs on a string: the built-ins of `types` as one pass (builtinScanner), then the custom patterns. */
  const findersOf = (types: readonly DetectorType[], patterns: readonly Detector[]): Finders => [...(types.length > 0 ? [builtinScanner(types)] : []), ...patterns.map((d) => d.find)];
  const builtinTypes = DETECTOR_TYPES.filter((d) => builtins.has(d));
  const detectors: { name: string; style: MaskStyle }[] = [...builtinTypes.map((d) => ({ name: d, style: builtins.get(d) as MaskStyle })), ...custom];
  const everywhere = findersOf(builtinTypes, custom);
  // Object keys and ids are searched by the detectors of the rules that ask for it (scanKeys, scanIds: default on).
  const findersWhere = (wanted: (rule: MaskingRule) => boolean): Finders =>
    findersOf(
      DETECTOR_TYPES.filter((d) => applied.some((r) => wanted(r.rule) && r.rule.detectors.includes(d))),
      custom.filter((d) => wanted(d.rule)),
    );
  const inKeys = findersWhere((r) => r.scanKeys);
  const inIds = findersWhere((r) => r.scanIds);
  const order = detectors.map((d) => d.name);
  const styleOf = new Map<string, MaskStyle>();
  for (const d of detectors) styleOf.set(d.name, stricter(styleOf.get(d.name) ?? 'partial', d.style));

  // Every built-in detector needs a digit, an "@" or a ":" (the scanner marks such strings); custom patterns may need anything.
  const builtinsOnly = custom.length === 0;
  const guarded: MaskGuard = Object.freeze({
    fields: Object.freeze([...fields.keys()]),
    documentDetectors: detectors.length > 0,
    onFilter: applied.every((r) => r.rule.filterOnMasked === 'review') && applied.length > 0 ? 'review' : 'refuse',
  });
  return { rulesApplied, rulesExempted, masks: applied.length > 0, guarded, targets, everywhere, inKeys, inIds, order, styleOf, builtinsOnly };
}

function buildPlan(shape: PlanShape, ctx: StyleContext): MaskPlan {
  const { rulesApplied, rulesExempted, masks, guarded, targets, everywhere, inKeys, inIds, order, styleOf, builtinsOnly } = shape;
  /**
   * Short strings found clean, per list of finders: keys and many metadata values repeat in every
   * record of a response. The plan lives for one request, and the cache is bounded.
   */
  const clean = new Map<Finders, Set<string>>();

  const maskString = (text: string, found: Finders, stats: MaskStats): string => {
    if (text.length === 0 || found.length === 0) return text;
    const short = text.length <= CLEAN_CACHE_MAX_LENGTH;
    let known = clean.get(found);
    if (short && known?.has(text)) return text;
    let spans: Span[];
    if (found.length === 1) spans = (found[0] as FindSpans)(text);
    else {
      spans = [];
      for (const find of found) for (const s of find(text)) spans.push(s);
    }
    if (spans.length === 0) {
      if (short) {
        if (!known) clean.set(found, (known = new Set()));
        if (known.size < CLEAN_CACHE_MAX_ENTRIES) known.add(text);
      }
      return text;
    }
    let out = '';
    let at = 0;
    for (const region of resolveOverlaps(spans, order)) {
      const name = region.winner.detector;
      const style = styleOf.get(name) as MaskStyle;
      const exact = region.start === region.winner.start && region.end === region.winner.end;
      // A region that absorbed overlapping spans of other shapes no longer fits the partial format.
      const masked = !exact && style === 'partial' ? placeholderFor(name) : maskDetected(name, text.slice(region.start, region.end), style, ctx);
      out += text.slice(at, region.start) + masked;
      at = region.end;
      stats.detectorsFired[name] = (stats.detectorsFired[name] ?? 0) + 1;
    }
    stats.valuesMasked++;
    return out + text.slice(at);
  };

  /** detectors of a string node: skipped undecoded when no built-in could find anything in it */
  const detectString = (c: Pass, node: JsonNode, found: Finders) => {
    if (node.kind !== 'string' || found.length === 0 || (builtinsOnly && !node.marked)) return;
    const text = stringValue(c.json, node);
    const masked = maskString(text, found, c.stats);
    if (masked === text) return;
    // A literal without escapes holds no quote, backslash or control character, and the built-ins
    // replace whole runs of ASCII with ASCII: quoting is all JSON.stringify would do (and costs a third
    // of a microsecond per document). Custom patterns can cut anywhere, so their results go through it.
    const json = !node.escaped && builtinsOnly ? `"${masked}"` : JSON.stringify(masked);
    c.edits.push({ start: node.start, end: node.end, text: json });
  };

  /** Every string and key under `node`; inside a designated field only the keys. */
  const detectIn = (c: Pass, node: JsonNode, keysOnly: boolean): void => {
    const inDone = keysOnly || c.done.has(node);
    if (node.kind === 'string') {
      if (!inDone) detectString(c, node, everywhere);
    } else if (node.kind === 'array') {
      for (const item of node.items) detectIn(c, item, inDone);
    } else if (node.kind === 'object') {
      for (const m of node.members) {
        detectString(c, m.key, inKeys);
        detectIn(c, m.value, inDone);
      }
    }
  };

  const maskWhole = (c: Pass, node: JsonNode, style: MaskStyle): void => {
    switch (node.kind) {
      case 'null':
        return;
      case 'array':
        for (const item of node.items) maskWhole(c, item, style);
        return;
      case 'numbers':
        return maskWhole(c, expand(c.json, node), style);
      case 'object':
        for (const m of node.members) maskWhole(c, m.value, style);
        return;
      case 'string': {
        const text = stringValue(c.json, node);
        const masked = maskFieldLeaf(text, style, ctx) as string;
        if (masked === text) return;
        c.stats.valuesMasked++;
        c.edits.push({ start: node.start, end: node.end, text: JSON.stringify(masked) });
        return;
      }
      default:
        c.stats.valuesMasked++;
        c.edits.push({ start: node.start, end: node.end, text: JSON.stringify(maskFieldScalar(rawText(c.json, node), style, ctx)) });
    }
  };

  /** Masks one location a designated field names, once. */
  const maskField = (c: Pass, value: JsonNode, target: FieldTarget) => {
    if (c.done.has(value)) return;
    c.done.add(value);
    if (value.kind === 'null') return;
    maskWhole(c, value, target.style);
    c.stats.fieldsMasked[target.path] = (c.stats.fieldsMasked[target.path] ?? 0) + 1;
  };

  /**
   * Every location the path names under `node`. Arrays on the way are entered element by element
   * (metadata.contacts.email reaches each contact's email); `*` stands for any one key; a key that
   * itself contains dots (Chroma metadata is flat: "customer.ssn") is matched as well as nesting.
   */
  const visitPath = (c: Pass, node: JsonNode, target: FieldTarget, i: number): void => {
    if (node.kind === 'array') {
      for (const item of node.items) visitPath(c, item, target, i);
      return;
    }
    if (node.kind !== 'object') return;
    const members = node.members;
    if (target.segments[i] === '*') {
      for (const m of members) stepPath(c, m.value, target, i + 1);
      return;
    }
    // plain loops: this runs for every designated field of every record
    const keys = target.keysFrom[i] as PathKey[];
    for (let k = 0; k < keys.length; k++) {
      const { key, bytes, next } = keys[k] as PathKey;
      for (let j = 0; j < members.length; j++) {
        const m = members[j] as (typeof members)[number];
        if (keyIs(c.json, m.key, key, bytes)) stepPath(c, m.value, target, next);
      }
    }
  };

  /** On along the path from a member's value: deeper, or mask it when the path ends there. */
  const stepPath = (c: Pass, value: JsonNode, target: FieldTarget, next: number): void => {
    if (c.done.has(value)) return;
    if (next < target.segments.length) visitPath(c, value, target, next);
    else maskField(c, value, target);
  };

  /** Designated fields on a record's parts (the first path segment names the part). */
  const maskFields = (c: Pass, record: RecordView) => {
    for (const target of targets) {
      const first = target.segments[0] as string;
      for (const part in record.parts) {
        const node = record.parts[part];
        if (node === undefined || (first !== '*' && first !== part)) continue;
        if (target.segments.length === 1) maskField(c, node, target);
        else if (!c.done.has(node)) visitPath(c, node, target, 1);
      }
    }
  };

  const maskScannedRecord = (json: ScannedJson, record: RecordView, edits: JsonEdit[], into?: MaskStats): MaskStats => {
    const stats = into ?? emptyStats(rulesApplied, rulesExempted);
    if (!masks) return stats;
    const c: Pass = { json, edits, stats, done: new Set() };
    maskFields(c, record);
    for (const part in record.parts) {
      const node = record.parts[part];
      if (node !== undefined) detectIn(c, node, false);
    }
    if (record.id !== undefined) detectString(c, record.id, inIds);
    return stats;
  };

  const maskScannedError = (json: ScannedJson, records: readonly RecordView[], edits: JsonEdit[]): MaskStats => {
    const stats = emptyStats(rulesApplied, rulesExempted);
    if (!masks) return stats;
    const c: Pass = { json, edits, stats, done: new Set() };
    for (const record of records) maskFields(c, record);
    detectIn(c, json.root, false);
    return stats;
  };

  /** The JavaScript-value forms run the same pass over the value's JSON text. */
  const maskValue = (value: unknown, run: (json: ScannedJson, edits: JsonEdit[]) => MaskStats): { value: unknown; stats: MaskStats } => {
    const source = Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');
    const json = scanJson(source, MAX_MASK_DEPTH);
    const edits: JsonEdit[] = [];
    const stats = run(json, edits);
    if (edits.length === 0) return { value, stats };
    return { value: replaceContents(value, JSON.parse(splice(source, edits).toString('utf8'))), stats };
  };

  return Object.freeze({
    rulesApplied,
    rulesExempted,
    masks,
    guarded,
    maskRecord(data: Record<string, unknown>): MaskStats {
      return maskValue(data, (json, edits) => {
        const parts: Record<string, JsonNode> = {};
        if (json.root.kind === 'object') for (const m of json.root.members) parts[stringValue(json, m.key)] = m.value;
        return maskScannedRecord(json, { parts }, edits);
      }).stats;
    },
    maskLooseJson(value: unknown) {
      return maskValue(value, (json, edits) => maskScannedError(json, [], edits));
    },
    maskScannedRecord,
    maskScannedError,
    maskText(text: string) {
      const stats = emptyStats(rulesApplied, rulesExempted);
      return { text: masks ? maskString(text, everywhere, stats) : text, stats };
    },
  });
}

function keysFrom(segments: readonly string[]): PathKey[][] {
  return segments.map((_, i) => {
    const keys: PathKey[] = [];
    for (let k = i + 1; k <= segments.length; k++) {
      const key = segments.slice(i, k).join('.');
      keys.push({ key, bytes: Buffer.byteLength(key), next: k });
    }
    return keys;
  });
}

/** Puts `next` into `target` where the caller holds it (objects and arrays edited in place). */
function replaceContents(target: unknown, next: unknown): unknown {
  if (Array.isArray(target) && Array.isArray(next)) {
    target.splice(0, target.length, ...(next as unknown[]));
    return target;
  }
  if (typeof target === 'object' && target !== null && typeof next === 'object' && next !== null && !Array.isArray(target)) {
    const obj = target as Record<string, unknown>;
    for (const key of Object.keys(obj)) delete obj[key];
    Object.assign(obj, next);
    return target;
  }
  return next;
}

import picomatch from 'picomatch';
import { type MaskingRule, type MaskStyle, usesToken } from './config';
import { BUILTIN_DETECTORS, customDetector, DETECTOR_TYPES, type DetectorType, type FindSpans, resolveOverlaps, type Span } from './detectors';
import { createTokenizer, maskDetected, maskFieldLeaf, placeholderFor, type StyleContext } from './styles';
import { emptyStats, type MaskStats } from './types';

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

interface CompiledRule {
  rule: MaskingRule;
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

interface FieldTarget {
  path: string;
  segments: string[];
  style: MaskStyle;
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
  const compiled: CompiledRule[] = rules.map((rule) => ({
    rule,
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

  return {
    ruleIds: rules.map((r) => r.id),
    planFor(q) {
      const { applied, exempted } = matching(q);
      if (applied.length === 0 && exempted.length === 0) return undefined;
      return buildPlan(applied, exempted, ctx);
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
  if (found.length > 0) parts.push(`every ${found.join(', ')} found in any other string (${rule.style})`);
  return parts.join(', and ');
}

function buildPlan(applied: readonly CompiledRule[], exempted: readonly CompiledRule[], ctx: StyleContext): MaskPlan {
  const rulesApplied = applied.map((r) => r.rule.id);
  const rulesExempted = exempted.map((r) => r.rule.id);

  // Several rules may name the same field or detector: the strictest style wins.
  const fields = new Map<string, FieldTarget>();
  const builtins = new Map<DetectorType, MaskStyle>();
  const custom: Detector[] = [];
  for (const { rule, custom: patterns } of applied) {
    for (const f of rule.fields) {
      const style = f.style ?? rule.style;
      const known = fields.get(f.path);
      fields.set(f.path, { path: f.path, segments: f.path.split('.'), style: known ? stricter(known.style, style) : style });
    }
    for (const d of rule.detectors) builtins.set(d, stricter(builtins.get(d) ?? 'partial', rule.style));
    for (const p of patterns) custom.push({ name: p.name, find: p.find, style: rule.style });
  }
  // Shorter paths first: once `metadata` is masked whole, `metadata.email` inside it is not visited again.
  const targets = [...fields.values()].sort((a, b) => a.segments.length - b.segments.length);
  const detectors: Detector[] = [
    ...DETECTOR_TYPES.filter((d) => builtins.has(d)).map((d) => ({ name: d as string, find: BUILTIN_DETECTORS[d], style: builtins.get(d) as MaskStyle })),
    ...custom,
  ];
  const order = detectors.map((d) => d.name);
  const styleOf = new Map<string, MaskStyle>();
  for (const d of detectors) styleOf.set(d.name, stricter(styleOf.get(d.name) ?? 'partial', d.style));

  const maskString = (text: string, stats: MaskStats): string => {
    if (text.length === 0) return text;
    const spans: Span[] = [];
    for (const d of detectors) for (const s of d.find(text)) spans.push(s);
    if (spans.length === 0) return text;
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

  /** Every string under `node`, except designated locations already masked. */
  const detectIn = (node: unknown, done: Done, stats: MaskStats, depth: number): unknown => {
    if (depth > MAX_MASK_DEPTH) throw new Error(`the response nests deeper than ${MAX_MASK_DEPTH} levels`);
    if (typeof node === 'string') return maskString(node, stats);
    if (Array.isArray(node)) {
      const skip = done.get(node);
      for (let i = 0; i < node.length; i++) if (!skip?.has(i)) node[i] = detectIn(node[i], done, stats, depth + 1);
    } else if (typeof node === 'object' && node !== null) {
      const obj = node as Record<string, unknown>;
      const skip = done.get(obj);
      for (const key of Object.keys(obj)) if (!skip?.has(key)) obj[key] = detectIn(obj[key], done, stats, depth + 1);
    }
    return node;
  };

  const maskWhole = (node: unknown, style: MaskStyle, stats: MaskStats, depth: number): unknown => {
    if (depth > MAX_MASK_DEPTH) throw new Error(`the response nests deeper than ${MAX_MASK_DEPTH} levels`);
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) node[i] = maskWhole(node[i], style, stats, depth + 1);
      return node;
    }
    if (typeof node === 'object' && node !== null) {
      const obj = node as Record<string, unknown>;
      for (const key of Object.keys(obj)) obj[key] = maskWhole(obj[key], style, stats, depth + 1);
      return node;
    }
    const masked = maskFieldLeaf(node, style, ctx);
    if (masked !== node) stats.valuesMasked++;
    return masked;
  };

  const guarded: MaskGuard = Object.freeze({
    fields: Object.freeze([...fields.keys()]),
    documentDetectors: detectors.length > 0,
    onFilter: applied.every((r) => r.rule.filterOnMasked === 'review') && applied.length > 0 ? 'review' : 'refuse',
  });
  return Object.freeze({
    rulesApplied,
    rulesExempted,
    masks: applied.length > 0,
    guarded,
    maskRecord(data: Record<string, unknown>): MaskStats {
      const stats = emptyStats(rulesApplied, rulesExempted);
      if (applied.length === 0) return stats;
      const done: Done = new Map();
      for (const target of targets) {
        visitPath(data, target.segments, 0, done, (container, key) => {
          const value = container[key as keyof typeof container] as unknown;
          if (value === null || value === undefined) return;
          (container as Record<string | number, unknown>)[key] = maskWhole(value, target.style, stats, 0);
          stats.fieldsMasked[target.path] = (stats.fieldsMasked[target.path] ?? 0) + 1;
        });
      }
      if (detectors.length > 0) detectIn(data, done, stats, 0);
      return stats;
    },
    maskLooseJson(value: unknown) {
      const stats = emptyStats(rulesApplied, rulesExempted);
      if (applied.length === 0 || detectors.length === 0) return { value, stats };
      return { value: detectIn(value, new Map(), stats, 0), stats };
    },
  });
}

/** container -> keys already masked as designated fields */
type Done = Map<object, Set<string | number>>;

/**
 * Calls `visit` for every location the path names. Arrays on the way are entered element by element
 * (metadata.contacts.email reaches each contact's email); `*` stands for any one key; a key that
 * itself contains dots (Chroma metadata is flat: "customer.ssn") is matched as well as nesting.
 */
function visitPath(node: unknown, segments: readonly string[], i: number, done: Done, visit: (container: object, key: string | number) => void, depth = 0): void {
  if (depth > MAX_MASK_DEPTH) throw new Error(`the response nests deeper than ${MAX_MASK_DEPTH} levels`);
  if (Array.isArray(node)) {
    for (const element of node) visitPath(element, segments, i, done, visit, depth + 1);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const obj = node as Record<string, unknown>;
  const step = (key: string, next: number) => {
    if (done.get(obj)?.has(key)) return;
    if (next === segments.length) {
      visit(obj, key);
      let keys = done.get(obj);
      if (!keys) done.set(obj, (keys = new Set()));
      keys.add(key);
    } else {
      visitPath(obj[key], segments, next, done, visit, depth + 1);
    }
  };
  if (segments[i] === '*') {
    for (const key of Object.keys(obj)) step(key, i + 1);
    return;
  }
  for (let k = i + 1; k <= segments.length; k++) {
    const key = segments.slice(i, k).join('.');
    if (Object.hasOwn(obj, key)) step(key, k);
  }
}

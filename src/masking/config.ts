import { z } from 'zod';
import { DETECTOR_TYPES } from './detectors';
import { nestedQuantifier, zeroLengthMatch } from './pattern-safety';

/**
 * Masking rules as the configuration file states them. Like src/config/schema.ts, each message says
 * what is wrong and how to fix it.
 *
 * Custom patterns run on JavaScript's backtracking regex engine: a pattern such as `(a+)+$` can take
 * exponential time on a short hostile value (catastrophic backtracking). vecgate refuses quantified
 * groups that themselves contain an unbounded quantifier, refuses patterns that can match the empty
 * string, and runs each pattern on windows of at most 4096 characters of a value (detectors.ts,
 * CUSTOM_WINDOW); operators should still keep patterns simple and anchored on literal text.
 */

export const MASK_STYLES = ['placeholder', 'partial', 'token'] as const;
export type MaskStyle = (typeof MASK_STYLES)[number];

const ruleId = z
  .string({ error: 'must be the rule id, e.g. mask-customer-pii' })
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be 1-63 characters of a-z, 0-9, _ or -, starting with a letter or digit');
const glob = z.string({ error: 'must be a glob pattern, e.g. "customers-*"' }).min(1, 'must not be empty: use "*" for any');
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be the NAME of an environment variable (A-Z, 0-9, _), not its value');
const style = z.enum(MASK_STYLES, { error: `must be one of: ${MASK_STYLES.join(', ')}` });

/** metadata.email, metadata.customer.ssn, document; "*" stands for any one key */
const fieldPath = z
  .string({ error: 'must be a field path such as metadata.email or document' })
  .regex(/^[^.\s][^.]*(?:\.[^.\s][^.]*)*$/, 'must be dot-separated keys without empty parts, e.g. metadata.customer.ssn')
  .refine((p) => p.split('.').length <= 16, 'must have at most 16 parts');

const field = z
  .union([fieldPath, z.strictObject({ path: fieldPath, style })], {
    error: 'must be a field path (metadata.email) or { path: metadata.email, style: partial } to give this field its own style',
  })
  .transform((f): { path: string; style?: MaskStyle } => (typeof f === 'string' ? { path: f } : f));

const customPattern = z
  .strictObject({
    name: z
      .string({ error: 'must name the pattern, e.g. employee_id' })
      .regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be 1-32 characters of a-z, 0-9 or _, starting with a letter (it names the placeholder and the statistics)')
      .refine((n) => !(DETECTOR_TYPES as readonly string[]).includes(n), `must differ from the built-in detectors (${DETECTOR_TYPES.join(', ')}): list those under detectors instead`),
    pattern: z.string({ error: 'must be a regular expression source, e.g. EMP-\\d{6}' }).min(1, 'must not be empty').max(1000, 'must be at most 1000 characters'),
    flags: z
      .string()
      .regex(/^(?!.*(.).*\1)[imsu]*$/, 'may only combine the flags i, m, s and u, each once (g is implied)')
      .optional(),
  })
  .superRefine((p, ctx) => {
    let re: RegExp;
    try {
      re = new RegExp(p.pattern, p.flags ?? '');
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: `does not compile (${(err as Error).message}): fix the regular expression` });
      return;
    }
    if (zeroLengthMatch(re)) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'can match the empty string, which would mask nothing and loop: require at least one character, e.g. \\d+ rather than \\d*' });
    }
    const nested = nestedQuantifier(p.pattern);
    if (nested !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['pattern'],
        message: `repeats a group that itself repeats (${nested}), which can backtrack catastrophically: rewrite it without nested repetition, e.g. (ab)+ or \\w+ rather than (\\w+)+`,
      });
    }
  });

export const maskingRuleSchema = z
  .strictObject({
    id: ruleId,
    description: z.string().optional(),
    connections: z.array(glob).min(1, 'name at least one connection, or "*" for all').default(['*']),
    /** collection name patterns; a connection-level response (list of collections) gets every rule of its connection */
    collections: z.array(glob).min(1, 'name at least one collection pattern, or "*" for all').default(['*']),
    /** paths in a record's data whose whole value is masked */
    fields: z.array(field).default([]),
    /** detectors run on every string value of a record's data */
    detectors: z.array(z.enum(DETECTOR_TYPES, { error: `must be one of: ${DETECTOR_TYPES.join(', ')}` })).default([]),
    customPatterns: z.array(customPattern).default([]),
    /** the detectors also search object keys (a metadata key may be an e-mail address) */
    scanKeys: z.boolean({ error: 'must be true or false: whether the detectors also search object keys' }).default(true),
    /** the detectors also search record ids (an id may be an e-mail address); vectors and distances never */
    scanIds: z.boolean({ error: 'must be true or false: whether the detectors also search record ids' }).default(true),
    style: style.default('placeholder'),
    /** identity-provider groups that see clear text; their reads are still audited as exempt */
    exemptGroups: z.array(glob).default([]),
    /** a filter that tests masked data (it would answer guesses about the values): refuse it (403), or class it as export so it needs review */
    filterOnMasked: z.enum(['refuse', 'review'], { error: 'must be refuse or review' }).default('refuse'),
  })
  .superRefine((r, ctx) => {
    if (r.fields.length === 0 && r.detectors.length === 0 && r.customPatterns.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['fields'], message: 'the rule masks nothing: list fields, detectors or customPatterns' });
    }
    const paths = new Set<string>();
    r.fields.forEach((f, i) => {
      if (paths.has(f.path)) ctx.addIssue({ code: 'custom', path: ['fields', i], message: `"${f.path}" is listed twice: list each field once` });
      paths.add(f.path);
    });
    const names = new Set<string>();
    r.customPatterns.forEach((p, i) => {
      if (names.has(p.name)) ctx.addIssue({ code: 'custom', path: ['customPatterns', i, 'name'], message: `"${p.name}" is used twice in this rule: give each pattern its own name` });
      names.add(p.name);
    });
  });

export type MaskingRuleInput = z.input<typeof maskingRuleSchema>;
export type MaskingRule = z.output<typeof maskingRuleSchema>;

export const DEFAULT_MASKING_MAX_BODY_BYTES = 32 * 1024 * 1024;

export const maskingSettingsSchema = z.strictObject({
  /** NAME of the environment variable holding the token style's HMAC key (at least 32 bytes); never the key itself */
  tokenKeyEnv: envName.optional(),
  /** a response that must be masked and is larger than this, compressed or decoded, is refused (502) */
  maxBodyBytes: z
    .number({ error: 'must be a number of bytes, e.g. 33554432 (32 MiB)' })
    .int('must be a whole number of bytes')
    .min(1024, 'must be at least 1024 bytes')
    .max(1024 * 1024 * 1024, 'must be at most 1 GiB: the whole response is held in memory while it is masked')
    .default(DEFAULT_MASKING_MAX_BODY_BYTES),
});

export type MaskingSettings = z.output<typeof maskingSettingsSchema>;

/** Does this rule need the HMAC key (token style anywhere in it)? */
export function usesToken(rule: MaskingRule): boolean {
  return rule.style === 'token' || rule.fields.some((f) => f.style === 'token');
}

/**
 * The `masking` section of the configuration: settings plus rules, with the checks that span
 * both (unique rule ids; the token style needs tokenKeyEnv).
 */
export const maskingSchema = z
  .strictObject({
    settings: maskingSettingsSchema.default(maskingSettingsSchema.parse({})),
    rules: z.array(maskingRuleSchema).default([]),
  })
  .superRefine((m, ctx) => {
    const ids = new Set<string>();
    m.rules.forEach((r, i) => {
      if (ids.has(r.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `"${r.id}" is used twice: masking rule ids must be unique, they name the rule in every audit event` });
      ids.add(r.id);
      if (usesToken(r) && m.settings.tokenKeyEnv === undefined) {
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'style'], message: 'the token style needs a key: set masking.settings.tokenKeyEnv to the NAME of an environment variable holding at least 32 random bytes' });
      }
    });
  });

export type MaskingConfig = z.output<typeof maskingSchema>;

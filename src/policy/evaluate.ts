import picomatch from 'picomatch';
import type { PolicyRule } from '../config/schema';
import { DEFAULT_SCOPE, type OperationClass } from '../dialect/types';

/**
 * Least-privilege policy as a pure function. Precedence: among the rules that match, deny beats
 * review beats allow; a request no rule matches is denied. Within one effect the first rule in the
 * file is the one cited. A request that touches several collections gets the strictest outcome.
 */
export type Effect = 'allow' | 'review' | 'deny';

export const DEFAULT_DENY_RULE = 'default-deny';

export interface PolicyQuestion {
  subject: string;
  groups: readonly string[];
  connection: string;
  operation: OperationClass;
  /** collection names; empty for a connection-level request */
  collections: readonly string[];
  /** the tenant and database the request addresses; a dimension the request does not name is not judged */
  tenant?: string;
  database?: string;
}

export interface Decision {
  effect: Effect;
  /** the rule that made the decision, or default-deny */
  ruleId: string;
  /** one sentence for the caller and the auditor */
  explanation: string;
  /** the collection the decision is about, when there is one */
  collection?: string;
}

interface CompiledRule {
  rule: PolicyRule;
  group: (g: string) => boolean;
  anyGroup: boolean;
  connection: (c: string) => boolean;
  tenant: (t: string) => boolean;
  database: (d: string) => boolean;
  collection: (c: string) => boolean;
  wholeConnection: boolean;
  operations: ReadonlySet<string>;
}

export interface Policy {
  readonly rules: readonly CompiledRule[];
}

const RANK: Record<Effect, number> = { allow: 0, review: 1, deny: 2 };

export function compilePolicy(rules: readonly PolicyRule[]): Policy {
  const matcher = (patterns: readonly string[]) => picomatch([...patterns], { dot: true, nocase: false });
  return {
    rules: rules.map((rule) => ({
      rule,
      group: matcher(rule.groups),
      anyGroup: rule.groups.includes('*'),
      connection: matcher(rule.connections),
      // a rule that names no tenants or databases covers only the default ones
      tenant: matcher(rule.tenants ?? [DEFAULT_SCOPE.tenant]),
      database: matcher(rule.databases ?? [DEFAULT_SCOPE.database]),
      collection: matcher(rule.collections),
      wholeConnection: rule.collections.includes('*'),
      operations: new Set(rule.operations),
    })),
  };
}

export function decide(policy: Policy, q: PolicyQuestion): Decision {
  if (q.collections.length === 0) return decideOne(policy, q, undefined);
  let strictest: Decision | undefined;
  for (const collection of q.collections) {
    const d = decideOne(policy, q, collection);
    if (!strictest || RANK[d.effect] > RANK[strictest.effect]) strictest = d;
    if (d.effect === 'deny') break;
  }
  return strictest as Decision;
}

function decideOne(policy: Policy, q: PolicyQuestion, collection: string | undefined): Decision {
  let best: CompiledRule | undefined;
  for (const r of policy.rules) {
    if (!matches(r, q, collection)) continue;
    if (!best || RANK[r.rule.effect] > RANK[best.rule.effect]) best = r;
    if (best.rule.effect === 'deny') break;
  }
  const target = describeTarget(q, collection);
  if (!best) {
    return {
      effect: 'deny',
      ruleId: DEFAULT_DENY_RULE,
      explanation: `No rule grants ${q.subject} (groups: ${q.groups.length ? q.groups.join(', ') : 'none'}) ${q.operation} on ${target}, so it is denied by default.`,
      collection,
    };
  }
  const { id, effect, description } = best.rule;
  const why = description ? ` (${description})` : '';
  const verb = effect === 'allow' ? 'allows' : effect === 'deny' ? 'denies' : 'requires approval for';
  return { effect, ruleId: id, explanation: `Rule "${id}"${why} ${verb} ${q.operation} on ${target}.`, collection };
}

function matches(r: CompiledRule, q: PolicyQuestion, collection: string | undefined): boolean {
  if (!r.operations.has('*') && !r.operations.has(q.operation)) return false;
  if (!r.connection(q.connection)) return false;
  if (q.tenant !== undefined && !r.tenant(q.tenant)) return false;
  if (q.database !== undefined && !r.database(q.database)) return false;
  if (collection === undefined ? !r.wholeConnection : !r.collection(collection)) return false;
  return r.anyGroup || q.groups.some((g) => r.group(g));
}

function describeTarget(q: PolicyQuestion, collection: string | undefined): string {
  const target = collection === undefined ? `connection "${q.connection}"` : `collection "${collection}" of connection "${q.connection}"`;
  return `${target}${describeScope(q)}`;
}

/** Named only when it is not the default, which most requests address. */
function describeScope(q: Pick<PolicyQuestion, 'tenant' | 'database'>): string {
  const isDefault = (q.tenant ?? DEFAULT_SCOPE.tenant) === DEFAULT_SCOPE.tenant && (q.database ?? DEFAULT_SCOPE.database) === DEFAULT_SCOPE.database;
  if (isDefault) return '';
  const parts = [q.tenant !== undefined ? `tenant "${q.tenant}"` : '', q.database !== undefined ? `database "${q.database}"` : ''].filter(Boolean);
  return ` in ${parts.join(', ')}`;
}

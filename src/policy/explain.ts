import type { Config } from '../config/schema';
import { DEFAULT_SCOPE, type Classification, type Dialect, type DialectName, type OperationClass, type RequestScope } from '../dialect/types';
import { routeRequest } from '../gateway/routing';
import { compileMasking, type MaskGuard } from '../masking';
import { compileVolumeLimits, describeLimits, judgeVolume } from '../volume';
import { compilePolicy, decide, type Decision } from './evaluate';
import { FILTER_ON_MASKED_RULE, judgeFilters } from './masked-filters';

/** A what-if question for `vecgate policy explain`: a request, or an operation on collections. */
export interface ExplainQuestion {
  subject: string;
  groups: string[];
  connection: string;
  request?: { method: string; path: string; body?: unknown };
  operation?: OperationClass;
  /** collection names; for a request they stand in for collection ids, which only the database can resolve */
  collections?: string[];
  /** the tenant/database of an --operation question; a request's path names its own */
  tenant?: string;
  database?: string;
}

export interface Explanation {
  classification?: Classification;
  operation: OperationClass;
  collections: string[];
  /** the tenant/database the question was judged in */
  scope: RequestScope;
  decision: Decision;
  /** which masking rules would apply to the response, and what they mask */
  masking: string[];
  /** for an allowed operation: the record limits past which a search or read counts as export */
  volume?: string;
  /** when results are masked for the caller: which filters are refused (or reviewed) */
  filtersOnMasked?: string;
  lines: string[];
}

/** Same classification and policy as the gateway, without any I/O. */
export function explain(config: Config, dialectFor: (name: DialectName) => Dialect, q: ExplainQuestion): Explanation {
  const conn = config.connections.find((c) => c.name === q.connection);
  if (!conn) throw new Error(`connection "${q.connection}" is not in the configuration (known: ${config.connections.map((c) => c.name).join(', ')})`);
  const lines: string[] = [`${q.subject} (groups: ${q.groups.join(', ') || 'none'}) on connection "${conn.name}" (${conn.dialect})`];
  let classification: Classification | undefined;
  let operation = q.operation;
  let collections = q.collections ?? [];
  let scope: RequestScope = { ...(q.tenant !== undefined ? { tenant: q.tenant } : {}), ...(q.database !== undefined ? { database: q.database } : {}) };

  if (q.request) {
    const route = routeRequest(q.request.path, conn.name);
    const result = dialectFor(conn.dialect).classify({ method: q.request.method.toUpperCase(), path: route.path, segments: route.segments, query: route.query, body: q.request.body });
    if (!result.known) {
      lines.push(`request: ${q.request.method.toUpperCase()} ${route.path}`, `unknown endpoint: ${result.reason}`, 'outcome: DENY (unknown endpoints are denied by default)');
      return { operation: 'admin', collections: [], scope: {}, decision: { effect: 'deny', ruleId: 'unknown-endpoint', explanation: result.reason }, masking: [], lines };
    }
    classification = result.classification;
    operation = classification.operation;
    scope = classification.scope ?? {};
    const byId = classification.collections.filter((c) => c.kind === 'id');
    if (byId.length > 0 && !q.collections) {
      throw new Error(`the request names collection id(s) ${byId.map((c) => (c.kind === 'id' ? c.id : '')).join(', ')}; only the database knows their names: pass --collection NAME`);
    }
    if (!q.collections) collections = classification.collections.map((c) => (c.kind === 'name' ? c.name : ''));
    lines.push(`request: ${q.request.method.toUpperCase()} ${route.path} -> ${classification.endpoint}`, `class: ${operation}${classification.bulk ? ' (bulk)' : ''}: ${classification.reason}`);
  }
  if (!operation) throw new Error('give either a request (--method and --path) or an --operation');
  const policy = compilePolicy(config.policy.rules);
  const question = { subject: q.subject, groups: q.groups, connection: conn.name, operation, collections, ...scope };
  let decision = decide(policy, question);
  lines.push(
    `collections: ${collections.length ? collections.join(', ') : '(none: connection-level)'}`,
    `scope: ${scope.tenant === undefined && scope.database === undefined ? '(no tenant or database: server-level)' : [scope.tenant !== undefined ? `tenant "${scope.tenant}"` : '', scope.database !== undefined ? `database "${scope.database}"` : ''].filter(Boolean).join(', ')}`,
  );
  if (classification?.requested !== undefined) lines.push(`records asked for: ${classification.requested}`);

  // explain never masks a value, so the token style needs no real key here
  const masker = compileMasking(config.masking.rules, { tokenKey: Buffer.alloc(32) });
  const plan = masker.planFor({ connection: conn.name, collections, groups: q.groups });
  const guard = plan?.masks ? plan.guarded : undefined;
  const filtersOnMasked = guard ? describeGuard(guard) : undefined;
  const filters = judgeFilters(classification?.filters, guard);
  const limits = decision.effect === 'allow' ? compileVolumeLimits(config).limitsFor(conn.name, decision.ruleId) : undefined;
  const volume = decision.effect === 'allow' && (operation === 'search' || operation === 'read') ? describeLimits(limits) : undefined;
  // explain cannot know what was already sent, so only the per-request limit is judged here
  const verdict = judgeVolume({ operation, requested: classification?.requested, limits: limits?.maxRecordsPerRequest ? { maxRecordsPerRequest: limits.maxRecordsPerRequest } : undefined, unreachableAllowance: 0 });
  const exportReason = decision.effect === 'deny' ? undefined : filters.verdict === 'review' ? filters.reason : verdict.export ? verdict.reason : undefined;
  if (filters.verdict === 'refuse' && decision.effect !== 'deny') {
    decision = { effect: 'deny', ruleId: FILTER_ON_MASKED_RULE, explanation: filters.reason };
  } else if (exportReason && decision.effect === 'allow') {
    const again = decide(policy, { ...question, operation: 'export' });
    decision = { ...again, explanation: `${again.explanation} The ${operation} counts as export: ${exportReason.replace(/\.$/, '')}.` };
  }
  lines.push(`outcome: ${decision.effect.toUpperCase()} by rule ${decision.ruleId}`, decision.explanation);
  const rule = config.policy.rules.find((r) => r.id === decision.ruleId);
  if (rule) lines.push(`rule ${rule.id} covers tenants: ${(rule.tenants ?? [DEFAULT_SCOPE.tenant]).join(', ')}; databases: ${(rule.databases ?? [DEFAULT_SCOPE.database]).join(', ')}`);
  if (volume) lines.push(`volume: ${volume}`);
  const masking = masker.explain({ connection: conn.name, collections, groups: q.groups });
  lines.push(...masking.map((m) => `masking: ${m}`));
  if (filtersOnMasked) lines.push(`filters: ${filtersOnMasked}`);
  return { classification, operation, collections, scope, decision, masking, ...(volume ? { volume } : {}), ...(filtersOnMasked ? { filtersOnMasked } : {}), lines };
}

function describeGuard(guard: MaskGuard): string {
  const what = [
    ...(guard.fields.length > 0 ? [`metadata keys designated in the masking rules (${guard.fields.join(', ')})`] : []),
    ...(guard.documentDetectors || guard.fields.some((f) => f === 'document' || f.startsWith('*')) ? ['document text ($contains, $not_contains, $regex, $not_regex)'] : []),
  ];
  if (what.length === 0) return 'no filter touches masked data';
  const outcome = guard.onFilter === 'refuse' ? 'are refused (FILTER_ON_MASKED)' : 'count as export (review)';
  return `filters on ${what.join(' and ')} ${outcome} for this caller; other filters work`;
}

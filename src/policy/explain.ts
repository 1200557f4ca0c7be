import type { Config } from '../config/schema';
import type { Classification, Dialect, DialectName, OperationClass } from '../dialect/types';
import { routeRequest } from '../gateway/routing';
import { compileMasking } from '../masking';
import { compilePolicy, decide, type Decision } from './evaluate';

/** A what-if question for `vecgate policy explain`: a request, or an operation on collections. */
export interface ExplainQuestion {
  subject: string;
  groups: string[];
  connection: string;
  request?: { method: string; path: string; body?: unknown };
  operation?: OperationClass;
  /** collection names; for a request they stand in for collection ids, which only the database can resolve */
  collections?: string[];
}

export interface Explanation {
  classification?: Classification;
  operation: OperationClass;
  collections: string[];
  decision: Decision;
  /** which masking rules would apply to the response, and what they mask */
  masking: string[];
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

  if (q.request) {
    const route = routeRequest(q.request.path, conn.name);
    const result = dialectFor(conn.dialect).classify({ method: q.request.method.toUpperCase(), path: route.path, segments: route.segments, query: route.query, body: q.request.body });
    if (!result.known) {
      lines.push(`request: ${q.request.method.toUpperCase()} ${route.path}`, `unknown endpoint: ${result.reason}`, 'outcome: DENY (unknown endpoints are denied by default)');
      return { operation: 'admin', collections: [], decision: { effect: 'deny', ruleId: 'unknown-endpoint', explanation: result.reason }, masking: [], lines };
    }
    classification = result.classification;
    operation = classification.operation;
    const byId = classification.collections.filter((c) => c.kind === 'id');
    if (byId.length > 0 && !q.collections) {
      throw new Error(`the request names collection id(s) ${byId.map((c) => (c.kind === 'id' ? c.id : '')).join(', ')}; only the database knows their names: pass --collection NAME`);
    }
    if (!q.collections) collections = classification.collections.map((c) => (c.kind === 'name' ? c.name : ''));
    lines.push(`request: ${q.request.method.toUpperCase()} ${route.path} -> ${classification.endpoint}`, `class: ${operation}${classification.bulk ? ' (bulk)' : ''}: ${classification.reason}`);
  }
  if (!operation) throw new Error('give either a request (--method and --path) or an --operation');
  const decision = decide(compilePolicy(config.policy.rules), { subject: q.subject, groups: q.groups, connection: conn.name, operation, collections });
  lines.push(`collections: ${collections.length ? collections.join(', ') : '(none: connection-level)'}`, `outcome: ${decision.effect.toUpperCase()} by rule ${decision.ruleId}`, decision.explanation);
  // explain never masks a value, so the token style needs no real key here
  const masking = compileMasking(config.masking.rules, { tokenKey: Buffer.alloc(32) }).explain({ connection: conn.name, collections, groups: q.groups });
  lines.push(...masking.map((m) => `masking: ${m}`));
  return { classification, operation, collections, decision, masking, lines };
}

import type { Config, VolumeLimits } from '../config/schema';

/**
 * The record limits in force for an allowed request: the allow rule's own values, each falling back
 * to its connection's default. `source` names where each came from, for reasons and `policy explain`.
 */
export interface EffectiveLimits {
  maxRecordsPerRequest?: { records: number; source: string };
  window?: { records: number; seconds: number; source: string };
}

export interface VolumeLimitTable {
  /** undefined when neither the rule nor the connection sets a limit */
  limitsFor(connection: string, ruleId: string): EffectiveLimits | undefined;
  /** the longest window anywhere in the configuration, in seconds (0: no window): how long counts are kept */
  readonly longestWindowSeconds: number;
}

export function compileVolumeLimits(config: Pick<Config, 'connections' | 'policy'>): VolumeLimitTable {
  const byConnection = new Map(config.connections.map((c) => [c.name, c.volume]));
  const byRule = new Map(config.policy.rules.map((r) => [r.id, r.volume]));
  const windows = [...byConnection.values(), ...byRule.values()].map((v) => v?.window?.seconds ?? 0);
  return {
    longestWindowSeconds: Math.max(0, ...windows),
    limitsFor(connection, ruleId) {
      return effectiveLimits(byRule.get(ruleId), ruleId, byConnection.get(connection), connection);
    },
  };
}

export function effectiveLimits(rule: VolumeLimits | undefined, ruleId: string, conn: VolumeLimits | undefined, connection: string): EffectiveLimits | undefined {
  const limits: EffectiveLimits = {};
  const ruleSource = `rule "${ruleId}"`;
  const connSource = `connection "${connection}"`;
  const max = rule?.maxRecordsPerRequest !== undefined ? { records: rule.maxRecordsPerRequest, source: ruleSource } : conn?.maxRecordsPerRequest !== undefined ? { records: conn.maxRecordsPerRequest, source: connSource } : undefined;
  const window = rule?.window ? { ...rule.window, source: ruleSource } : conn?.window ? { ...conn.window, source: connSource } : undefined;
  if (max) limits.maxRecordsPerRequest = max;
  if (window) limits.window = window;
  return max || window ? limits : undefined;
}

/** One line for `policy explain`. */
export function describeLimits(limits: EffectiveLimits | undefined): string {
  if (!limits) return 'no record limits: searches and reads count as themselves, however many records they return';
  const parts: string[] = [];
  if (limits.maxRecordsPerRequest) parts.push(`more than ${limits.maxRecordsPerRequest.records} records in one request (${limits.maxRecordsPerRequest.source})`);
  if (limits.window) parts.push(`more than ${limits.window.records} records to one principal from one collection within ${limits.window.seconds} s (${limits.window.source})`);
  return `a search or read asking for ${parts.join(', or ')} counts as export`;
}

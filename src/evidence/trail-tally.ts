import type { AuditEvent } from '../audit/event';
import type { Count, TrailSummary } from './summary';

/**
 * The counts of the trail section, folded one event at a time as the export streams the period:
 * pure, and bounded by the number of distinct principals, collections and time buckets, never by
 * the number of events. What the report shows and the access review compares with the policy.
 */

/** Denials listed one by one in the summary; the counts hold them all. */
export const MAX_LISTED_DENIALS = 1000;

/** What one principal did in the period, for the access review. */
export interface PrincipalUsage {
  subject: string;
  email?: string;
  /** every group the principal's tokens carried in the period */
  groups: Set<string>;
  /** by "operation collection" (or "operation" for connection-level requests) */
  used: Map<string, number>;
  /** by rule id: how many requests each rule decided */
  byRule: Map<string, number>;
  denied: number;
  exports: number;
  masked: number;
}

type TallyEvent = Pick<AuditEvent, 'time' | 'principal' | 'operation' | 'collections' | 'decision' | 'status' | 'error' | 'masking' | 'refusedCount' | 'system'> & {
  time: Date | string;
};

export class TrailTally {
  events = 0;
  requests = 0;
  private readonly byPrincipal = new Map<string, number>();
  private readonly byCollection = new Map<string, number>();
  private readonly byOperation = new Map<string, number>();
  private readonly byDecision = new Map<string, number>();
  private readonly byStatus = new Map<string, number>();
  private readonly byDetector = new Map<string, number>();
  private readonly byRule = new Map<string, number>();
  private readonly byField = new Map<string, number>();
  private readonly buckets = new Map<number, { allowed: number; denied: number; review: number; other: number }>();
  readonly denials: TrailSummary['denials'] = [];
  denialsOmitted = 0;
  private exports = 0;
  private eventsWithMasking = 0;
  private valuesMasked = 0;
  private refused = 0;
  readonly principals = new Map<string, PrincipalUsage>();

  /** `bucketMs`: an hour, or a day for periods longer than two weeks (see bucketFor). */
  constructor(private readonly bucketMs: number) {}

  add(e: TallyEvent): void {
    this.events += 1;
    if (e.refusedCount) this.refused += e.refusedCount;
    if (e.system) return;
    this.requests += 1;
    const time = new Date(e.time);
    const effect = e.decision.effect;
    const who = e.principal?.subject ?? '(anonymous)';
    inc(this.byPrincipal, e.principal?.email ? `${e.principal.email} (${who})` : who);
    for (const c of e.collections) inc(this.byCollection, c);
    inc(this.byOperation, e.operation ?? '(none)');
    inc(this.byDecision, effect);
    inc(this.byStatus, e.status === 0 ? 'none' : `${Math.floor(e.status / 100)}xx`);
    if (e.operation === 'export') this.exports += 1;

    const bucket = Math.floor(time.getTime() / this.bucketMs) * this.bucketMs;
    const b = this.buckets.get(bucket) ?? { allowed: 0, denied: 0, review: 0, other: 0 };
    if (effect === 'allow') b.allowed += 1;
    else if (effect === 'deny') b.denied += 1;
    else if (effect === 'review') b.review += 1;
    else b.other += 1;
    this.buckets.set(bucket, b);

    if (effect === 'deny') {
      if (this.denials.length < MAX_LISTED_DENIALS) {
        this.denials.push({ time: time.toISOString(), principal: who, operation: e.operation ?? '(none)', collections: e.collections, ruleId: e.decision.ruleId, code: e.error?.code ?? null });
      } else {
        this.denialsOmitted += 1;
      }
    }
    const m = e.masking;
    if (m && m.valuesMasked > 0) {
      this.eventsWithMasking += 1;
      this.valuesMasked += m.valuesMasked;
      for (const d of m.detectorsFired) inc(this.byDetector, d.detector, d.count);
      for (const r of m.rulesApplied) inc(this.byRule, r);
      for (const f of m.fieldsMasked) inc(this.byField, f.field, f.count);
    }

    if (!e.principal) return;
    const p: PrincipalUsage = this.principals.get(who) ?? { subject: who, groups: new Set<string>(), used: new Map(), byRule: new Map(), denied: 0, exports: 0, masked: 0 };
    if (e.principal.email) p.email = e.principal.email;
    for (const g of e.principal.groups) p.groups.add(g);
    const op = e.operation ?? '(none)';
    if (e.collections.length === 0) inc(p.used, op);
    for (const c of e.collections) inc(p.used, `${op} ${c}`);
    if (e.decision.ruleId) inc(p.byRule, e.decision.ruleId);
    if (effect === 'deny') p.denied += 1;
    if (e.operation === 'export') p.exports += 1;
    p.masked += m?.valuesMasked ?? 0;
    this.principals.set(who, p);
  }

  summary(): Omit<TrailSummary, 'instances' | 'verdict' | 'verdictLines' | 'configurations'> {
    return {
      events: this.events,
      requests: this.requests,
      byPrincipal: counts(this.byPrincipal),
      byCollection: counts(this.byCollection),
      byOperation: counts(this.byOperation),
      byDecision: counts(this.byDecision),
      byStatus: counts(this.byStatus),
      denials: this.denials,
      exports: this.exports,
      masking: { eventsWithMasking: this.eventsWithMasking, valuesMasked: this.valuesMasked, byDetector: counts(this.byDetector), byRule: counts(this.byRule), byField: counts(this.byField) },
      timeline: [...this.buckets.entries()].sort((a, b) => a[0] - b[0]).map(([start, c]) => ({ start: new Date(start).toISOString(), ...c })),
      refusedWhileStoreAway: this.refused,
    };
  }
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** Hourly buckets, daily ones past two weeks: the timeline stays a few hundred bars at most. */
export function bucketFor(from: Date, to: Date): number {
  return to.getTime() - from.getTime() > 14 * DAY ? DAY : HOUR;
}

function inc(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** Largest first, then by key, so the report and the files are the same for the same trail. */
export function counts(map: ReadonlyMap<string, number>): Count[] {
  return [...map.entries()].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

import type { OperationClass } from '../dialect/types';
import type { ErrorCode } from '../errors';

/**
 * One request, as the evidence keeps it: who, what, the decision and the rule behind it, and how
 * it ended. Every request writes exactly one, whether allowed, denied or failed.
 */
export interface AuditEvent {
  /** the gateway instance that saw the request; with seq it orders that instance's events */
  instanceId: string;
  /** strictly increasing per instance, without gaps: a later chain hashes events in this order */
  seq: number;
  requestId: string;
  /** when the request arrived */
  time: Date;
  principal: { subject: string; email?: string; groups: string[]; issuer: string } | null;
  client: { ip: string; userAgent?: string };
  connection: string | null;
  dialect: string | null;
  /** as the gateway routed it: the canonical path, the query string, the dialect's endpoint and the body's sha256 */
  request: { method: string; path: string; query?: string; endpoint: string | null; bodySha256?: string };
  operation: OperationClass | null;
  /** collection names (ids resolved) the request touched */
  collections: string[];
  bulk: boolean;
  /** none: the request ended before a policy decision (bad token, bad framing, ...) */
  decision: { effect: 'allow' | 'review' | 'deny' | 'none'; ruleId: string | null; explanation: string };
  /** the status the caller got */
  status: number;
  error?: { code: ErrorCode; message: string };
  upstream?: { status?: number; latencyMs?: number };
  /** a high-risk request: the approval (workflow id) it asked for, and the grant it ran with */
  approval?: { approvalId: string; runId?: string; grantId?: string };
  /** which masking rules and detectors fired and how many values were masked; never the values */
  masking?: MaskingEvidence;
  /** a collection listing or count: how many collections policy hid from the caller */
  listing?: { hidden: number };
  /** records a read or search asked for (unbounded: no limit) and records its answer held */
  records?: { requested?: number | 'unbounded'; returned?: number };
  latencyMs: number;
  bytesIn: number;
  bytesOut: number;
  /** only on a summary of refusals made while the audit store was unavailable: how many */
  refusedCount?: number;
  /** sha256 of the configuration in force when the event was sealed (the configuration itself is an event of its own) */
  configSha256?: string;
  /** set on events of the gateway itself (its configuration, a cut spool tail), which are no request */
  system?: true;
  /** only on the event a gateway writes at start: the configuration it runs with (no secrets) */
  configuration?: unknown;
  /** set on the event written for an intent whose request was forwarded when the gateway stopped */
  interrupted?: string;
  /** set when the store refused the full event and only its essentials were kept */
  storedPartially?: string;
}

/** Masking statistics as stored: counts in lists, since field paths contain dots. */
export interface MaskingEvidence {
  rulesApplied: string[];
  rulesExempted: string[];
  detectorsFired: Array<{ detector: string; count: number }>;
  fieldsMasked: Array<{ field: string; count: number }>;
  valuesMasked: number;
}

export type AuditRecord = Omit<AuditEvent, 'instanceId' | 'seq'>;

/** Where the gateway writes evidence. `accepting` says whether it may serve. */
export interface AuditLog {
  readonly instanceId: string;
  /** resolves once the event is durable: the response may be completed then, and not before */
  commit(event: AuditRecord): Promise<void>;
  /** resolves once the intent of a change or export is durable: the request may be forwarded then */
  intend(event: AuditRecord): Promise<void>;
  /** false when events cannot be kept: the gateway then refuses requests instead of serving them unaudited */
  accepting(): boolean;
  /** events recorded but not yet stored */
  pending(): number;
  /** writes what is queued; resolves when all is stored or the timeout passes */
  flush(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

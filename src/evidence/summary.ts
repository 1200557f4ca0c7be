/**
 * What an export found, as plain data: the report (report.ts) and the ISO 27001 control map
 * (control-map.ts) are pure functions of it, and it is written as `summary.json`. Each section of
 * the export fills its own part.
 */

export interface EvidenceSummary {
  period: { from: string; to: string };
  generatedAt: string;
  tool: { name: 'vecgate'; version: string };
  /** true when `--unmasked` was given: renderings and histories hold personal data unmasked */
  unmasked: boolean;
  trail: TrailSummary;
  approvals: ApprovalsSummary;
  accessReview: AccessReviewSummary;
  /** bundle paths, by what they hold; the control map cites these */
  files: Partial<Record<EvidenceFileRole, string[]>>;
}

export type EvidenceFileRole =
  | 'events'
  | 'verification'
  | 'proofs'
  | 'checkpoints'
  | 'histories'
  | 'approvals'
  | 'accessReview'
  | 'configurations'
  | 'controlMap'
  | 'report'
  | 'summary';

export interface TrailSummary {
  /** events in the period, request events and system events alike */
  events: number;
  requests: number;
  instances: string[];
  /** ok: every chain verifies against signed checkpoints; failed: tampering or loss found; unverified: no checkpoint or no key to check */
  verdict: 'ok' | 'failed' | 'unverified';
  /** one line per finding, as `vecgate audit verify` prints it */
  verdictLines: string[];
  byPrincipal: Count[];
  byCollection: Count[];
  byOperation: Count[];
  byDecision: Count[];
  /** status classes: 2xx, 4xx, 5xx */
  byStatus: Count[];
  denials: Array<{ time: string; principal: string; operation: string; collections: string[]; ruleId: string | null; code: string | null }>;
  /** denials past the listed ones (byDecision counts them all) */
  denialsOmitted?: number;
  /** requests classed as export */
  exports: number;
  masking: { eventsWithMasking: number; valuesMasked: number; byDetector: Count[]; byRule: Count[]; byField: Count[] };
  /** requests per hour (or per day for long periods), for the timeline */
  timeline: Array<{ start: string; allowed: number; denied: number; review: number; other: number }>;
  /** configurations gateways started with in the period (or were in force at its start) */
  configurations: Array<{ sha256: string; firstSeen: string; instances: string[] }>;
  /** refusals while the audit store was away (summary events) */
  refusedWhileStoreAway: number;
}

export interface Count {
  key: string;
  count: number;
}

export interface ApprovalsSummary {
  total: number;
  byStatus: Count[];
  /** the rows of approvals.csv the report shows (the csv holds them all) */
  rows: ApprovalRow[];
  /** rows left out of `rows` (the report says so) */
  rowsOmitted: number;
  decisions: number;
  refusedDecisions: number;
  executed: number;
  /** approval ids the trail names whose Temporal history is gone (retention) or was never found */
  missingHistories: string[];
  /** false when Temporal could not be reached: the bundle then says approvals are not evidenced */
  temporalReached: boolean;
  /** values masked in the exported histories and approvals.csv (0 with --unmasked) */
  valuesMasked?: number;
}

export interface ApprovalRow {
  approvalId: string;
  runId: string;
  requester: string;
  reason: string;
  operation: string;
  collections: string[];
  status: string;
  requestedAt: string;
  /** approver (subject or e-mail), decision and time */
  decisions: Array<{ approver: string; decision: 'approve' | 'deny'; at: string; reason?: string }>;
  refusals: number;
  grantClaimedAt?: string;
  execution?: { status: number; bytes: number; sha256: string; at: string };
}

export interface AccessReviewSummary {
  principals: Array<{ principal: string; email?: string; groups: string[]; allowed: Count[]; used: Count[]; denied: number; exports: number; masked: number }>;
  groups: Array<{ group: string; rules: string[]; members: number; used: Count[] }>;
}

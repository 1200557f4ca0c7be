import type { Count, EvidenceFileRole, EvidenceSummary } from './summary';

/**
 * The ISO/IEC 27001 Annex A controls a vecgate bundle evidences, in the 2022 and 2013 editions.
 * Each entry names the bundle files an auditor opens for it and the counts the export found, and
 * says in a sentence what vecgate does for it and where its part stops: a control map that claims
 * more than the product does is worse than none.
 *
 * The 2022 -> 2013 correspondences are those of ISO/IEC 27002:2022 Annex B (Table B.1, 2022 to
 * 2013; Table B.2 is the same correspondence the other way). Checked 2026-11-30 against two
 * published copies of that table (both agree for every control here):
 *  - "Mapping Tables ISO 27002 2022-2013" (scribd.com/document/580731981), a transcript of Table B.1;
 *  - cyberzoni.com/iso-27002 "ISO 27002 Annex B" cross-reference table.
 * Control titles: ISO/IEC 27001:2022 Annex A and ISO/IEC 27001:2013 Annex A (Table A.1).
 * No correspondence below is unconfirmed; `confirmed: false` exists so a future addition that
 * cannot be checked says so instead of passing as Annex B.
 */

export const CONTROL_MAP_SOURCE =
  'ISO/IEC 27002:2022 Annex B, Table B.1 (correspondence of ISO/IEC 27002:2022 controls with ISO/IEC 27002:2013) and Table B.2; ' +
  'titles from ISO/IEC 27001:2022 and ISO/IEC 27001:2013 Annex A. Checked against published transcripts of Table B.1 on 2026-11-30.';

export interface ControlEntry {
  edition: '2022' | '2013';
  id: string;
  title: string;
  /** bundle files that evidence it; a path ending in `/` cites every file under that folder */
  evidence: string[];
  counts: Record<string, number>;
  /** how vecgate supports it, one or two sentences */
  how: string;
  /**
   * For a 2022 control: the 2013 controls Annex B maps it to (empty for controls new in 2022).
   * For a 2013 control: the 2022 control it became.
   */
  corresponds?: string[];
  /** what the export found that is not a count, e.g. the trail's verdict or the unmasked choice */
  findings?: string[];
  /** false when the Annex B correspondence could not be confirmed (none today) */
  confirmed?: boolean;
}

export interface ControlMap {
  source: string;
  controls: ControlEntry[];
  /**
   * 2013 controls inside the ranges the product names (A.9.1.1-A.9.4.2) that this bundle does not
   * evidence, with the reason: an auditor sees the gap instead of guessing it.
   */
  notEvidenced?: Array<{ edition: '2022' | '2013'; id: string; title: string; why: string }>;
}

interface Control2013 {
  id: string;
  title: string;
}

interface Control2022 {
  id: string;
  title: string;
  /** Annex B, Table B.1; empty: new in 2022 */
  from2013: Control2013[];
  roles: EvidenceFileRole[];
  how: string;
  counts: (s: EvidenceSummary) => Record<string, number>;
  findings?: (s: EvidenceSummary) => string[];
}

const count = (counts: readonly Count[], key: string): number => counts.find((c) => c.key === key)?.count ?? 0;
const fileCount = (s: EvidenceSummary, role: EvidenceFileRole): number => s.files[role]?.length ?? 0;
const authFailures = (s: EvidenceSummary): number => s.trail.denials.filter((d) => d.code?.startsWith('TOKEN_') ?? false).length;

const verdictFinding = (s: EvidenceSummary): string => `audit trail verification: ${s.trail.verdict}`;
const maskingFinding = (s: EvidenceSummary): string =>
  s.unmasked ? 'exported UNMASKED (--unmasked): renderings and histories in this bundle hold personal data' : 'exported masked: renderings and histories in this bundle are masked';
const temporalFinding = (s: EvidenceSummary): string[] =>
  s.approvals.temporalReached ? [] : ['Temporal was not reached: approval workflows are not evidenced by histories in this bundle'];

/** The table: one row per 2022 control, in Annex A order. */
const CONTROLS: readonly Control2022[] = [
  {
    id: '5.3',
    title: 'Segregation of duties',
    from2013: [{ id: 'A.6.1.2', title: 'Segregation of duties' }],
    roles: ['approvals', 'histories'],
    how: 'Held requests run only after approvers other than the requester decide in Slack; the workflow refuses a requester approving their own request and the refusal is recorded. Who may hold which duty is set by the organisation in policy.',
    counts: (s) => ({ approvals: s.approvals.total, decisions: s.approvals.decisions, refusedDecisions: s.approvals.refusedDecisions }),
    findings: temporalFinding,
  },
  {
    id: '5.15',
    title: 'Access control',
    from2013: [
      { id: 'A.9.1.1', title: 'Access control policy' },
      { id: 'A.9.1.2', title: 'Access to networks and network services' },
    ],
    roles: ['configurations', 'events', 'accessReview'],
    how: 'Every request to the vector database passes the gateway, which enforces the configured least-privilege policy (deny over review over allow, default deny); the configurations in force and each decision with its rule are in the bundle.',
    counts: (s) => ({
      requests: s.trail.requests,
      allowed: count(s.trail.byDecision, 'allow'),
      denied: count(s.trail.byDecision, 'deny'),
      review: count(s.trail.byDecision, 'review'),
      configurations: s.trail.configurations.length,
      groupsInPolicy: s.accessReview.groups.length,
    }),
  },
  {
    id: '5.16',
    title: 'Identity management',
    from2013: [{ id: 'A.9.2.1', title: 'User registration and de-registration' }],
    roles: ['events', 'accessReview'],
    how: 'Each request is attributed to the principal of a verified OIDC access token, so no shared or anonymous access reaches the database. Registering and removing identities is done in the identity provider, not in vecgate.',
    counts: (s) => ({ principalsSeen: s.trail.byPrincipal.length, requests: s.trail.requests }),
  },
  {
    id: '5.18',
    title: 'Access rights',
    from2013: [
      { id: 'A.9.2.2', title: 'User access provisioning' },
      { id: 'A.9.2.5', title: 'Review of user access rights' },
      { id: 'A.9.2.6', title: 'Removal or adjustment of access rights' },
    ],
    roles: ['accessReview', 'configurations'],
    how: 'The access review sets what policy allowed each principal and group against what they used in the period, so unused rights can be removed; rights are granted through policy groups from the identity provider.',
    counts: (s) => ({
      principalsReviewed: s.accessReview.principals.length,
      groupsReviewed: s.accessReview.groups.length,
      principalsWithUnusedRights: s.accessReview.principals.filter((p) => p.allowed.some((a) => count(p.used, a.key) === 0)).length,
    }),
  },
  {
    id: '5.28',
    title: 'Collection of evidence',
    from2013: [{ id: 'A.16.1.7', title: 'Collection of evidence' }],
    roles: ['events', 'verification', 'proofs', 'checkpoints', 'histories', 'summary'],
    how: 'The export collects the trail with its signed checkpoints and inclusion proofs and every approval workflow history in one bundle whose manifest hashes and signs each file, so the evidence can be shown unchanged since export.',
    counts: (s) => ({
      events: s.trail.events,
      checkpointFiles: fileCount(s, 'checkpoints'),
      proofFiles: fileCount(s, 'proofs'),
      histories: fileCount(s, 'histories'),
      missingHistories: s.approvals.missingHistories.length,
    }),
    findings: (s) => [verdictFinding(s), ...temporalFinding(s), ...(s.approvals.missingHistories.length > 0 ? [`${s.approvals.missingHistories.length} approval histories missing (Temporal retention)`] : [])],
  },
  {
    id: '5.33',
    title: 'Protection of records',
    from2013: [{ id: 'A.18.1.3', title: 'Protection of records' }],
    roles: ['events', 'verification', 'checkpoints'],
    how: 'Audit events are hash-chained per gateway instance and sealed by Ed25519-signed checkpoints kept apart from the database, so an edit, deletion or reordering is detected by verification; retention of the store is the organisation\'s.',
    counts: (s) => ({ events: s.trail.events, instances: s.trail.instances.length, checkpointFiles: fileCount(s, 'checkpoints') }),
    findings: (s) => [verdictFinding(s)],
  },
  {
    id: '5.34',
    title: 'Privacy and protection of PII',
    from2013: [{ id: 'A.18.1.4', title: 'Privacy and protection of personally identifiable information' }],
    roles: ['events', 'accessReview', 'approvals'],
    how: 'Personal data in answers is masked for callers whose policy says so, and approvers see masked renderings; the bundle itself is masked unless exported with --unmasked, which is recorded.',
    counts: (s) => ({ eventsWithMasking: s.trail.masking.eventsWithMasking, valuesMasked: s.trail.masking.valuesMasked }),
    findings: (s) => [maskingFinding(s)],
  },
  {
    id: '8.2',
    title: 'Privileged access rights',
    from2013: [{ id: 'A.9.2.3', title: 'Management of privileged access rights' }],
    roles: ['approvals', 'histories', 'events'],
    how: 'Operations policy marks for review (deletes, exports, administration) are held until approved in Slack; the grant is single-use and bound to the exact request body, and each decision is Ed25519-signed and recorded with its time.',
    counts: (s) => ({
      approvals: s.approvals.total,
      // approved, whether then executed or left to expire unused
      approved: count(s.approvals.byStatus, 'approved') + count(s.approvals.byStatus, 'executed') + count(s.approvals.byStatus, 'grant_expired'),
      deniedByApprover: count(s.approvals.byStatus, 'denied'),
      expired: count(s.approvals.byStatus, 'expired'),
      executed: s.approvals.executed,
      decisions: s.approvals.decisions,
    }),
    findings: temporalFinding,
  },
  {
    id: '8.3',
    title: 'Information access restriction',
    from2013: [{ id: 'A.9.4.1', title: 'Information access restriction' }],
    roles: ['events', 'configurations', 'accessReview'],
    how: 'Policy restricts each principal to named collections and operation classes per tenant and database; listings are filtered to what the caller may see.',
    counts: (s) => ({ requests: s.trail.requests, denied: count(s.trail.byDecision, 'deny'), collections: s.trail.byCollection.length }),
  },
  {
    id: '8.5',
    title: 'Secure authentication',
    from2013: [{ id: 'A.9.4.2', title: 'Secure log-on procedures' }],
    roles: ['events', 'configurations'],
    how: 'The gateway accepts only signed OIDC access tokens of allowed clients, verified against the provider\'s keys; log-on itself (passwords, MFA) is the identity provider\'s.',
    counts: (s) => ({ requests: s.trail.requests, authenticationFailures: authFailures(s) }),
  },
  {
    id: '8.11',
    title: 'Data masking',
    from2013: [],
    roles: ['events', 'accessReview'],
    how: 'Answers are masked by the configured detectors and rules before they reach callers that may not see the values; each event records how many values were masked and by what.',
    counts: (s) => ({
      eventsWithMasking: s.trail.masking.eventsWithMasking,
      valuesMasked: s.trail.masking.valuesMasked,
      detectors: s.trail.masking.byDetector.length,
      rules: s.trail.masking.byRule.length,
    }),
    findings: (s) => [maskingFinding(s)],
  },
  {
    id: '8.12',
    title: 'Data leakage prevention',
    from2013: [],
    roles: ['events', 'approvals', 'accessReview'],
    how: 'Reads over a rule\'s per-request or windowed volume become exports that need approval, and filters that would probe masked values are refused; this covers the vector database path only.',
    counts: (s) => ({ exports: s.trail.exports, filtersOnMaskedRefused: s.trail.denials.filter((d) => d.code === 'FILTER_ON_MASKED').length, denied: count(s.trail.byDecision, 'deny') }),
  },
  {
    id: '8.15',
    title: 'Logging',
    from2013: [
      { id: 'A.12.4.1', title: 'Event logging' },
      { id: 'A.12.4.2', title: 'Protection of log information' },
      { id: 'A.12.4.3', title: 'Administrator and operator logs' },
    ],
    roles: ['events', 'verification', 'proofs', 'checkpoints'],
    how: 'Exactly one audit event per request, in every outcome, with principal, operation, collections, decision and result; the log is tamper-evident (hash chain, signed checkpoints) and verified in this export.',
    counts: (s) => ({ events: s.trail.events, requests: s.trail.requests, instances: s.trail.instances.length, refusedWhileStoreAway: s.trail.refusedWhileStoreAway }),
    findings: (s) => [verdictFinding(s), ...s.trail.verdictLines],
  },
  {
    id: '8.16',
    title: 'Monitoring activities',
    from2013: [],
    roles: ['events', 'summary'],
    how: 'vecgate supplies what monitoring needs (the trail, its syslog copy, metrics, and this report\'s denials and timeline); watching them and responding is the organisation\'s.',
    counts: (s) => ({ denied: count(s.trail.byDecision, 'deny'), timelineBuckets: s.trail.timeline.length, refusedWhileStoreAway: s.trail.refusedWhileStoreAway }),
  },
  {
    id: '8.17',
    title: 'Clock synchronization',
    from2013: [{ id: 'A.12.4.4', title: 'Clock synchronisation' }],
    roles: ['events'],
    how: 'Supported only by recorded times: every event carries its gateway\'s UTC time and a per-instance sequence, so order within an instance does not depend on the clock; vecgate does not synchronise clocks (the hosts\' NTP does).',
    counts: (s) => ({ events: s.trail.events, instances: s.trail.instances.length }),
  },
  {
    id: '8.24',
    title: 'Use of cryptography',
    from2013: [
      { id: 'A.10.1.1', title: 'Policy on the use of cryptographic controls' },
      { id: 'A.10.1.2', title: 'Key management' },
    ],
    roles: ['checkpoints', 'verification', 'histories', 'configurations'],
    how: 'Checkpoints, approval decisions and the bundle manifest are signed with Ed25519 and files are bound by SHA-256; key generation, storage and rotation are the organisation\'s.',
    counts: (s) => ({ checkpointFiles: fileCount(s, 'checkpoints'), signedDecisions: s.approvals.decisions, configurationHashes: s.trail.configurations.length }),
  },
  {
    id: '8.32',
    title: 'Change management',
    from2013: [
      { id: 'A.12.1.2', title: 'Change management' },
      { id: 'A.14.2.2', title: 'System change control procedures' },
      { id: 'A.14.2.3', title: 'Technical review of applications after operating platform changes' },
      { id: 'A.14.2.4', title: 'Restrictions on changes to software packages' },
    ],
    roles: ['configurations', 'events'],
    how: 'Every configuration a gateway started with is recorded by its SHA-256 with the instances and time it came into force, so policy changes in the period are visible; approving those changes is the organisation\'s process.',
    counts: (s) => ({ configurations: s.trail.configurations.length, instances: s.trail.instances.length }),
  },
];

/** In the range the product names (A.9.1.1-A.9.4.2) but not evidenced by vecgate, and why. */
const NOT_EVIDENCED: NonNullable<ControlMap['notEvidenced']> = [
  { edition: '2022', id: '5.17', title: 'Authentication information', why: 'vecgate holds no user secrets: passwords and keys of users are managed by the identity provider.' },
  { edition: '2013', id: 'A.9.2.4', title: 'Management of secret authentication information of users', why: 'Annex B maps it to 5.17, which the identity provider covers, not vecgate.' },
  { edition: '2013', id: 'A.9.3.1', title: 'Use of secret authentication information', why: 'Annex B maps it to 5.17, which the identity provider covers, not vecgate.' },
];

/** The control map of one export: a pure function of its summary. */
export function buildControlMap(summary: EvidenceSummary): ControlMap {
  const controls: ControlEntry[] = [];
  const derived: ControlEntry[] = [];
  for (const c of CONTROLS) {
    const evidence = [...new Set(c.roles.flatMap((role) => citeFiles(summary.files[role] ?? [])))];
    const counts = c.counts(summary);
    const findings = c.findings?.(summary) ?? [];
    const isNew = c.from2013.length === 0 ? ['new in ISO/IEC 27001:2022: no 2013 counterpart in Annex B'] : [];
    controls.push({
      edition: '2022',
      id: c.id,
      title: c.title,
      evidence,
      counts,
      how: c.how,
      corresponds: c.from2013.map((o) => o.id),
      ...(findings.length + isNew.length > 0 ? { findings: [...isNew, ...findings] } : {}),
      confirmed: true,
    });
    for (const old of c.from2013) {
      derived.push({
        edition: '2013',
        id: old.id,
        title: old.title,
        evidence,
        counts,
        how: `As ${c.id} ${c.title} (2022): ${c.how}`,
        corresponds: [c.id],
        ...(findings.length > 0 ? { findings } : {}),
        confirmed: true,
      });
    }
  }
  derived.sort((a, b) => compareIds(a.id, b.id));
  return { source: CONTROL_MAP_SOURCE, controls: [...controls, ...derived], notEvidenced: NOT_EVIDENCED };
}

/** More files of one kind than this are cited by their folder (10,000 histories would drown the map). */
const MAX_FILES_CITED = 12;

/** The files of one role, or their common folder (ending in `/`) when there are many. */
function citeFiles(paths: readonly string[]): string[] {
  if (paths.length <= MAX_FILES_CITED) return [...paths];
  let prefix = paths[0] ?? '';
  for (const p of paths) while (!p.startsWith(prefix)) prefix = prefix.slice(0, -1);
  const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
  return folder === '' ? [...paths] : [folder];
}

/** `A.9.2.10` after `A.9.2.9`: compare the numeric parts. */
function compareIds(a: string, b: string): number {
  const pa = a.replace(/^A\./, '').split('.').map(Number);
  const pb = b.replace(/^A\./, '').split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** `control-map.csv`: one row per control and edition, RFC 4180 quoting. */
export function controlMapCsv(map: ControlMap): string {
  const header = ['edition', 'control', 'title', 'corresponds', 'how', 'evidence', 'counts', 'findings'];
  const rows = map.controls.map((c) => [
    c.edition,
    c.id,
    c.title,
    (c.corresponds ?? []).join(' '),
    c.how,
    c.evidence.join(' '),
    Object.entries(c.counts)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
    (c.findings ?? []).join('; '),
  ]);
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

function csvField(value: string): string {
  // A leading = + - @ would run as a formula in a spreadsheet (CSV injection): prefix a quote.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

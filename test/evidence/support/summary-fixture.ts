import type { ApprovalRow, EvidenceSummary } from '../../../src/evidence/summary';

/**
 * A realistic export summary: a day with allowed, denied, masked and export requests, and approvals
 * that were approved and executed, denied by an approver, and left to expire. `overrides` replaces
 * top-level parts, so a test states only what it varies.
 */
export function summaryFixture(overrides: Partial<EvidenceSummary> = {}): EvidenceSummary {
  const rows: ApprovalRow[] = [
    {
      approvalId: 'apr-0001',
      runId: 'run-0001',
      requester: 'alice@example.com',
      reason: 'Quarterly export for the churn model (ticket DS-142)',
      operation: 'get',
      collections: ['customers'],
      status: 'executed',
      requestedAt: '2026-11-02T09:14:03.120Z',
      decisions: [{ approver: 'carol@example.com', decision: 'approve', at: '2026-11-02T09:20:41.002Z', reason: 'ticket checked' }],
      refusals: 1,
      grantClaimedAt: '2026-11-02T09:21:00.500Z',
      execution: { status: 200, bytes: 48213, sha256: 'a3f1c2d4e5b6a7980123456789abcdef0123456789abcdef0123456789abcdef', at: '2026-11-02T09:21:01.020Z' },
    },
    {
      approvalId: 'apr-0002',
      runId: 'run-0002',
      requester: 'bob@example.com',
      reason: 'Clean up test vectors',
      operation: 'delete',
      collections: ['customers', 'tickets'],
      status: 'denied',
      requestedAt: '2026-11-02T13:02:11.000Z',
      decisions: [{ approver: 'dave@example.com', decision: 'deny', at: '2026-11-02T13:10:09.400Z', reason: 'production collection, not test' }],
      refusals: 0,
    },
    {
      approvalId: 'apr-0003',
      runId: 'run-0003',
      requester: 'alice@example.com',
      reason: 'Re-index after schema change',
      operation: 'update',
      collections: ['tickets'],
      status: 'expired',
      requestedAt: '2026-11-02T17:45:00.000Z',
      decisions: [],
      refusals: 0,
    },
  ];
  const base: EvidenceSummary = {
    period: { from: '2026-11-02T00:00:00.000Z', to: '2026-11-03T00:00:00.000Z' },
    generatedAt: '2026-11-30T12:00:00.000Z',
    tool: { name: 'vecgate', version: '0.1.0' },
    unmasked: false,
    trail: {
      events: 1290,
      requests: 1284,
      instances: ['gw-a', 'gw-b'],
      verdict: 'ok',
      verdictLines: ['gw-a: 702 events, chain intact, checkpoint 702 signature ok', 'gw-b: 588 events, chain intact, checkpoint 588 signature ok'],
      byPrincipal: [
        { key: 'alice@example.com', count: 812 },
        { key: 'bob@example.com', count: 420 },
        { key: 'svc-indexer', count: 52 },
      ],
      byCollection: [
        { key: 'customers', count: 900 },
        { key: 'tickets', count: 384 },
      ],
      byOperation: [
        { key: 'query', count: 1100 },
        { key: 'get', count: 150 },
        { key: 'add', count: 30 },
        { key: 'delete', count: 4 },
      ],
      byDecision: [
        { key: 'allow', count: 1250 },
        { key: 'deny', count: 31 },
        { key: 'review', count: 3 },
      ],
      byStatus: [
        { key: '2xx', count: 1245 },
        { key: '4xx', count: 36 },
        { key: '5xx', count: 3 },
      ],
      denials: [
        { time: '2026-11-02T08:01:00.000Z', principal: 'bob@example.com', operation: 'delete', collections: ['customers'], ruleId: 'deny-delete-prod', code: 'POLICY_DENIED' },
        { time: '2026-11-02T10:30:12.000Z', principal: 'mallory@example.com', operation: 'query', collections: [], ruleId: null, code: 'TOKEN_INVALID' },
        { time: '2026-11-02T11:12:40.000Z', principal: 'alice@example.com', operation: 'query', collections: ['customers'], ruleId: 'analysts-read', code: 'FILTER_ON_MASKED' },
      ],
      exports: 2,
      masking: {
        eventsWithMasking: 640,
        valuesMasked: 15873,
        byDetector: [
          { key: 'email', count: 9000 },
          { key: 'phone', count: 6873 },
        ],
        byRule: [{ key: 'analysts-read', count: 15873 }],
        byField: [
          { key: 'metadatas.email', count: 9000 },
          { key: 'documents', count: 6873 },
        ],
      },
      timeline: Array.from({ length: 24 }, (_, h) => ({
        start: `2026-11-02T${String(h).padStart(2, '0')}:00:00.000Z`,
        allowed: h >= 8 && h < 19 ? 90 + ((h * 7) % 25) : 5,
        denied: h === 8 ? 12 : h % 5 === 0 ? 2 : 0,
        review: h === 9 || h === 13 || h === 17 ? 1 : 0,
        other: h === 3 ? 1 : 0,
      })),
      configurations: [
        { sha256: '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988', firstSeen: '2026-11-01T22:00:00.000Z', instances: ['gw-a', 'gw-b'] },
        { sha256: '9a8b7c6d5e4f30219a8b7c6d5e4f30219a8b7c6d5e4f30219a8b7c6d5e4f3021', firstSeen: '2026-11-02T15:00:00.000Z', instances: ['gw-b'] },
      ],
      refusedWhileStoreAway: 0,
    },
    approvals: {
      total: 3,
      byStatus: [
        { key: 'executed', count: 1 },
        { key: 'denied', count: 1 },
        { key: 'expired', count: 1 },
      ],
      rows,
      rowsOmitted: 0,
      decisions: 2,
      refusedDecisions: 1,
      executed: 1,
      missingHistories: [],
      temporalReached: true,
    },
    accessReview: {
      principals: [
        {
          principal: 'alice@example.com',
          groups: ['analysts'],
          allowed: [
            { key: 'read customers', count: 1 },
            { key: 'read tickets', count: 1 },
          ],
          used: [{ key: 'read customers', count: 800 }],
          denied: 1,
          exports: 1,
          masked: 600,
        },
        {
          principal: 'bob@example.com',
          groups: ['engineers'],
          allowed: [{ key: 'write tickets', count: 1 }],
          used: [{ key: 'write tickets', count: 410 }],
          denied: 1,
          exports: 0,
          masked: 40,
        },
      ],
      groups: [
        { group: 'analysts', rules: ['analysts-read'], members: 1, used: [{ key: 'read', count: 812 }] },
        { group: 'engineers', rules: ['engineers-write', 'deny-delete-prod'], members: 1, used: [{ key: 'write', count: 420 }] },
      ],
    },
    files: {
      events: ['trail/events.jsonl', 'trail/events.csv'],
      verification: ['trail/verification.json'],
      proofs: ['trail/proofs.json'],
      checkpoints: ['trail/checkpoints.json'],
      histories: ['approvals/histories/apr-0001/run-0001.json', 'approvals/histories/apr-0002/run-0002.json', 'approvals/histories/apr-0003/run-0003.json'],
      approvals: ['approvals/approvals.csv'],
      accessReview: ['access-review.json'],
      configurations: ['configurations/1f2e3d4c.yaml', 'configurations/9a8b7c6d.yaml'],
      controlMap: ['control-map.json', 'control-map.csv'],
      report: ['report.html'],
      summary: ['summary.json'],
    },
  };
  return { ...base, ...overrides };
}

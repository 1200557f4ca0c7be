import { accessReview, accessReviewRows, describeRule, type ReviewedRule } from '../../src/evidence/access-review';
import { TrailTally } from '../../src/evidence/trail-tally';

const RULES: ReviewedRule[] = [
  { id: 'everyone-meta', groups: ['*'], operations: ['meta'], effect: 'allow' },
  { id: 'scientists-use-docs', groups: ['data-scientists'], collections: ['docs-*'], operations: ['search', 'read', 'write'], effect: 'allow' },
  { id: 'scientists-bulk-review', groups: ['data-scientists'], collections: ['docs-*'], operations: ['export', 'delete'], effect: 'review' },
  { id: 'no-secrets', groups: ['data-scientists'], collections: ['secret-*'], operations: ['*'], effect: 'deny' },
  { id: 'stewards-manage', groups: ['data-stewards'], collections: ['docs-*', 'secret-*'], operations: ['*'], effect: 'allow' },
];

type Ev = Parameters<TrailTally['add']>[0];
const ev = (subject: string, groups: string[], operation: string, collections: string[], effect: 'allow' | 'deny' | 'review', ruleId: string, extra: Partial<Ev> = {}): Ev => ({
  time: new Date('2026-11-30T10:15:00Z'),
  principal: { subject, groups, issuer: 'http://idp', email: `${subject}@example.test` },
  operation: operation as Ev['operation'],
  collections,
  decision: { effect, ruleId, explanation: '' },
  status: effect === 'deny' ? 403 : 200,
  ...extra,
});

function review(events: Ev[], rules = RULES) {
  const tally = new TrailTally(3600_000);
  events.forEach((e) => tally.add(e));
  return { tally, review: accessReview(rules, [...tally.principals.values()]) };
}

describe('access review: what the policy granted against what was used', () => {
  const events = [
    ev('alice', ['data-scientists'], 'search', ['docs-a'], 'allow', 'scientists-use-docs'),
    ev('alice', ['data-scientists'], 'search', ['docs-a'], 'allow', 'scientists-use-docs', { masking: { rulesApplied: ['emails'], rulesExempted: [], detectorsFired: [{ detector: 'email', count: 3 }], fieldsMasked: [{ field: 'documents', count: 3 }], valuesMasked: 3 } }),
    ev('alice', ['data-scientists'], 'read', ['secret-x'], 'deny', 'no-secrets', { error: { code: 'POLICY_DENIED' as never, message: 'no' } }),
    ev('alice', ['data-scientists'], 'export', ['docs-a'], 'review', 'scientists-bulk-review'),
    ev('bob', ['data-stewards'], 'meta', [], 'allow', 'everyone-meta'),
  ];
  const { tally, review: r } = review(events);

  test.each([
    ['alice', 'scientists-use-docs: allow search, read, write on docs-*', 2],
    ['alice', 'scientists-bulk-review: allow after approval export, delete on docs-*', 1],
    ['alice', 'everyone-meta: allow meta on *', 0],
    ['bob', 'stewards-manage: allow * on docs-*, secret-*', 0],
    ['bob', 'everyone-meta: allow meta on *', 1],
  ])('%s is granted "%s", used %i times', (principal, line, count) => {
    const p = r.principals.find((x) => x.principal === principal);
    expect(p?.allowed).toContainEqual({ key: line, count });
  });

  test('deny rules are not grants, and a group\'s rules do not reach others', () => {
    const alice = r.principals.find((x) => x.principal === 'alice');
    expect(alice?.allowed.map((a) => a.key.split(':')[0])).toEqual(['everyone-meta', 'scientists-use-docs', 'scientists-bulk-review']);
    const bob = r.principals.find((x) => x.principal === 'bob');
    expect(bob?.allowed.map((a) => a.key.split(':')[0])).toEqual(['everyone-meta', 'stewards-manage']);
  });

  test.each([
    ['alice', { used: [{ key: 'search docs-a', count: 2 }, { key: 'export docs-a', count: 1 }, { key: 'read secret-x', count: 1 }], denied: 1, exports: 1, masked: 3, email: 'alice@example.test' }],
    ['bob', { used: [{ key: 'meta', count: 1 }], denied: 0, exports: 0, masked: 0, groups: ['data-stewards'] }],
  ])('%s: uses by operation and collection, denials, exports and masked values', (principal, expected) => {
    expect(r.principals.find((x) => x.principal === principal)).toMatchObject(expected);
  });

  test('each group in policy: its rules, members seen and use by operation class', () => {
    expect(r.groups.map((g) => g.group)).toEqual(['*', 'data-scientists', 'data-stewards'].map((g) => (g === '*' ? '* (any authenticated caller)' : g)));
    expect(r.groups.find((g) => g.group === 'data-scientists')).toMatchObject({ members: 1, used: [{ key: 'search', count: 2 }, { key: 'export', count: 1 }, { key: 'read', count: 1 }] });
    expect(r.groups.find((g) => g.group.startsWith('*'))).toMatchObject({ members: 2, rules: [describeRule(RULES[0]!)] });
  });

  test('the tally counts requests, denials, exports and masking for the report', () => {
    const s = tally.summary();
    expect(s).toMatchObject({ events: 5, requests: 5, exports: 1, masking: { eventsWithMasking: 1, valuesMasked: 3, byDetector: [{ key: 'email', count: 3 }] } });
    expect(s.byDecision).toEqual([{ key: 'allow', count: 3 }, { key: 'deny', count: 1 }, { key: 'review', count: 1 }]);
    expect(s.denials).toEqual([{ time: '2026-11-30T10:15:00.000Z', principal: 'alice', operation: 'read', collections: ['secret-x'], ruleId: 'no-secrets', code: 'POLICY_DENIED' }]);
    expect(s.timeline).toEqual([{ start: '2026-11-30T10:00:00.000Z', allowed: 3, denied: 1, review: 1, other: 0 }]);
  });

  test('a rule in two configurations counts once', () => {
    expect(review(events, [...RULES, ...RULES]).review).toEqual(r);
  });

  test('the csv rows name the principal, the item and its count', () => {
    const rows = accessReviewRows(r);
    expect(rows).toContainEqual(['principal-granted', 'alice', 'alice@example.test', 'data-scientists', 'scientists-use-docs: allow search, read, write on docs-*', 2]);
    expect(rows).toContainEqual(['principal-denied', 'alice', 'alice@example.test', 'data-scientists', 'requests denied', 1]);
    expect(rows).toContainEqual(['group-used', 'data-scientists', '', '', 'search', 2]);
  });
});

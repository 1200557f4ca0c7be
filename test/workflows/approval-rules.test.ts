import type { ApprovalRequest, ApprovalState, ClaimInput, DecisionInput, DecisionRefusal } from '../../workflows/approval-contract';
import {
  approvalsRequired,
  assertClaimInput,
  assertDecisionInput,
  assertExecutionReport,
  decisionRefusal,
  judgeClaim,
  reportRefusal,
  requestProblem,
} from '../../workflows/approval-rules';
import { claimFor, decisionBy, executionOf, makeRequest, MINUTE, people } from './support/fixtures';

/** The rules the workflow sequences, as tables: no server needed. */
const T0 = 1_800_000_000_000;

function pendingState(policy: Parameters<typeof makeRequest>[1] = {}): ApprovalState {
  const request = makeRequest(T0, policy);
  return { approvalId: request.approvalId, status: 'pending', request, deadline: T0 + request.policy.timeoutMs, decisions: [], refusals: [] };
}

describe('decisionRefusal', () => {
  const fresh = T0 - MINUTE;
  const counted = (state: ApprovalState, input: DecisionInput) => {
    state.decisions.push({ decisionId: input.decisionId, approver: input.approver, decision: input.decision, at: T0 });
    return state;
  };
  const bobApproves = decisionBy(people.bob, 'approve', fresh, { decisionId: 'bob-1' });

  const cases: [string, () => [ApprovalState, DecisionInput, number?], DecisionRefusal | undefined][] = [
    ['an approver in the group counts', () => [pendingState(), bobApproves], undefined],
    ['an approval needs no reason', () => [pendingState(), decisionBy(people.carol, 'approve', fresh)], undefined],
    ['the requester, although in the approver group', () => [pendingState(), decisionBy(people.alice, 'approve', fresh)], 'SELF_APPROVAL'],
    ['the requester denying', () => [pendingState(), decisionBy(people.alice, 'deny', fresh, { reason: 'withdraw' })], 'SELF_APPROVAL'],
    ['the requester with stale groups is still SELF_APPROVAL', () => [pendingState(), decisionBy(people.alice, 'approve', T0 - 60 * MINUTE)], 'SELF_APPROVAL'],
    ['someone outside the groups', () => [pendingState(), decisionBy(people.erin, 'approve', fresh)], 'NOT_AN_APPROVER'],
    ['groups older than maxGroupAgeMs', () => [pendingState({ maxGroupAgeMs: 5 * MINUTE }), decisionBy(people.bob, 'approve', T0 - 6 * MINUTE)], 'STALE_GROUPS'],
    ['groups never confirmed, when an age is required', () => [pendingState(), { ...bobApproves, approver: { ...people.bob, via: 'api' } }], 'STALE_GROUPS'],
    ['groups never confirmed, no age configured', () => [pendingState({ maxGroupAgeMs: undefined }), { ...bobApproves, approver: { ...people.bob, via: 'api' } }], undefined],
    ['a stale non-approver is told to refresh first', () => [pendingState(), decisionBy(people.erin, 'approve', T0 - 60 * MINUTE)], 'STALE_GROUPS'],
    ['a deny without reason', () => [pendingState(), decisionBy(people.bob, 'deny', fresh)], 'REASON_REQUIRED'],
    ['a deny with a blank reason', () => [pendingState(), decisionBy(people.bob, 'deny', fresh, { reason: ' \n' })], 'REASON_REQUIRED'],
    ['the same decisionId again', () => [counted(pendingState({ required: 2 }), bobApproves), bobApproves], 'DUPLICATE'],
    ['the same approver, another click', () => [counted(pendingState({ required: 2 }), bobApproves), decisionBy(people.bob, 'deny', fresh, { reason: 'x' })], 'ALREADY_DECIDED'],
    ['after approval', () => [{ ...pendingState(), status: 'approved' }, decisionBy(people.carol, 'approve', fresh)], 'CLOSED'],
    ['after expiry', () => [{ ...pendingState(), status: 'expired' }, decisionBy(people.carol, 'approve', fresh)], 'CLOSED'],
    ['at the deadline, before the timer fired', () => [pendingState(), decisionBy(people.carol, 'approve', fresh), T0 + 60 * MINUTE], 'CLOSED'],
    ['a duplicate after close is still DUPLICATE', () => [{ ...counted(pendingState(), bobApproves), status: 'approved' }, bobApproves], 'DUPLICATE'],
  ];

  test.each(cases)('%s', (_name, setup, expected) => {
    const [state, input, now = T0] = setup();
    expect(decisionRefusal(state, input, now)).toBe(expected);
  });
});

describe('self-approval is matched on subject, e-mail and the approver\'s other bindings (signed decisions)', () => {
  const fresh = T0 - MINUTE;
  const aliceAdmin = { subject: 'user-alice-admin', email: 'alice.admin@example.test', groups: ['vec-approvers'] };
  const cases: [string, DecisionInput, DecisionRefusal | undefined][] = [
    ['another subject with the requester\'s e-mail in another case', decisionBy({ ...aliceAdmin, email: 'ALICE@Example.TEST' }, 'approve', fresh), 'SELF_APPROVAL'],
    ['a second account whose Slack user is also bound to the requester\'s subject', { ...decisionBy(aliceAdmin, 'approve', fresh), approver: { ...decisionBy(aliceAdmin, 'approve', fresh).approver, otherBindings: [{ subject: 'user-alice' }] } }, 'SELF_APPROVAL'],
    ['a second account whose Slack user is also bound to the requester\'s e-mail', { ...decisionBy(aliceAdmin, 'approve', fresh), approver: { ...decisionBy(aliceAdmin, 'approve', fresh).approver, otherBindings: [{ subject: 'x', email: ' Alice@example.test ' }] } }, 'SELF_APPROVAL'],
    ['another person with other bindings of their own', { ...decisionBy(people.bob, 'approve', fresh), approver: { ...decisionBy(people.bob, 'approve', fresh).approver, otherBindings: [{ subject: 'user-bob-old', email: 'bob@old.example' }] } }, undefined],
    ['an approver without e-mail', decisionBy({ subject: 'user-frank', groups: ['vec-approvers'] }, 'approve', fresh), undefined],
  ];

  test.each(cases)('%s', (_name, input, expected) => {
    expect(decisionRefusal(pendingState(), input, T0, { matchIdentity: true })).toBe(expected);
  });

  test.each<[string, number | undefined, DecisionRefusal | undefined]>([
    ['signed in within maxAuthAgeMs', T0 - 4 * MINUTE, undefined],
    ['signed in exactly maxAuthAgeMs ago', T0 - 5 * MINUTE, undefined],
    ['signed in longer ago', T0 - 5 * MINUTE - 1, 'STEP_UP_REQUIRED'],
    ['no sign-in time known', undefined, 'STEP_UP_REQUIRED'],
  ])('step-up (policy.maxAuthAgeMs 5 min): %s', (_name, authTime, expected) => {
    const input = decisionBy(people.bob, 'approve', fresh);
    const approver = { ...input.approver, ...(authTime !== undefined ? { authTime } : {}) };
    expect(decisionRefusal(pendingState({ maxAuthAgeMs: 5 * MINUTE }), { ...input, approver }, T0, { matchIdentity: true })).toBe(expected);
  });

  test('step-up is asked last: a non-approver is told NOT_AN_APPROVER, not to sign in', () => {
    expect(decisionRefusal(pendingState({ maxAuthAgeMs: 5 * MINUTE }), decisionBy(people.erin, 'approve', fresh), T0, { matchIdentity: true })).toBe('NOT_AN_APPROVER');
  });

  test('before the patch (replayed histories) only the subject was compared', () => {
    expect(decisionRefusal(pendingState(), decisionBy({ ...aliceAdmin, email: 'alice@example.test' }, 'approve', fresh), T0)).toBeUndefined();
  });
});

describe('judgeClaim', () => {
  const approved = (overrides: Partial<NonNullable<ApprovalState['grant']>> = {}): ApprovalState => ({
    ...pendingState(),
    status: 'approved',
    grant: { grantId: 'grant-1', issuedAt: T0, expiresAt: T0 + 15 * MINUTE, ...overrides },
  });
  const own = (state: ApprovalState, extra: Partial<ClaimInput> = {}) => claimFor(state.request, { claimId: 'claim-1', ...extra });

  test.each([
    ['the requester, same request, before expiry', () => approved(), {}, T0, { granted: true, grantId: 'grant-1', firstClaim: true }],
    ['another fingerprint', () => approved(), { fingerprint: '0'.repeat(64) }, T0, { granted: false, refusal: 'FINGERPRINT_MISMATCH' }],
    ['another principal', () => approved(), { subject: people.bob.subject }, T0, { granted: false, refusal: 'WRONG_PRINCIPAL' }],
    ['another principal while pending is not told PENDING', () => pendingState(), { subject: people.bob.subject }, T0, { granted: false, refusal: 'WRONG_PRINCIPAL' }],
    ['pending', () => pendingState(), {}, T0, { granted: false, refusal: 'PENDING' }],
    ['denied', () => ({ ...pendingState(), status: 'denied' as const }), {}, T0, { granted: false, refusal: 'DENIED' }],
    ['expired', () => ({ ...pendingState(), status: 'expired' as const }), {}, T0, { granted: false, refusal: 'EXPIRED' }],
    ['at grant expiry, before the timer fired', () => approved(), {}, T0 + 15 * MINUTE, { granted: false, refusal: 'GRANT_EXPIRED' }],
    ['grant_expired', () => ({ ...approved(), status: 'grant_expired' as const }), {}, T0, { granted: false, refusal: 'GRANT_EXPIRED' }],
    ['claimed by another claim', () => approved({ claimId: 'claim-0', claimedAt: T0 }), {}, T0, { granted: false, refusal: 'ALREADY_USED' }],
    ['the same claim retried', () => approved({ claimId: 'claim-1', claimedAt: T0 }), {}, T0 + 20 * MINUTE, { granted: true, grantId: 'grant-1', firstClaim: false }],
    ['executed', () => ({ ...approved({ claimId: 'claim-1', claimedAt: T0 }), status: 'executed' as const }), {}, T0, { granted: false, refusal: 'ALREADY_USED' }],
  ] as const)('%s', (_name, setup, extra, now, expected) => {
    const state = setup();
    expect(judgeClaim(state, own(state, extra), now)).toEqual(expected);
  });
});

describe('the rest of the rules', () => {
  test('a policy asking for 0 approvals still needs one', () => {
    expect(approvalsRequired(makeRequest(T0, { required: 0 }))).toBe(1);
    expect(approvalsRequired(makeRequest(T0, { required: 3 }))).toBe(3);
  });

  test('a report must follow a claim of the same grant', () => {
    const state: ApprovalState = { ...pendingState(), status: 'approved', grant: { grantId: 'g', issuedAt: T0, expiresAt: T0 + MINUTE } };
    expect(reportRefusal(state, executionOf('g'))).toBe('NOT_CLAIMED');
    state.grant!.claimedAt = T0;
    expect(reportRefusal(state, executionOf('other'))).toBe('GRANT_MISMATCH');
    expect(reportRefusal(state, executionOf('g'))).toBeUndefined();
  });

  test('validators reject malformed input only', () => {
    const good = decisionBy(people.bob, 'approve', T0);
    expect(() => assertDecisionInput(good)).not.toThrow();
    expect(() => assertDecisionInput({ ...good, decisionId: '' })).toThrow(/decisionId/);
    expect(() => assertDecisionInput({ ...good, decision: 'maybe' as never })).toThrow(/approve or deny/);
    expect(() => assertDecisionInput({ ...good, approver: { ...good.approver, groups: 'admins' as never } })).toThrow(/groups/);
    expect(() => assertClaimInput(claimFor(makeRequest(T0)))).not.toThrow();
    expect(() => assertClaimInput({ ...claimFor(makeRequest(T0)), waitMs: -1 })).toThrow(/waitMs/);
    expect(() => assertExecutionReport(executionOf('g'))).not.toThrow();
    expect(() => assertExecutionReport({ ...executionOf('g'), responseSha256: 'abc' })).toThrow(/responseSha256/);
    expect(requestProblem(makeRequest(T0))).toBeUndefined();
    expect(requestProblem({ ...makeRequest(T0), fingerprint: '' })).toMatch(/fingerprint/);
  });

  it.each<[string, unknown, RegExp | undefined]>([
    ['without a rendering (asked by an older gateway)', undefined, undefined],
    ['with a rendering', { text: 'POST /x\nwhere: {"a": 1}', truncated: false }, undefined],
    ['with a rendering of the largest size', { text: 'x'.repeat(3000), truncated: true }, undefined],
    ['with a rendering over the size', { text: 'x'.repeat(3001), truncated: true }, /rendering/],
    ['with a rendering without text', { truncated: false }, /rendering/],
    ['with a rendering that is not an object', 'POST /x', /rendering/],
  ])('takes a request %s, or names the problem', (_what, rendering, problem) => {
    const request = { ...makeRequest(T0), ...(rendering === undefined ? {} : { rendering }) } as ApprovalRequest;
    if (problem) expect(requestProblem(request)).toMatch(problem);
    else expect(requestProblem(request)).toBeUndefined();
  });
});

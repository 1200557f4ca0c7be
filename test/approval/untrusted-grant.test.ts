import { untrustedGrant } from '../../src/approval/gate';
import type { ApprovalState, DecisionInput } from '../../workflows/approval-contract';
import { makeTestDecider } from '../support/decider';
import { decider, decisionBy, makeRequest, MINUTE, people, signedFor } from '../workflows/support/fixtures';

/**
 * The gateway does not take an approval workflow's word for a grant: it verifies every counted
 * decision against its own decider keys and its own rule before it runs the request.
 */
const T0 = 1_800_000_000_000;
const rule = { approverGroups: ['vec-approvers'], required: 1 };
const keys = [decider.publicKey];

function approvedBy(inputs: DecisionInput[], overrides: Partial<ApprovalState['request']> = {}): ApprovalState {
  const request = { ...makeRequest(T0 - MINUTE), ...overrides };
  return {
    approvalId: request.approvalId,
    status: 'approved',
    request,
    deadline: T0 + 60 * MINUTE,
    decisions: inputs.map((i) => ({ decisionId: i.decisionId, approver: i.approver, decision: i.decision, reason: i.reason, at: T0, ...(i.signature ? { signature: i.signature } : {}) })),
    refusals: [],
    grant: { grantId: 'g', issuedAt: T0, expiresAt: T0 + MINUTE },
  };
}

const signedBy = (state: ApprovalState, input: DecisionInput, signer = decider.signer) => signer.sign(state.request.approvalId, state.request.fingerprint, input, T0);

describe('untrustedGrant', () => {
  const base = approvedBy([]);
  const bob = decisionBy(people.bob, 'approve', T0, { decisionId: 'bob' });
  const carol = decisionBy(people.carol, 'approve', T0, { decisionId: 'carol' });
  const cases: [string, () => [ApprovalState, typeof rule], RegExp | undefined][] = [
    ['one approval signed by a trusted key', () => [approvedBy([signedBy(base, bob)], base.request), rule], undefined],
    ['an approval without a signature (taken before signing, or forged)', () => [approvedBy([bob], base.request), rule], /UNSIGNED/],
    ['an approval signed by a key only the workflow trusted', () => [approvedBy([signedBy(base, bob, makeTestDecider().signer)], { ...base.request, deciderKeys: ['00'.repeat(32)] }), rule], /BAD_SIGNATURE/],
    ['an approval signed for another request', () => [approvedBy([signedFor({ approvalId: base.request.approvalId, fingerprint: '1'.repeat(64) }, bob, T0)], base.request), rule], /BAD_SIGNATURE/],
    ['fewer signed approvals than the gateway\'s own rule needs', () => [approvedBy([signedBy(base, bob)], { ...base.request, policy: { ...base.request.policy, required: 1 } }), { ...rule, required: 2 }], /1 of 2 signed approvals/],
    ['two signed approvals of two', () => [approvedBy([signedBy(base, bob), signedBy(base, carol)], base.request), { ...rule, required: 2 }], undefined],
    ['the same approver twice counts once', () => [approvedBy([signedBy(base, bob), signedBy(base, { ...bob, decisionId: 'bob-again' })], base.request), { ...rule, required: 2 }], /1 of 2/],
    ['the requester\'s own signed approval does not count', () => [approvedBy([signedBy(base, decisionBy(people.alice, 'approve', T0))], base.request), rule], /0 of 1/],
    ['an approver outside the gateway\'s approver groups', () => [approvedBy([signedBy(base, decisionBy(people.erin, 'approve', T0))], base.request), rule], /0 of 1/],
  ];

  test.each(cases)('%s', (_name, setup, expected) => {
    const [state, r] = setup();
    const problem = untrustedGrant(state, state.request, r, keys);
    if (expected) expect(problem).toMatch(expected);
    else expect(problem).toBeUndefined();
  });

  test('a grant for another request is not honoured, whatever its signatures', () => {
    const state = approvedBy([signedBy(base, bob)], base.request);
    expect(untrustedGrant(state, { ...state.request, fingerprint: '2'.repeat(64) }, rule, keys)).toMatch(/another request/);
  });
});

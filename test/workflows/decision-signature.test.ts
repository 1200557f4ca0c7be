import type { ApprovalRequest, DecisionInput, SignatureRefusal } from '../../workflows/approval-contract';
import { decisionSigningPayload, MAX_SIGNATURE_AGE_MS, SIGNATURE_CLOCK_SKEW_MS, verifyDecisionSignature } from '../../workflows/decision-signature';
import { makeTestDecider } from '../support/decider';
import { decider, decisionBy, makeRequest, MINUTE, people, signedFor } from './support/fixtures';

/** The signature rules as a table: the same pure function runs in the workflow sandbox and in the gateway. */
const T0 = 1_800_000_000_000;
const request = makeRequest(T0 - MINUTE);
const bob = decisionBy(people.bob, 'approve', T0 - MINUTE, { decisionId: 'bob-1' });
const signed = signedFor(request, bob, T0);
const rogue = makeTestDecider();

describe('verifyDecisionSignature', () => {
  const cases: [string, ApprovalRequest, DecisionInput, number, SignatureRefusal | undefined][] = [
    ['signed by the trusted decider for this request, just now', request, signed, T0, undefined],
    ['a deny with its reason, signed', request, signedFor(request, decisionBy(people.bob, 'deny', T0, { reason: 'no' }), T0), T0, undefined],
    ['no signature', request, bob, T0, 'UNSIGNED'],
    ['an approval that trusts no key', { ...request, deciderKeys: [] }, signed, T0, 'UNSIGNED'],
    ['an approval from before signing (no deciderKeys at all)', { ...request, deciderKeys: undefined }, signed, T0, 'UNSIGNED'],
    ['signed by a key the approval does not trust', request, rogue.signer.sign(request.approvalId, request.fingerprint, bob, T0), T0, 'BAD_SIGNATURE'],
    ['a trusted key named, but signed by another', request, { ...rogue.signer.sign(request.approvalId, request.fingerprint, bob, T0), signature: { ...rogue.signer.sign(request.approvalId, request.fingerprint, bob, T0).signature!, publicKey: decider.publicKey } }, T0, 'BAD_SIGNATURE'],
    ['signed for another approval id', request, signedFor({ ...request, approvalId: 'approval-other' }, bob, T0), T0, 'BAD_SIGNATURE'],
    ['signed for another request (fingerprint)', request, signedFor({ ...request, fingerprint: '0'.repeat(64) }, bob, T0), T0, 'BAD_SIGNATURE'],
    ['groups added after signing', request, { ...signed, approver: { ...signed.approver, groups: [...signed.approver.groups, 'admins'] } }, T0, 'BAD_SIGNATURE'],
    ['groupsVerifiedAt moved after signing', request, { ...signed, approver: { ...signed.approver, groupsVerifiedAt: T0 } }, T0, 'BAD_SIGNATURE'],
    ['approve turned into deny after signing', request, { ...signed, decision: 'deny', reason: 'x' }, T0, 'BAD_SIGNATURE'],
    ['another decisionId', request, { ...signed, decisionId: 'bob-2' }, T0, 'BAD_SIGNATURE'],
    ['signedAt moved after signing', request, { ...signed, signature: { ...signed.signature!, signedAt: T0 + 1 } }, T0, 'BAD_SIGNATURE'],
    ['a signature that is not hex', request, { ...signed, signature: { ...signed.signature!, value: 'zz' } }, T0, 'BAD_SIGNATURE'],
    ['a public key that is not hex', request, { ...signed, signature: { ...signed.signature!, publicKey: 'PEM' } }, T0, 'BAD_SIGNATURE'],
    ['a signature of the wrong type', request, { ...signed, signature: 'yes' as never }, T0, 'BAD_SIGNATURE'],
    ['older than the signature age', request, signed, T0 + MAX_SIGNATURE_AGE_MS + 1, 'STALE_SIGNATURE'],
    ['exactly at the signature age', request, signed, T0 + MAX_SIGNATURE_AGE_MS, undefined],
    ['from the signer\'s future beyond the skew', request, signedFor(request, bob, T0 + SIGNATURE_CLOCK_SKEW_MS + 1), T0, 'STALE_SIGNATURE'],
    ['signed before this request was made (an earlier run of the same request)', { ...request, requestedAt: T0 + 2 * SIGNATURE_CLOCK_SKEW_MS }, signed, T0 + 2 * SIGNATURE_CLOCK_SKEW_MS, 'STALE_SIGNATURE'],
  ];

  test.each(cases)('%s', (_name, req, input, now, expected) => {
    const verdict = verifyDecisionSignature(req, input, now);
    expect(verdict.ok ? undefined : verdict.refusal).toBe(expected);
  });

  test('the signed payload is a JSON array in a fixed order, so signer and verifier need not agree on key order', () => {
    expect(JSON.parse(decisionSigningPayload('a-1', 'f'.repeat(64), { decisionId: 'd', decision: 'approve', approver: { subject: 's', groups: ['g'], via: 'slack' } }, 5))).toEqual([
      'vecgate-decision/1',
      'a-1',
      'f'.repeat(64),
      'd',
      'approve',
      null,
      's',
      null,
      ['g'],
      null,
      'slack',
      null,
      null,
      null,
      null,
      5,
    ]);
  });
});

import { ed25519 } from '@noble/curves/ed25519';
import { utf8ToBytes } from '@noble/hashes/utils';
import type { ApprovalRequest, DecisionInput, SignatureRefusal } from './approval-contract';

/**
 * Decisions count only when the Slack app signed them (Ed25519, key held by the worker alone):
 * anyone else who reaches Temporal can send a `decide` update, but not a signature. Pure code with
 * no Node built-ins (@noble/curves), so the workflow verifies inside its sandbox, deterministically,
 * and the gateway can check the same thing with the same function.
 *
 * Keys and signatures travel as lowercase hex: raw 32-byte Ed25519 public keys, 64-byte signatures.
 */

export const DECISION_SIGNATURE_VERSION = 'vecgate-decision/1';

/** A signature older than this (by the workflow's clock) no longer counts: a captured decision cannot be kept for later. */
export const MAX_SIGNATURE_AGE_MS = 5 * 60 * 1000;
/** Clock difference tolerated between the worker that signs and the gateway and workflow that judge. */
export const SIGNATURE_CLOCK_SKEW_MS = 60 * 1000;

const HEX_KEY = /^[0-9a-f]{64}$/;
const HEX_SIGNATURE = /^[0-9a-f]{128}$/;

export function isDeciderKey(value: unknown): value is string {
  return typeof value === 'string' && HEX_KEY.test(value);
}

/**
 * The bytes that are signed: every field that makes the decision what it is, in a fixed order, as a
 * JSON array (no key order to agree on). The approval id and the request fingerprint bind it to one
 * request; signedAt bounds its life. This is a compatibility contract: recorded histories replay
 * their decisions through it, so a change needs a new version tag, and the old layout kept for
 * signatures that name the old one.
 */
export function decisionSigningPayload(approvalId: string, fingerprint: string, input: Omit<DecisionInput, 'signature'>, signedAt: number): string {
  const a = input.approver;
  return JSON.stringify([
    DECISION_SIGNATURE_VERSION,
    approvalId,
    fingerprint,
    input.decisionId,
    input.decision,
    input.reason ?? null,
    a.subject,
    a.email ?? null,
    a.groups,
    a.groupsVerifiedAt ?? null,
    a.via,
    a.slackTeamId ?? null,
    a.slackUserId ?? null,
    a.otherBindings ?? null,
    a.authTime ?? null,
    signedAt,
  ]);
}

export type SignatureVerdict = { ok: true } | { ok: false; refusal: SignatureRefusal };

/**
 * Whether `input` was signed, for this request, by one of the request's trusted decider keys, and
 * recently. Any malformed part (not hex, wrong length) is a bad signature, never an exception: the
 * attempt is answered and stays in the history.
 */
export function verifyDecisionSignature(request: ApprovalRequest, input: DecisionInput, now: number): SignatureVerdict {
  const sig = input.signature;
  const trusted = (request.deciderKeys ?? []).filter(isDeciderKey);
  if (!sig || trusted.length === 0) return { ok: false, refusal: 'UNSIGNED' };
  if (!isDeciderKey(sig.publicKey) || !trusted.includes(sig.publicKey)) return { ok: false, refusal: 'BAD_SIGNATURE' };
  if (typeof sig.value !== 'string' || !HEX_SIGNATURE.test(sig.value)) return { ok: false, refusal: 'BAD_SIGNATURE' };
  if (typeof sig.signedAt !== 'number' || !Number.isFinite(sig.signedAt)) return { ok: false, refusal: 'BAD_SIGNATURE' };
  let valid = false;
  try {
    const message = utf8ToBytes(decisionSigningPayload(request.approvalId, request.fingerprint, input, sig.signedAt));
    // zip215 off: strict RFC 8032 verification, the same answer Node's crypto.verify gives
    valid = ed25519.verify(sig.value, message, sig.publicKey, { zip215: false });
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, refusal: 'BAD_SIGNATURE' };
  // signed before this request was made: a decision from an earlier run of the same request, replayed
  if (sig.signedAt < request.requestedAt - SIGNATURE_CLOCK_SKEW_MS) return { ok: false, refusal: 'STALE_SIGNATURE' };
  if (now - sig.signedAt > MAX_SIGNATURE_AGE_MS || sig.signedAt - now > SIGNATURE_CLOCK_SKEW_MS) return { ok: false, refusal: 'STALE_SIGNATURE' };
  return { ok: true };
}

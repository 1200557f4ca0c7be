import type {
  ApprovalRequest,
  ApprovalState,
  ApprovalStatus,
  ClaimInput,
  ClaimRefusal,
  DecisionInput,
  DecisionRefusal,
  ExecutionReport,
} from './approval-contract';
import { REQUEST_RENDERING_MAX_CHARS } from './approval-contract';

/**
 * The approval rules as pure functions of the state, the input and the workflow's clock: no
 * Temporal calls, no I/O, so they are tested with tables and the workflow only sequences them.
 */

/** Approvals needed; a policy that says 0 (or nonsense) still needs one. */
export function approvalsRequired(request: ApprovalRequest): number {
  const required = Math.floor(request.policy.required);
  return Number.isFinite(required) && required >= 1 ? required : 1;
}

export function approvalCount(state: ApprovalState): number {
  return state.decisions.filter((d) => d.decision === 'approve').length;
}

export function isApprover(request: ApprovalRequest, groups: readonly string[]): boolean {
  const approverGroups = new Set(request.policy.approverGroups);
  return groups.some((g) => approverGroups.has(g));
}

const sameEmail = (a: string | undefined, b: string | undefined): boolean => typeof a === 'string' && typeof b === 'string' && a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * Whether the approver is the requester under any name: the same subject, the same e-mail (case
 * does not matter), or the requester's subject or e-mail bound to the same Slack user (a person
 * holding two accounts). Decisions since the signed-decisions patch are judged this way.
 */
export function isRequester(request: Pick<ApprovalRequest, 'requester'>, approver: DecisionInput['approver']): boolean {
  const requester = request.requester;
  const identities = [{ subject: approver.subject, email: approver.email }, ...(Array.isArray(approver.otherBindings) ? approver.otherBindings : [])];
  return identities.some((id) => id?.subject === requester.subject || sameEmail(id?.email, requester.email));
}

/** The first answer given to a decisionId, when it was seen before. */
function firstAnswer(state: ApprovalState, decisionId: string): string | undefined {
  if (state.decisions.some((d) => d.decisionId === decisionId)) return 'it was counted';
  const refused = state.refusals.find((r) => r.decisionId === decisionId);
  return refused ? `it was refused (${refused.refusal})` : undefined;
}

/**
 * Why a decision does not count, or undefined when it does. Order matters: a replayed payload
 * always gets DUPLICATE; nothing counts once closed; the requester is refused before group checks
 * (no exception, whatever their groups); stale groups are refused before they are trusted.
 */
export function decisionRefusal(state: ApprovalState, input: DecisionInput, now: number, options: { matchIdentity?: boolean } = {}): DecisionRefusal | undefined {
  const { request } = state;
  if (firstAnswer(state, input.decisionId) !== undefined) return 'DUPLICATE';
  if (state.status !== 'pending' || now >= state.deadline) return 'CLOSED';
  if (options.matchIdentity ? isRequester(request, input.approver) : input.approver.subject === request.requester.subject) return 'SELF_APPROVAL';
  const maxAge = request.policy.maxGroupAgeMs;
  if (maxAge !== undefined) {
    const verifiedAt = input.approver.groupsVerifiedAt;
    if (verifiedAt === undefined || now - verifiedAt > maxAge) return 'STALE_GROUPS';
  }
  if (!isApprover(request, input.approver.groups)) return 'NOT_AN_APPROVER';
  if (state.decisions.some((d) => d.approver.subject === input.approver.subject)) return 'ALREADY_DECIDED';
  if (input.decision === 'deny' && !input.reason?.trim()) return 'REASON_REQUIRED';
  // last: everything else is in order, only a recent sign-in is missing (the Slack app then offers one)
  const maxAuthAge = request.policy.maxAuthAgeMs;
  if (maxAuthAge !== undefined) {
    const authTime = input.approver.authTime;
    if (typeof authTime !== 'number' || now - authTime > maxAuthAge) return 'STEP_UP_REQUIRED';
  }
  return undefined;
}

/** A sentence for the approver about a refused decision. */
export function refusalMessage(state: ApprovalState, input: DecisionInput, refusal: DecisionRefusal): string {
  const { request } = state;
  switch (refusal) {
    case 'DUPLICATE':
      return `This decision was already received and ${firstAnswer(state, input.decisionId) ?? 'recorded'}; nothing changed.`;
    case 'CLOSED':
      return `This request is ${state.status === 'pending' ? 'past its deadline' : `already ${state.status.replace('_', ' ')}`}: decisions are no longer taken.`;
    case 'SELF_APPROVAL':
      return 'You made this request, so you cannot decide on it: another approver must.';
    case 'STALE_GROUPS':
      return 'Your group membership was not confirmed recently enough: sign in again so your groups are refreshed, then decide again.';
    case 'NOT_AN_APPROVER':
      return `Only members of ${request.policy.approverGroups.join(', ')} may decide on this request; your decision was not counted.`;
    case 'ALREADY_DECIDED': {
      const previous = state.decisions.find((d) => d.approver.subject === input.approver.subject);
      return `You already decided on this request (${previous?.decision ?? 'decided'}): one decision per approver.`;
    }
    case 'REASON_REQUIRED':
      return 'A denial needs a reason: deny again and say why.';
    case 'STEP_UP_REQUIRED':
      return `This request needs approvers who signed in within the last ${Math.round((request.policy.maxAuthAgeMs ?? 0) / 60_000)} minutes: sign in again, then your decision counts.`;
    case 'UNSIGNED':
      return 'This decision was not signed by the vecgate Slack app, so it does not count: decide in Slack.';
    case 'BAD_SIGNATURE':
      return 'This decision\'s signature is not from a trusted vecgate decider or does not cover this decision, so it does not count: decide in Slack.';
    case 'STALE_SIGNATURE':
      return 'This decision was signed too long ago (or before the request was made), so it does not count: decide again in Slack.';
  }
}

/** A sentence for the approver whose decision counted, given the state after it. */
export function countedMessage(state: ApprovalState, input: DecisionInput): string {
  if (input.decision === 'deny') return 'Your denial counts: the request is denied and will not run.';
  const have = approvalCount(state);
  const need = approvalsRequired(state.request);
  return state.status === 'approved'
    ? `Your approval counts: the request is approved (${have} of ${need}).`
    : `Your approval counts: ${have} of ${need} approvals so far.`;
}

/** Why a claim cannot bind to this request or principal; checked before any waiting. */
export function claimBindingRefusal(state: ApprovalState, input: ClaimInput): ClaimRefusal | undefined {
  if (input.fingerprint !== state.request.fingerprint) return 'FINGERPRINT_MISMATCH';
  if (input.subject !== state.request.requester.subject) return 'WRONG_PRINCIPAL';
  return undefined;
}

export type ClaimVerdict = { granted: true; grantId: string; firstClaim: boolean } | { granted: false; refusal: ClaimRefusal };

/** Whether a claim wins the grant. A repeated claimId (a retried call) gets the same answer, never a second grant. */
export function judgeClaim(state: ApprovalState, input: ClaimInput, now: number): ClaimVerdict {
  const binding = claimBindingRefusal(state, input);
  if (binding) return { granted: false, refusal: binding };
  const byStatus: Partial<Record<ApprovalStatus, ClaimRefusal>> = {
    pending: 'PENDING',
    denied: 'DENIED',
    expired: 'EXPIRED',
    grant_expired: 'GRANT_EXPIRED',
    executed: 'ALREADY_USED',
  };
  const refusal = byStatus[state.status];
  if (refusal) return { granted: false, refusal };
  const grant = state.grant;
  if (!grant) return { granted: false, refusal: 'PENDING' };
  if (grant.claimId !== undefined) {
    return grant.claimId === input.claimId && !state.closedAt
      ? { granted: true, grantId: grant.grantId, firstClaim: false }
      : { granted: false, refusal: 'ALREADY_USED' };
  }
  if (now >= grant.expiresAt) return { granted: false, refusal: 'GRANT_EXPIRED' };
  return { granted: true, grantId: grant.grantId, firstClaim: true };
}

export function claimRefusalMessage(refusal: ClaimRefusal): string {
  switch (refusal) {
    case 'PENDING':
      return 'The request is still waiting for approval: try again once an approver has decided.';
    case 'DENIED':
      return 'An approver denied the request: it will not run.';
    case 'EXPIRED':
      return 'No approver decided before the deadline: send the request again to ask for a new approval.';
    case 'ALREADY_USED':
      return 'This approval was already used: an approval runs its request once; send the request again to ask for a new approval.';
    case 'GRANT_EXPIRED':
      return 'The approval was not used in time: send the request again to ask for a new approval.';
    case 'FINGERPRINT_MISMATCH':
      return 'This approval is for a different request: it covers only the exact request that was approved.';
    case 'WRONG_PRINCIPAL':
      return 'This approval belongs to the user who requested it: it cannot be used by anyone else.';
  }
}

/** Coded refusals of an execution report; the update fails with one of these as its error type. */
export type ReportRefusal = 'NOT_CLAIMED' | 'GRANT_MISMATCH' | 'CLOSED';

export function reportRefusal(state: ApprovalState, report: ExecutionReport): ReportRefusal | undefined {
  const grant = state.grant;
  if (!grant || grant.claimedAt === undefined) return 'NOT_CLAIMED';
  if (report.grantId !== grant.grantId) return 'GRANT_MISMATCH';
  if (state.execution) return undefined; // a retried report: answered with the recorded state
  if (state.closedAt !== undefined) return 'CLOSED';
  return undefined;
}

// Validators reject only malformed input (not written to history); every well-formed attempt is
// accepted and answered, so refusals stay in the history as evidence.

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

export function assertDecisionInput(input: DecisionInput): void {
  const a = input?.approver;
  if (!isText(input?.decisionId)) throw new TypeError('decide: decisionId is required');
  if (!a || !isText(a.subject)) throw new TypeError('decide: approver.subject is required');
  if (!Array.isArray(a.groups) || !a.groups.every((g) => typeof g === 'string')) throw new TypeError('decide: approver.groups must be a list of group names');
  if (a.groupsVerifiedAt !== undefined && !isCount(a.groupsVerifiedAt)) throw new TypeError('decide: approver.groupsVerifiedAt must be ms since the epoch');
  if (a.authTime !== undefined && !isCount(a.authTime)) throw new TypeError('decide: approver.authTime must be ms since the epoch');
  if (a.otherBindings !== undefined && !(Array.isArray(a.otherBindings) && a.otherBindings.every((b) => typeof b === 'object' && b !== null))) {
    throw new TypeError('decide: approver.otherBindings must be a list of { subject, email }');
  }
  if (input.decision !== 'approve' && input.decision !== 'deny') throw new TypeError('decide: decision must be approve or deny');
  if (input.reason !== undefined && typeof input.reason !== 'string') throw new TypeError('decide: reason must be text');
}

export function assertClaimInput(input: ClaimInput): void {
  for (const key of ['claimId', 'fingerprint', 'subject', 'gatewayInstance'] as const) {
    if (!isText(input?.[key])) throw new TypeError(`claimGrant: ${key} is required`);
  }
  if (!isCount(input.waitMs)) throw new TypeError('claimGrant: waitMs must be a number of ms >= 0');
}

export function assertExecutionReport(report: ExecutionReport): void {
  if (!isText(report?.grantId)) throw new TypeError('reportExecution: grantId is required');
  if (!Number.isInteger(report.status)) throw new TypeError('reportExecution: status must be an integer');
  if (!isCount(report.bytes) || !isCount(report.durationMs)) throw new TypeError('reportExecution: bytes and durationMs must be numbers >= 0');
  if (typeof report.responseSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(report.responseSha256)) throw new TypeError('reportExecution: responseSha256 must be 64 lowercase hex digits');
  if (report.error !== undefined && typeof report.error !== 'string') throw new TypeError('reportExecution: error must be text');
}

/** The workflow input, checked once: a malformed request fails the workflow instead of retrying forever. */
export function requestProblem(request: ApprovalRequest): string | undefined {
  if (!isText(request?.approvalId)) return 'approvalId is required';
  if (!isText(request.requester?.subject)) return 'requester.subject is required';
  if (!isText(request.fingerprint)) return 'fingerprint is required';
  if (!Array.isArray(request.collections)) return 'collections must be a list';
  const p = request.policy;
  if (!p || !Array.isArray(p.approverGroups)) return 'policy.approverGroups is required';
  if (!isCount(p.timeoutMs) || !isCount(p.usableForMs)) return 'policy.timeoutMs and policy.usableForMs must be numbers of ms >= 0';
  if (p.maxGroupAgeMs !== undefined && !isCount(p.maxGroupAgeMs)) return 'policy.maxGroupAgeMs must be a number of ms >= 0';
  if (p.maxAuthAgeMs !== undefined && !isCount(p.maxAuthAgeMs)) return 'policy.maxAuthAgeMs must be a number of ms >= 0';
  if (request.deciderKeys !== undefined && !(Array.isArray(request.deciderKeys) && request.deciderKeys.every((k) => typeof k === 'string'))) return 'deciderKeys must be a list of hex public keys';
  if (!isCount(request.requestedAt)) return 'requestedAt must be ms since the epoch';
  const r = request.rendering;
  if (r !== undefined && (typeof r?.text !== 'string' || typeof r.truncated !== 'boolean' || r.text.length > REQUEST_RENDERING_MAX_CHARS)) {
    return `rendering must be { text, truncated } with at most ${REQUEST_RENDERING_MAX_CHARS} characters of text`;
  }
  return undefined;
}

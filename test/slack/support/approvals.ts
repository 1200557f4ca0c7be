import type { Clock } from '../../../src/clock';
import type { ApprovalDecider, DecisionReply } from '../../../slack-app/decider';
import type { ApprovalRequest, ApprovalState, DecisionInput, DecisionRefusal } from '../../../workflows/approval-contract';

/** A settable clock. */
export class ManualClock implements Clock {
  constructor(private ms: number) {}
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export const REQUESTER = { subject: 'u-1001-alice', email: 'alice@example.test', groups: ['data-scientists'] };

export function approvalRequest(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    approvalId: 'appr-0001',
    requester: REQUESTER,
    connection: 'chroma-prod',
    collections: ['customers'],
    operation: 'delete',
    bulk: true,
    method: 'POST',
    path: '/api/v2/tenants/t/databases/d/collections/customers/delete',
    fingerprint: 'f'.repeat(64),
    bodySha256: 'b'.repeat(64),
    bodyBytes: 120,
    reason: 'GDPR erasure ticket 4711',
    ruleId: 'bulk-delete-needs-review',
    ruleExplanation: 'bulk deletes need a data steward',
    summary: 'Delete 1,204 records where customer_id in (…) from customers',
    policy: { approverGroups: ['data-stewards'], required: 1, timeoutMs: 15 * 60_000, usableForMs: 10 * 60_000, reasonRequired: false },
    requestedAt: Date.UTC(2030, 0, 2, 9, 0, 0),
    gatewayInstance: 'gw-1',
    ...overrides,
  };
}

export function pendingState(overrides: Partial<ApprovalState> = {}, request: Partial<ApprovalRequest> = {}): ApprovalState {
  const req = approvalRequest(request);
  return {
    approvalId: req.approvalId,
    status: 'pending',
    request: req,
    deadline: req.requestedAt + req.policy.timeoutMs,
    decisions: [],
    refusals: [],
    ...overrides,
  };
}

/**
 * A test double of the approval workflow's `decide` update, with the contract's rules in the
 * workflow's order: a replayed decisionId is a DUPLICATE (not counted again); closed or
 * past-deadline approvals are CLOSED; the requester cannot decide (SELF_APPROVAL); groups must be
 * recent when the policy sets maxGroupAgeMs (STALE_GROUPS); only members of an approver group
 * decide (NOT_AN_APPROVER); one decision per approver (ALREADY_DECIDED); a deny needs a reason
 * (REASON_REQUIRED); a recent sign-in when the policy sets maxAuthAgeMs (STEP_UP_REQUIRED). N
 * approvals approve; any deny is final.
 */
export class MemoryDecider implements ApprovalDecider {
  readonly received: Array<{ approvalId: string; input: DecisionInput }> = [];
  private readonly approvals = new Map<string, ApprovalState>();
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  constructor(private readonly clock: Clock) {}

  add(state: ApprovalState): void {
    this.approvals.set(state.approvalId, structuredClone(state));
  }

  state(approvalId: string): ApprovalState | undefined {
    return this.approvals.get(approvalId);
  }

  /** decisions wait until release() */
  hold(): void {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  async decide(approvalId: string, input: DecisionInput): Promise<DecisionReply> {
    this.received.push({ approvalId, input: structuredClone(input) });
    if (this.gate) await this.gate;
    const state = this.approvals.get(approvalId);
    if (!state) return { counted: false, refusal: 'CLOSED', message: 'This approval no longer exists; decisions are no longer accepted.' };
    const now = this.clock.now();
    const refuse = (refusal: DecisionRefusal, message: string): DecisionReply => {
      state.refusals.push({ decisionId: input.decisionId, approver: input.approver, decision: input.decision, refusal, at: now });
      return { counted: false, refusal, message, state: structuredClone(state) };
    };
    const { policy, requester } = state.request;
    const seen = state.decisions.some((d) => d.decisionId === input.decisionId) || state.refusals.some((r) => r.decisionId === input.decisionId);
    if (seen) return refuse('DUPLICATE', 'This decision was already received; nothing changed.');
    if (state.status !== 'pending' || now >= state.deadline) return refuse('CLOSED', `This request is already ${state.status}: decisions are no longer taken.`);
    if (input.approver.subject === requester.subject) return refuse('SELF_APPROVAL', 'You made this request, so you cannot decide on it: another approver must.');
    const verifiedAt = input.approver.groupsVerifiedAt;
    if (policy.maxGroupAgeMs !== undefined && (verifiedAt === undefined || now - verifiedAt > policy.maxGroupAgeMs)) {
      return refuse('STALE_GROUPS', 'Your group membership was not confirmed recently enough: sign in again so your groups are refreshed, then decide again.');
    }
    if (!input.approver.groups.some((g) => policy.approverGroups.includes(g))) {
      return refuse('NOT_AN_APPROVER', `Only members of ${policy.approverGroups.join(', ')} may decide on this request; your decision was not counted.`);
    }
    if (state.decisions.some((d) => d.approver.subject === input.approver.subject)) return refuse('ALREADY_DECIDED', 'You already decided on this request: one decision per approver.');
    if (input.decision === 'deny' && !input.reason?.trim()) return refuse('REASON_REQUIRED', 'A denial needs a reason: deny again and say why.');
    const authTime = input.approver.authTime;
    if (policy.maxAuthAgeMs !== undefined && (authTime === undefined || now - authTime > policy.maxAuthAgeMs)) {
      return refuse('STEP_UP_REQUIRED', 'This request needs approvers who signed in recently: sign in again, then your decision counts.');
    }

    state.decisions.push({ decisionId: input.decisionId, approver: input.approver, decision: input.decision, ...(input.reason ? { reason: input.reason } : {}), at: now });
    const approvals = state.decisions.filter((d) => d.decision === 'approve').length;
    if (input.decision === 'deny') {
      state.status = 'denied';
      state.closedAt = now;
    } else if (approvals >= policy.required) {
      state.status = 'approved';
      state.grant = { grantId: `grant-${approvalId}`, issuedAt: now, expiresAt: now + policy.usableForMs };
    }
    const message =
      input.decision === 'deny'
        ? 'Your denial counts: the request is denied and will not run.'
        : state.status === 'approved'
          ? `Your approval counts: the request is approved (${approvals} of ${policy.required}).`
          : `Your approval counts: ${approvals} of ${policy.required} approvals so far.`;
    return { counted: true, message, state: structuredClone(state) };
  }

  counted(approvalId: string): number {
    return this.approvals.get(approvalId)?.decisions.length ?? 0;
  }
}

/** Polls until check() returns something truthy, or fails after timeoutMs. */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

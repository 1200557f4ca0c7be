import { createHash, randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/client';
import type { ApprovalNotifier } from '../../../activities/notifier';
import type {
  ApprovalPolicy,
  ApprovalRequest,
  ApprovalState,
  ApproverIdentity,
  ClaimInput,
  DecisionInput,
  ExecutionReport,
  MessageRef,
  Person,
} from '../../../workflows/approval-contract';
import { makeTestDecider } from '../../support/decider';

/** The decider whose signatures the requests made here trust (ApprovalRequest.deciderKeys). */
export const decider = makeTestDecider();

/** `input` as the Slack app sends it: signed for this request at `signedAt`. */
export function signedFor(request: Pick<ApprovalRequest, 'approvalId' | 'fingerprint'>, input: DecisionInput, signedAt: number): DecisionInput {
  return decider.signer.sign(request.approvalId, request.fingerprint, input, signedAt);
}

/**
 * Slack's side of an approval, in memory: what was posted and every edit, per approval. post() is
 * idempotent per approvalId, as the ApprovalNotifier contract asks. `failing` makes every call
 * throw, like a chat outage.
 */
export class RecordingNotifier implements ApprovalNotifier {
  /** messages actually posted (a retried post finds the earlier one and posts nothing) */
  readonly posts = new Map<string, { ref: MessageRef; state: ApprovalState }>();
  readonly updates = new Map<string, { ref: MessageRef; state: ApprovalState }[]>();
  /** approvals whose calls all fail, like a chat outage (retried, then given up) */
  readonly failing = new Set<string>();
  /** approvals whose calls are refused for good, like a channel that no longer exists (not retried) */
  readonly rejecting = new Set<string>();
  /** post() calls per approval, retries included */
  readonly postCalls = new Map<string, number>();

  async post(state: ApprovalState): Promise<MessageRef> {
    this.postCalls.set(state.approvalId, (this.postCalls.get(state.approvalId) ?? 0) + 1);
    this.failIfBroken(state.approvalId);
    const earlier = this.posts.get(state.approvalId);
    if (earlier) return earlier.ref;
    const ref = { channel: 'C-APPROVALS', ts: `${1700000000 + this.posts.size}.000100` };
    this.posts.set(state.approvalId, { ref, state });
    return ref;
  }

  async update(ref: MessageRef, state: ApprovalState): Promise<void> {
    this.failIfBroken(state.approvalId);
    const updates = this.updates.get(state.approvalId) ?? [];
    updates.push({ ref, state });
    this.updates.set(state.approvalId, updates);
  }

  private failIfBroken(approvalId: string): void {
    if (this.failing.has(approvalId)) throw new Error('chat is down');
    if (this.rejecting.has(approvalId)) throw ApplicationFailure.nonRetryable('channel_not_found', 'SLACK_CHANNEL_NOT_FOUND');
  }

  /** The statuses the message was edited to show, in order. */
  updatesOf(approvalId: string): string[] {
    return (this.updates.get(approvalId) ?? []).map((u) => u.state.status);
  }

  /** Every edit went to the message that was posted. */
  editedOnlyThePost(approvalId: string): boolean {
    const ref = this.posts.get(approvalId)?.ref;
    return !!ref && (this.updates.get(approvalId) ?? []).every((u) => u.ref.channel === ref.channel && u.ref.ts === ref.ts);
  }
}

export const people = {
  /** requester, and also in the approver group: self-approval must still be refused */
  alice: { subject: 'user-alice', email: 'alice@example.test', groups: ['data-eng', 'vec-approvers'] },
  bob: { subject: 'user-bob', email: 'bob@example.test', groups: ['vec-approvers'] },
  carol: { subject: 'user-carol', email: 'carol@example.test', groups: ['sec-ops', 'vec-approvers'] },
  dave: { subject: 'user-dave', email: 'dave@example.test', groups: ['vec-approvers'] },
  /** not an approver */
  erin: { subject: 'user-erin', email: 'erin@example.test', groups: ['data-eng'] },
} satisfies Record<string, Person>;

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export function makePolicy(overrides: Partial<ApprovalPolicy> = {}): ApprovalPolicy {
  return {
    approverGroups: ['vec-approvers'],
    required: 1,
    timeoutMs: HOUR,
    usableForMs: 15 * MINUTE,
    reasonRequired: true,
    maxGroupAgeMs: 10 * MINUTE,
    ...overrides,
  };
}

/** A high-risk request as the gateway would send it; each call gets its own approvalId and fingerprint. */
export function makeRequest(requestedAt: number, policy: Partial<ApprovalPolicy> = {}, overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  const fingerprint = createHash('sha256').update(randomUUID()).digest('hex');
  return {
    approvalId: `approval-${fingerprint.slice(0, 24)}`,
    requester: people.alice,
    connection: 'chroma-main',
    collections: ['customers', 'invoices'],
    operation: 'bulk_export',
    bulk: true,
    method: 'POST',
    path: '/api/v2/tenants/t/databases/d/collections/customers/get',
    fingerprint,
    bodySha256: createHash('sha256').update('{}').digest('hex'),
    bodyBytes: 2,
    reason: 'quarterly audit export',
    ruleId: 'bulk-export-needs-review',
    ruleExplanation: 'Bulk exports of customer data need one approval from vec-approvers.',
    summary: 'alice exports every record of customers from chroma-main',
    policy: makePolicy(policy),
    requestedAt,
    gatewayInstance: 'gw-test-1',
    deciderKeys: [decider.publicKey],
    ...overrides,
  };
}

let clicks = 0;

/** One click of an approver: a fresh decisionId unless one is given (a replayed payload). */
export function decisionBy(
  person: Person,
  decision: 'approve' | 'deny',
  groupsVerifiedAt: number,
  extra: { reason?: string; decisionId?: string } = {},
): DecisionInput {
  const approver: ApproverIdentity = { ...person, via: 'slack', slackTeamId: 'T-TEST', slackUserId: `U-${person.subject}`, groupsVerifiedAt };
  return { decisionId: extra.decisionId ?? `click-${++clicks}-${person.subject}`, approver, decision, reason: extra.reason };
}

export function claimFor(request: ApprovalRequest, overrides: Partial<ClaimInput> = {}): ClaimInput {
  return {
    claimId: `claim-${randomUUID()}`,
    fingerprint: request.fingerprint,
    subject: request.requester.subject,
    gatewayInstance: 'gw-test-1',
    waitMs: 0,
    ...overrides,
  };
}

export function executionOf(grantId: string): ExecutionReport {
  const body = '{"ids":["a","b"]}';
  return { grantId, status: 200, bytes: body.length, durationMs: 42, responseSha256: createHash('sha256').update(body).digest('hex') };
}

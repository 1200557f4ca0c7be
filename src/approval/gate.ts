import { createHash } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { ApprovalSettings } from '../config/schema';
import type { Classification, RequestDetail } from '../dialect/types';
import { VecgateError } from '../errors';
import type { Principal } from '../identity/types';
import type { Masker } from '../masking';
import type { Decision } from '../policy/evaluate';
import type { ApprovalPolicy, ApprovalRequest, ApprovalState, ClaimResult, ExecutionReport, RequestRendering } from '../../workflows/approval-contract';
import { isRequester } from '../../workflows/approval-rules';
import { verifyDecisionSignature } from '../../workflows/decision-signature';
import { newApprovalLimitRefusal, type NewApprovalLimit } from './new-approval-limit';
import { renderRequest } from './rendering';
import { claim, report, startOrGetApproval, state } from './temporal-client';

/** A high-risk request as the gateway holds it while it asks for approval. */
export interface HeldRequest {
  requestId: string;
  principal: Principal;
  connection: string;
  classification: Classification;
  collections: string[];
  decision: Decision;
  approval: ApprovalSettings;
  method: string;
  /** path and query as the upstream will receive them */
  target: string;
  body: Buffer;
  /** what the dialect says the parsed body asks for; undefined when the body is not JSON */
  details: readonly RequestDetail[] | undefined;
  reason?: string;
}

/** A claimed single-use grant: the request may run once, then its execution is reported. */
export interface Grant {
  approvalId: string;
  grantId: string;
  /** records the execution in the approval; runs in the background, never fails the request */
  report(execution: Omit<ExecutionReport, 'grantId'>): void;
}

export interface ApprovalGate {
  /**
   * Waits up to the hold time for a decision; resolves with a grant or throws an APPROVAL_* error.
   * `seen.runId` is set to the workflow run the request joined, whatever the outcome.
   */
  acquire(held: HeldRequest, seen?: { runId?: string }): Promise<Grant>;
  /** the approval's state for its requester or one of its approvers; 404 for anyone else */
  status(approvalId: string, principal: Principal): Promise<ApprovalView>;
  /** waits for the execution reports still on their way (at shutdown) */
  drain(): Promise<void>;
}

export interface ApprovalGateDeps {
  client: Client;
  taskQueue: string;
  holdMs: number;
  /** the decider public keys (hex) this gateway trusts: approvals.deciderPublicKeys */
  deciderKeys: readonly string[];
  /** where approvers are asked, told to the requester */
  where: string;
  /** groups older than this do not count for a decision (from the Slack settings) */
  maxGroupAgeMs?: number;
  instanceId: string;
  /** masks what approvers are shown of a request; they are not the caller, so no group exempts them */
  masker: Masker;
  /** new approvals one requester may open in a window; joining a pending one does not count */
  maxNewPerRequester?: NewApprovalLimit;
  clock: Clock;
  logger: Logger;
}

/** What a requester sees of an approval. */
export interface ApprovalView {
  approvalId: string;
  status: ApprovalState['status'];
  requester: string;
  connection: string;
  collections: string[];
  operation: string;
  summary: string;
  /** the request as approvers are shown it (masked); absent for approvals asked before it existed */
  rendering?: RequestRendering;
  reason?: string;
  deadline: string;
  decisions: Array<{ by: string; decision: 'approve' | 'deny'; reason?: string; at: string }>;
  grant?: { expiresAt: string; used: boolean };
  execution?: { status: number; bytes: number; at: string };
}

/** sha256 over what makes the request this request: the grant is bound to it. */
export function fingerprintOf(held: Pick<HeldRequest, 'connection' | 'method' | 'target' | 'body' | 'principal'>): { fingerprint: string; bodySha256: string } {
  const bodySha256 = createHash('sha256').update(held.body).digest('hex');
  const fingerprint = createHash('sha256').update(JSON.stringify([held.connection, held.method.toUpperCase(), held.target, bodySha256, held.principal.issuer, held.principal.subject])).digest('hex');
  return { fingerprint, bodySha256 };
}

/** The approval's workflow id: the same request by the same principal joins the same approval. */
export function approvalIdOf(held: Pick<HeldRequest, 'connection' | 'method' | 'target' | 'body' | 'principal'>): string {
  return `vecgate-${fingerprintOf(held).fingerprint.slice(0, 40)}`;
}

export function createApprovalGate(deps: ApprovalGateDeps): ApprovalGate {
  const handleOf = (approvalId: string) => deps.client.workflow.getHandle(approvalId);
  const reporting = new Set<Promise<void>>();
  const unavailable = (err: unknown) =>
    new VecgateError('APPROVALS_UNAVAILABLE', 'The approval service (Temporal) did not answer, so the request was not run. Retry shortly.', { cause: err });

  return {
    async acquire(held, seen) {
      if (held.approval.reasonRequired && !held.reason) {
        throw new VecgateError('APPROVAL_REASON_REQUIRED', `${held.decision.explanation} Say why in the X-Vecgate-Reason header (your client's extra headers) and send the request again.`);
      }
      const request = approvalRequest(held, deps);
      if (deps.maxNewPerRequester) {
        const refusal = await newApprovalLimitRefusal(deps.client, { taskQueue: deps.taskQueue, approvalId: request.approvalId, subject: held.principal.subject, limit: deps.maxNewPerRequester, now: deps.clock.now() }).catch((err: unknown) => {
          throw unavailable(err);
        });
        if (refusal) throw refusal;
      }
      const input = { claimId: held.requestId, fingerprint: request.fingerprint, subject: held.principal.subject, gatewayInstance: deps.instanceId, waitMs: deps.holdMs };
      let result: ClaimResult | undefined;
      // An approval that is closing (just used, denied or expired) aborts or refuses the claim: the
      // next start then finds it closed and opens a new approval for the same request.
      for (let attempt = 1; !result; attempt++) {
        try {
          const handle = await startOrGetApproval(deps.client, deps.taskQueue, request);
          if (seen) seen.runId = handle.firstExecutionRunId;
          // the workflow answers within holdMs; the deadline only guards against a silent worker
          result = await deps.client.withDeadline(deps.clock.now() + deps.holdMs + 10_000, () => claim(handle, input));
          // an approval that has just run this request is closing: ask again once it has closed
          if (!result.granted && result.refusal === 'ALREADY_USED' && result.state.status === 'executed' && attempt < 3) {
            result = undefined;
            await new Promise((r) => setTimeout(r, 250 * attempt));
          }
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError) || attempt >= 3) throw unavailable(err);
        }
      }
      if (!result.granted) throw refusalError(result, deps.where);
      const untrusted = untrustedGrant(result.state, request, held.approval, deps.deciderKeys);
      if (untrusted) {
        deps.logger.error({ approvalId: request.approvalId, problem: untrusted }, 'an approval granted without enough decisions signed by a trusted decider was not honoured');
        throw new VecgateError('APPROVAL_UNTRUSTED', `Approval ${request.approvalId} was not given by a trusted approver (${untrusted}); the request was not run. Send it again to ask anew.`);
      }
      const approvalId = request.approvalId;
      const grantId = result.grantId;
      return {
        approvalId,
        grantId,
        report(execution) {
          const p = report(handleOf(approvalId), { grantId, ...execution }).then(
            () => undefined,
            (err: unknown) => deps.logger.warn({ err, approvalId, grantId }, 'the execution of an approved request could not be reported to its approval'),
          );
          reporting.add(p);
          void p.finally(() => reporting.delete(p));
        },
      };
    },

    async drain() {
      await Promise.all([...reporting]);
    },

    async status(approvalId, principal) {
      const notFound = () => new VecgateError('APPROVAL_NOT_FOUND', `No approval ${approvalId.slice(0, 80)} is visible to you.`);
      if (!/^vecgate-[0-9a-f]{40}$/.test(approvalId)) throw notFound();
      let s: ApprovalState;
      try {
        s = await state(handleOf(approvalId));
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw notFound();
        throw unavailable(err);
      }
      const isRequester = s.request.requester.subject === principal.subject;
      const isApprover = principal.groups.some((g) => s.request.policy.approverGroups.includes(g));
      if (!isRequester && !isApprover) throw notFound();
      return viewOf(s);
    },
  };
}

function approvalRequest(held: HeldRequest, deps: ApprovalGateDeps): ApprovalRequest {
  const { fingerprint, bodySha256 } = fingerprintOf(held);
  const c = held.classification;
  const who = held.principal.email ?? held.principal.subject;
  // approvers are not the caller: no group of theirs exempts them, so every applicable rule masks
  const mask = deps.masker.planFor({ connection: held.connection, collections: held.collections, groups: [] });
  const policy: ApprovalPolicy = {
    approverGroups: held.approval.approverGroups,
    required: held.approval.required,
    timeoutMs: held.approval.timeoutSeconds * 1000,
    usableForMs: held.approval.usableForSeconds * 1000,
    reasonRequired: held.approval.reasonRequired,
    ...(deps.maxGroupAgeMs ? { maxGroupAgeMs: deps.maxGroupAgeMs } : {}),
    ...(held.approval.maxAuthAgeSeconds ? { maxAuthAgeMs: held.approval.maxAuthAgeSeconds * 1000 } : {}),
  };
  return {
    approvalId: approvalIdOf(held),
    requester: { subject: held.principal.subject, ...(held.principal.email ? { email: held.principal.email } : {}), groups: held.principal.groups },
    connection: held.connection,
    collections: held.collections,
    operation: c.operation,
    bulk: c.bulk,
    method: held.method.toUpperCase(),
    path: held.target.split('?')[0] as string,
    fingerprint,
    bodySha256,
    bodyBytes: held.body.length,
    ...(held.reason ? { reason: held.reason } : {}),
    ruleId: held.decision.ruleId,
    ruleExplanation: held.decision.explanation,
    summary: `${who} asks to ${c.operation}${c.bulk ? ' (bulk)' : ''} ${held.collections.length ? held.collections.join(', ') : 'the connection'} on ${held.connection}: ${c.reason}`,
    rendering: renderRequest({ method: held.method.toUpperCase(), target: held.target, bodyBytes: held.body.length, bodySha256, details: held.details, ...(mask ? { mask } : {}) }),
    policy,
    requestedAt: deps.clock.now(),
    gatewayInstance: deps.instanceId,
    deciderKeys: [...deps.deciderKeys],
  };
}

/**
 * Why this gateway does not honour a grant, or undefined. Anyone who reaches Temporal can start the
 * approval workflow first, under the same id, naming their own decider key; the workflow would then
 * count their signatures. So the gateway does not take the workflow's word: it verifies each counted
 * approval's signature again, against the keys in its own configuration and the request it computed,
 * and applies its own rule's approver groups and count. Only the workflow code run by our worker is
 * trusted to keep the history; Temporal access itself is guarded by TLS, mTLS or an API key.
 */
export function untrustedGrant(
  state: ApprovalState,
  request: Pick<ApprovalRequest, 'approvalId' | 'fingerprint' | 'requester'>,
  rule: Pick<ApprovalSettings, 'approverGroups' | 'required' | 'maxAuthAgeSeconds'>,
  deciderKeys: readonly string[],
): string | undefined {
  if (state.request.approvalId !== request.approvalId || state.request.fingerprint !== request.fingerprint) return 'the approval is for another request';
  const asStarted = { ...state.request, deciderKeys: [...deciderKeys] };
  const groups = new Set(rule.approverGroups);
  const approvers = new Set<string>();
  for (const d of state.decisions) {
    const verified = verifyDecisionSignature(asStarted, { decisionId: d.decisionId, approver: d.approver, decision: d.decision, ...(d.reason !== undefined ? { reason: d.reason } : {}), ...(d.signature ? { signature: d.signature } : {}) }, d.at);
    if (!verified.ok) return `a counted decision is not signed by a trusted decider (${verified.refusal})`;
    if (d.decision === 'deny') return 'a counted decision denies it';
    if (isRequester(request, d.approver)) continue;
    const authTime = d.approver.authTime;
    if (rule.maxAuthAgeSeconds !== undefined && (authTime === undefined || d.at - authTime > rule.maxAuthAgeSeconds * 1000)) continue;
    if (d.approver.groups.some((g) => groups.has(g))) approvers.add(d.approver.subject);
  }
  return approvers.size >= rule.required ? undefined : `${approvers.size} of ${rule.required} signed approvals from ${rule.approverGroups.join(', ')}`;
}

function refusalError(result: Extract<ClaimResult, { granted: false }>, where: string): VecgateError {
  const s = result.state;
  const id = s.approvalId;
  const statusHint = `State: GET /vecgate/approvals/${id}.`;
  switch (result.refusal) {
    case 'PENDING': {
      const needs = `${s.request.policy.required} approval(s) from ${s.request.policy.approverGroups.join(' or ')}`;
      return new VecgateError(
        'APPROVAL_PENDING',
        `Approval required: approval ${id} was asked in ${where} (needs ${needs}, until ${new Date(s.deadline).toISOString()}). Retry the same request after it is approved and it will run once. ${statusHint}`,
      );
    }
    case 'DENIED': {
      const deny = s.decisions.find((d) => d.decision === 'deny');
      const by = deny ? ` by ${deny.approver.email ?? deny.approver.subject}${deny.reason ? `: "${deny.reason}"` : ''}` : '';
      return new VecgateError('APPROVAL_DENIED', `Approval ${id} was denied${by}. The request was not run. ${statusHint}`);
    }
    case 'EXPIRED':
      return new VecgateError('APPROVAL_EXPIRED', `Approval ${id} expired without a decision; the request was not run. Send it again to ask anew.`);
    default:
      return new VecgateError('APPROVAL_NOT_USABLE', `The approval ${id} cannot be used for this request (${result.refusal}): ${result.message}`);
  }
}

function viewOf(s: ApprovalState): ApprovalView {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    approvalId: s.approvalId,
    status: s.status,
    requester: s.request.requester.email ?? s.request.requester.subject,
    connection: s.request.connection,
    collections: s.request.collections,
    operation: s.request.operation,
    summary: s.request.summary,
    ...(s.request.rendering ? { rendering: s.request.rendering } : {}),
    ...(s.request.reason ? { reason: s.request.reason } : {}),
    deadline: iso(s.deadline),
    decisions: s.decisions.map((d) => ({ by: d.approver.email ?? d.approver.subject, decision: d.decision, ...(d.reason ? { reason: d.reason } : {}), at: iso(d.at) })),
    ...(s.grant ? { grant: { expiresAt: iso(s.grant.expiresAt), used: s.grant.claimedAt !== undefined } } : {}),
    ...(s.execution ? { execution: { status: s.execution.status, bytes: s.execution.bytes, at: iso(s.execution.at) } } : {}),
  };
}

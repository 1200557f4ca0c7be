import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { ApprovalActivities } from '../activities';
import {
  approvalStateQuery,
  claimGrantUpdate,
  decideUpdate,
  reportExecutionUpdate,
  type ApprovalRequest,
  type ApprovalState,
  type ApprovalStatus,
  type ClaimResult,
  type DecisionRefusal,
  type DecisionResult,
  type DecisionSignature,
} from './approval-contract';
import {
  approvalCount,
  approvalsRequired,
  assertClaimInput,
  assertDecisionInput,
  assertExecutionReport,
  claimBindingRefusal,
  claimRefusalMessage,
  countedMessage,
  decisionRefusal,
  judgeClaim,
  refusalMessage,
  reportRefusal,
  requestProblem,
} from './approval-rules';
import { verifyDecisionSignature } from './decision-signature';
import { APPROVAL_SEARCH_KEYS } from './search-attributes';

/*
 * One workflow per high-risk request. Every path (commands, their order, timers) is recorded in
 * test/workflows/histories/ and replayed on every test run: a change that alters the commands of
 * an existing path needs `patched()` or a new workflow type, or running approvals break.
 */

// Notifications are bounded: a chat outage must not hold the approval. Eight attempts over about a
// minute and a half ride out a rate limit or a blip; then the workflow logs the failure and goes on
// (decisions still arrive through the API; a notifier throws a non-retryable failure for errors
// that retrying cannot fix).
const messages = proxyActivities<ApprovalActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8 },
});

/** How long a claimed grant waits for the gateway's execution report before the approval closes without one. */
export const EXECUTION_REPORT_WINDOW_MS = 60 * 60 * 1000;

/**
 * Decisions must carry the Slack app's signature (THREATS 35). Checked per decision, not once at the
 * start: histories recorded before this replay their decisions unsigned as they were, while a running
 * pre-upgrade approval that gets a decision after the upgrade takes the signed path (and, having no
 * trusted keys in its input, refuses it UNSIGNED: its requester asks again).
 */
export const SIGNED_DECISIONS_PATCH = 'vecgate-signed-decisions';

const CLOSED_STATUSES: ReadonlySet<ApprovalStatus> = new Set(['denied', 'expired', 'executed', 'grant_expired']);

const snapshot = (state: ApprovalState): ApprovalState => JSON.parse(JSON.stringify(state)) as ApprovalState;

export async function approvalWorkflow(request: ApprovalRequest): Promise<ApprovalState> {
  const problem = requestProblem(request);
  if (problem) throw ApplicationFailure.nonRetryable(`The approval request is malformed: ${problem}.`, 'MALFORMED_APPROVAL_REQUEST');

  const state: ApprovalState = {
    approvalId: request.approvalId,
    status: 'pending',
    request,
    deadline: request.requestedAt + request.policy.timeoutMs,
    decisions: [],
    refusals: [],
  };
  // The starter sets the search attributes (startOrGetApproval does); the workflow keeps the outcome
  // current only then, because upserting an attribute the namespace lacks fails every workflow task.
  const indexed = workflowInfo().typedSearchAttributes.get(APPROVAL_SEARCH_KEYS.outcome) !== undefined;
  // Every state change, in order, for the approval message; the publisher drains it before the end.
  const changes: ApprovalState[] = [];
  let closing = false;

  const enter = (status: ApprovalStatus): void => {
    state.status = status;
    if (CLOSED_STATUSES.has(status)) state.closedAt = Date.now();
    if (indexed) upsertSearchAttributes([{ key: APPROVAL_SEARCH_KEYS.outcome, value: status }]);
    log.info('approval status changed', { approvalId: state.approvalId, status });
  };
  const changed = (): void => {
    changes.push(snapshot(state));
  };

  setHandler(approvalStateQuery, () => state);

  // Refused decisions are accepted updates answered with a refusal (the validator only rejects
  // malformed input): an accepted update and its result are written to the history as evidence.
  setHandler(
    decideUpdate,
    (input): DecisionResult => {
      const now = Date.now();
      let signature: DecisionSignature | undefined;
      let refusal: DecisionRefusal | undefined;
      // Nothing of an unsigned decision is trusted, not even its decisionId: the signature is checked first.
      const signedPath = patched(SIGNED_DECISIONS_PATCH);
      if (signedPath) {
        const verdict = verifyDecisionSignature(request, input, now);
        if (!verdict.ok) refusal = verdict.refusal;
        // only the verified fields are kept: whatever else came with the input is not evidence
        else if (input.signature) signature = { publicKey: input.signature.publicKey, signedAt: input.signature.signedAt, value: input.signature.value };
      }
      // since the patch, self-approval is matched on subject, e-mail and the approver's other bindings
      refusal ??= decisionRefusal(state, input, now, { matchIdentity: signedPath });
      if (refusal) {
        const message = refusalMessage(state, input, refusal);
        state.refusals.push({ decisionId: input.decisionId, approver: input.approver, decision: input.decision, refusal, at: now });
        log.info('decision refused', { approvalId: state.approvalId, approver: input.approver.subject, refusal });
        return { counted: false, refusal, message, state: snapshot(state) };
      }
      state.decisions.push({ decisionId: input.decisionId, approver: input.approver, decision: input.decision, reason: input.reason, at: now, ...(signature ? { signature } : {}) });
      if (input.decision === 'deny') {
        enter('denied');
      } else if (approvalCount(state) >= approvalsRequired(request)) {
        state.grant = { grantId: uuid4(), issuedAt: now, expiresAt: now + request.policy.usableForMs };
        enter('approved');
      }
      changed();
      return { counted: true, message: countedMessage(state, input), state: snapshot(state) };
    },
    { validator: assertDecisionInput },
  );

  setHandler(
    claimGrantUpdate,
    async (input): Promise<ClaimResult> => {
      // Another request or principal is told at once; the rightful caller may wait for a decision.
      if (input.waitMs > 0 && state.status === 'pending' && !claimBindingRefusal(state, input)) {
        await condition(() => state.status !== 'pending', input.waitMs);
      }
      const now = Date.now();
      const verdict = judgeClaim(state, input, now);
      if (!verdict.granted) {
        log.info('claim refused', { approvalId: state.approvalId, claimId: input.claimId, refusal: verdict.refusal });
        return { granted: false, refusal: verdict.refusal, message: claimRefusalMessage(verdict.refusal), state: snapshot(state) };
      }
      if (verdict.firstClaim && state.grant) {
        Object.assign(state.grant, { claimedAt: now, claimId: input.claimId, gatewayInstance: input.gatewayInstance });
        log.info('grant claimed', { approvalId: state.approvalId, claimId: input.claimId, gatewayInstance: input.gatewayInstance });
      }
      return { granted: true, grantId: verdict.grantId, state: snapshot(state) };
    },
    { validator: assertClaimInput },
  );

  setHandler(
    reportExecutionUpdate,
    (report): ApprovalState => {
      const refusal = reportRefusal(state, report);
      if (refusal) throw ApplicationFailure.nonRetryable(`The execution report was not recorded (${refusal}).`, refusal);
      if (!state.execution) {
        state.execution = { ...report, at: Date.now() };
        enter('executed');
        changed();
      }
      return snapshot(state);
    },
    { validator: assertExecutionReport },
  );

  async function keepMessageCurrent(): Promise<void> {
    try {
      state.message = await messages.notifyApprovers(snapshot(state));
    } catch (err) {
      log.error('approval message could not be posted; decisions still count when sent through the API', { approvalId: state.approvalId, error: String(err) });
    }
    for (;;) {
      await condition(() => changes.length > 0 || closing);
      const next = changes.shift();
      if (!next) return;
      if (!state.message) continue;
      try {
        await messages.updateApprovalMessage(state.message, { ...next, message: state.message });
      } catch (err) {
        log.warn('approval message could not be updated', { approvalId: state.approvalId, status: next.status, error: String(err) });
      }
    }
  }

  log.info('approval requested', { approvalId: state.approvalId, requester: request.requester.subject, deadline: state.deadline });
  const messagesDone = keepMessageCurrent();

  const decisionWindow = state.deadline - Date.now();
  if (decisionWindow > 0) await condition(() => state.status !== 'pending', decisionWindow);
  if (state.status === 'pending') {
    enter('expired');
    changed();
  }

  const grant = state.grant;
  if (state.status === 'approved' && grant) {
    const usableFor = grant.expiresAt - Date.now();
    const claimed = usableFor > 0 && (await condition(() => grant.claimedAt !== undefined, usableFor));
    if (!claimed) {
      enter('grant_expired');
      changed();
    } else if (!(await condition(() => state.execution !== undefined, EXECUTION_REPORT_WINDOW_MS))) {
      // The gateway claimed the grant and never reported: the approval stays `approved` with the claim
      // on record, which is exactly what an auditor must see.
      state.closedAt = Date.now();
      log.warn('grant claimed but no execution was reported', { approvalId: state.approvalId, claimId: grant.claimId });
    }
  }

  closing = true;
  await messagesDone;
  await condition(allHandlersFinished);
  return state;
}

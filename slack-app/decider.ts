import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Clock } from '../src/clock';
import { approvalStateQuery, decideUpdate, type ApprovalState, type DecisionInput, type DecisionRefusal, type DecisionResult } from '../workflows/approval-contract';
import type { DecisionSigner } from './decision-signer';

/**
 * A decision's answer as the Slack app sees it: the workflow's DecisionResult, or a refusal
 * without state when there is no running workflow to ask (`state` is then absent).
 */
export type DecisionReply = Omit<DecisionResult, 'state'> & { state?: ApprovalState };

/** Where an approver's click goes. The Temporal implementation sends the workflow's update. */
export interface ApprovalDecider {
  decide(approvalId: string, input: DecisionInput): Promise<DecisionReply>;
}

const REFUSALS: readonly DecisionRefusal[] = [
  'SELF_APPROVAL',
  'NOT_AN_APPROVER',
  'ALREADY_DECIDED',
  'CLOSED',
  'REASON_REQUIRED',
  'DUPLICATE',
  'STALE_GROUPS',
  'STEP_UP_REQUIRED',
  'UNSIGNED',
  'BAD_SIGNATURE',
  'STALE_SIGNATURE',
];

export interface TemporalDeciderOptions {
  /** signs every decision; the workflow counts only decisions signed by a trusted decider key */
  signer: DecisionSigner;
  /** the signing time */
  clock: Clock;
}

/**
 * Sends each decision as the workflow's `decide` update and returns its result. An approval whose
 * workflow is gone or finished answers a CLOSED refusal the approver can read; other failures
 * (Temporal unreachable, input the workflow's validator rejects) are thrown, and the listener
 * tells the approver that nothing was decided.
 */
export function createTemporalDecider(client: Client, options: TemporalDeciderOptions): ApprovalDecider {
  return {
    async decide(approvalId, input) {
      const handle = client.workflow.getHandle(approvalId);
      try {
        // a closed approval takes no decision (and may have no worker left to answer a query)
        if ((await handle.describe()).status.name !== 'RUNNING') return await closedReply(client, approvalId);
        // the signature binds the decision to the request's fingerprint, which the approval knows
        const { request } = await handle.query(approvalStateQuery);
        const signed = options.signer.sign(approvalId, request.fingerprint, withoutSignature(input), options.clock.now());
        return await handle.executeUpdate(decideUpdate, { args: [signed] });
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return closedReply(client, approvalId);
        // a failed update whose failure type is one of our refusals is that refusal; anything
        // else (a validator rejecting malformed input) is an error, logged by the caller
        const cause = err instanceof WorkflowUpdateFailedError ? (err.cause as { type?: unknown; message?: unknown } | undefined) : undefined;
        const refusal = REFUSALS.find((r) => r === cause?.type);
        if (refusal && typeof cause?.message === 'string') return { counted: false, refusal, message: cause.message };
        throw err;
      }
    },
  };
}

function withoutSignature(input: DecisionInput): Omit<DecisionInput, 'signature'> {
  const { signature: _ignored, ...rest } = input;
  return rest;
}

/** A closed workflow answers its state query when a worker replays it; bounded, it may not. */
const FINAL_STATE_WAIT_MS = 3000;

async function closedReply(client: Client, approvalId: string): Promise<DecisionReply> {
  const handle = client.workflow.getHandle(approvalId);
  const query = handle.query(approvalStateQuery);
  void query.catch(() => undefined); // may settle after the timeout below
  let timer: NodeJS.Timeout | undefined;
  const final = await Promise.race([query, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), FINAL_STATE_WAIT_MS)))])
    .catch(() => undefined)
    .finally(() => clearTimeout(timer));
  if (final) {
    return { counted: false, refusal: 'CLOSED', message: `This request is already ${final.status.replace('_', ' ')}: decisions are no longer taken.`, state: final };
  }
  try {
    const description = await handle.describe();
    return { counted: false, refusal: 'CLOSED', message: `This approval is closed (${description.status.name.toLowerCase()}): decisions are no longer taken.` };
  } catch {
    return { counted: false, refusal: 'CLOSED', message: 'This approval no longer exists: decisions are no longer taken.' };
  }
}

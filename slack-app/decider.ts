import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { decideUpdate, type ApprovalState, type DecisionInput, type DecisionRefusal, type DecisionResult } from '../workflows/approval-contract';

/**
 * A decision's answer as the Slack app sees it: the workflow's DecisionResult, or a refusal
 * without state when there is no running workflow to ask (`state` is then absent).
 */
export type DecisionReply = Omit<DecisionResult, 'state'> & { state?: ApprovalState };

/** Where an approver's click goes. The Temporal implementation sends the workflow's update. */
export interface ApprovalDecider {
  decide(approvalId: string, input: DecisionInput): Promise<DecisionReply>;
}

const REFUSALS: readonly DecisionRefusal[] = ['SELF_APPROVAL', 'NOT_AN_APPROVER', 'ALREADY_DECIDED', 'CLOSED', 'REASON_REQUIRED', 'DUPLICATE', 'STALE_GROUPS'];

/**
 * Sends each decision as the workflow's `decide` update and returns its result. An approval whose
 * workflow is gone or finished answers a CLOSED refusal the approver can read; other failures
 * (Temporal unreachable) are thrown, and the listener tells the approver to try again.
 */
export function createTemporalDecider(client: Client): ApprovalDecider {
  return {
    async decide(approvalId, input) {
      const handle = client.workflow.getHandle(approvalId);
      try {
        return await handle.executeUpdate(decideUpdate, { args: [input] });
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) {
          return { counted: false, refusal: 'CLOSED', message: await closedMessage(client, approvalId) };
        }
        if (err instanceof WorkflowUpdateFailedError) {
          // the workflow's validator refused the update (it writes no history); its failure type
          // names the refusal when it is one of ours
          const cause = err.cause as { type?: unknown; message?: unknown } | undefined;
          const refusal = REFUSALS.find((r) => r === cause?.type) ?? 'CLOSED';
          const message = typeof cause?.message === 'string' && cause.message ? cause.message : 'The approval workflow did not accept this decision.';
          return { counted: false, refusal, message };
        }
        throw err;
      }
    },
  };
}

async function closedMessage(client: Client, approvalId: string): Promise<string> {
  try {
    const description = await client.workflow.getHandle(approvalId).describe();
    return `This approval is closed (${description.status.name.toLowerCase()}); decisions are no longer accepted.`;
  } catch {
    return 'This approval no longer exists; decisions are no longer accepted.';
  }
}

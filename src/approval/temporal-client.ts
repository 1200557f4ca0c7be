import { WorkflowNotFoundError, type Client, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { approvalWorkflow } from '../../workflows/approval';
import {
  APPROVAL_WORKFLOW_TYPE,
  approvalStateQuery,
  claimGrantUpdate,
  decideUpdate,
  reportExecutionUpdate,
  type ApprovalRequest,
  type ApprovalState,
  type ClaimInput,
  type ClaimResult,
  type DecisionInput,
  type DecisionResult,
  type ExecutionReport,
} from '../../workflows/approval-contract';
import { approvalSearchAttributes } from '../../workflows/search-attributes';

export type ApprovalHandle = WorkflowHandle<typeof approvalWorkflow>;
/** As returned by startOrGetApproval: firstExecutionRunId names the run that answered (new or existing). */
export type StartedApprovalHandle = WorkflowHandleWithFirstExecutionRunId<typeof approvalWorkflow>;

/**
 * Starts the approval of `request`, or finds the one already running for it: the workflow id is the
 * approvalId (derived from the request fingerprint), so a repeated request joins the same approval,
 * and once that approval has closed (used, denied, expired) the same request may ask again.
 */
export async function startOrGetApproval(client: Client, taskQueue: string, request: ApprovalRequest): Promise<StartedApprovalHandle> {
  return client.workflow.start<typeof approvalWorkflow>(APPROVAL_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: request.approvalId,
    args: [request],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    typedSearchAttributes: approvalSearchAttributes(request),
  });
}

/**
 * Claims the grant. A retried claim keeps its claimId: the workflow answers it with the same grant.
 * (No update id from the claimId: the server would then replay a first PENDING answer forever.)
 */
export async function claim(handle: WorkflowHandle, input: ClaimInput): Promise<ClaimResult> {
  return handle.executeUpdate(claimGrantUpdate, { args: [input] });
}

/** Records the execution of a claimed grant; the approval then ends as `executed`. A retried report gets the recorded state. */
export async function report(handle: WorkflowHandle, execution: ExecutionReport): Promise<ApprovalState> {
  return handle.executeUpdate(reportExecutionUpdate, { args: [execution] });
}

export async function state(handle: WorkflowHandle): Promise<ApprovalState> {
  return handle.query(approvalStateQuery);
}

/**
 * Sends an approver's decision. Once the approval workflow has ended the server takes no update,
 * so that case is answered here as CLOSED with the final state, like a late decision the workflow
 * refuses itself. (A repeated decisionId reaches the workflow, which answers DUPLICATE.)
 */
export async function decide(handle: WorkflowHandle, input: DecisionInput): Promise<DecisionResult> {
  try {
    return await handle.executeUpdate(decideUpdate, { args: [input] });
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    const final = await state(handle);
    return { counted: false, refusal: 'CLOSED', message: `This request is already ${final.status.replace('_', ' ')}: decisions are no longer taken.`, state: final };
  }
}

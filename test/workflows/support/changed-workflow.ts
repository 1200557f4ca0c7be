import { sleep } from '@temporalio/workflow';
import type { ApprovalRequest, ApprovalState } from '../../../workflows/approval-contract';
import { approvalWorkflow as recorded } from '../../../workflows/approval';

/**
 * An incompatible change on purpose, for replay.test.ts: one timer before anything else shifts every
 * command, so no recorded history may replay against it.
 */
export async function approvalWorkflow(request: ApprovalRequest): Promise<ApprovalState> {
  await sleep(1);
  return recorded(request);
}

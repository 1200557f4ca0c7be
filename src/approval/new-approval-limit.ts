import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { VecgateError } from '../errors';
import { APPROVAL_WORKFLOW_TYPE, SEARCH_ATTRIBUTES } from '../../workflows/approval-contract';

/**
 * How many new approvals one requester may open in a window (THREATS 34: a flood of asks buries the
 * one that matters). Counted from Temporal's visibility store, so every gateway instance sees the
 * same count without a store of its own. Visibility is eventually consistent and two gateways may
 * count at the same moment, so a burst can overshoot by the asks in flight: a brake, not a quota.
 */

export interface NewApprovalLimit {
  count: number;
  seconds: number;
}

/** Start times (ms) of the requester's approvals in the window; undefined: within the limit. */
export function retryAfterLimit(startTimes: readonly number[], limit: NewApprovalLimit, now: number): number | undefined {
  const windowMs = limit.seconds * 1000;
  const inWindow = startTimes.filter((t) => t > now - windowMs).sort((a, b) => a - b);
  if (inWindow.length < limit.count) return undefined;
  // one more ask fits once all but count - 1 of them have left the window
  return (inWindow[inWindow.length - limit.count] as number) + windowMs;
}

/** A visibility query string literal: backslashes and quotes escaped. */
export function queryLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export interface NewApprovalQuestion {
  taskQueue: string;
  /** the approval the request would start or join */
  approvalId: string;
  subject: string;
  limit: NewApprovalLimit;
  now: number;
}

/**
 * The refusal for a request that would open one approval too many, or undefined. Joining the
 * approval already running for the same request never counts: a retry is not a new ask.
 */
export async function newApprovalLimitRefusal(client: Client, q: NewApprovalQuestion): Promise<VecgateError | undefined> {
  try {
    const running = await client.workflow.getHandle(q.approvalId).describe();
    if (running.status.name === 'RUNNING') return undefined;
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  const since = new Date(q.now - q.limit.seconds * 1000).toISOString();
  const query = [
    `WorkflowType = ${queryLiteral(APPROVAL_WORKFLOW_TYPE)}`,
    `TaskQueue = ${queryLiteral(q.taskQueue)}`,
    `${SEARCH_ATTRIBUTES.requester} = ${queryLiteral(q.subject)}`,
    `StartTime > ${queryLiteral(since)}`,
  ].join(' AND ');
  const startTimes: number[] = [];
  // a few past the limit are enough to say when the next ask fits, in case of an overshoot
  const enough = q.limit.count + 100;
  for await (const execution of client.workflow.list({ query, pageSize: Math.min(enough, 1000) })) {
    startTimes.push(execution.startTime.getTime());
    if (startTimes.length >= enough) break;
  }
  const retryAt = retryAfterLimit(startTimes, q.limit, q.now);
  if (retryAt === undefined) return undefined;
  const window = q.limit.seconds % 3600 === 0 ? `${q.limit.seconds / 3600} hour(s)` : `${q.limit.seconds} seconds`;
  return new VecgateError(
    'APPROVAL_RATE_LIMITED',
    `Too many approvals asked: you opened ${startTimes.length} new approval(s) in the last ${window}, and at most ${q.limit.count} are allowed. Retry after ${new Date(retryAt).toISOString()}; retrying a request that is already waiting for approval is not limited.`,
  );
}

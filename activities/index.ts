import { Context } from '@temporalio/activity';
import type { ApprovalState, MessageRef } from '../workflows/approval-contract';
import type { ApprovalNotifier } from './notifier';

export type { ApprovalNotifier } from './notifier';

export interface ActivityDeps {
  notifier: ApprovalNotifier;
}

/**
 * The approval workflow's I/O: asking approvers and keeping their message current. The notifier is
 * handed in, so the worker wires Slack and tests wire an in-memory one.
 */
export function createActivities({ notifier }: ActivityDeps) {
  return {
    /** Posts the approval message; a retried attempt first looks for an earlier attempt's post. */
    async notifyApprovers(state: ApprovalState): Promise<MessageRef> {
      return notifier.post(state, { retried: Context.current().info.attempt > 1 });
    },
    /** Edits the posted message to show this state. */
    async updateApprovalMessage(ref: MessageRef, state: ApprovalState): Promise<void> {
      await notifier.update(ref, state);
    },
  };
}

export type ApprovalActivities = ReturnType<typeof createActivities>;

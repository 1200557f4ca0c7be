import type { ApprovalState, MessageRef } from '../workflows/approval-contract';

/**
 * Where approvers are asked. Slack implements it (slack-app/notifier.ts); the activities only see
 * this interface, so tests hand in another implementation and the chat tool can change.
 */
export interface ApprovalNotifier {
  /**
   * Posts the approval message. Idempotent per approvalId: when a retried activity calls it again
   * after a post that succeeded, it finds and returns the message already posted.
   */
  post(state: ApprovalState): Promise<MessageRef>;
  /** Edits the posted message to show the state (each decision, approved, denied, expired, executed). */
  update(ref: MessageRef, state: ApprovalState): Promise<void>;
}

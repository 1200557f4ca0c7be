import type { ApprovalState, MessageRef } from '../workflows/approval-contract';

/**
 * Where approvers are asked. Slack implements it (slack-app/notifier.ts); the activities only see
 * this interface, so tests hand in another implementation and the chat tool can change.
 */
export interface ApprovalNotifier {
  /**
   * Posts the approval message. Idempotent per approval: when `retried` (an earlier attempt may
   * have posted before it failed), it looks for that message first and returns it. A first
   * attempt skips the look-up, which Slack rate-limits tightly. Default: retried.
   */
  post(state: ApprovalState, options?: { retried?: boolean }): Promise<MessageRef>;
  /** Edits the posted message to show the state (each decision, approved, denied, expired, executed). */
  update(ref: MessageRef, state: ApprovalState): Promise<void>;
}

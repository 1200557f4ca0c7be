import type { ApproverRefusal } from './approvers/approver-directory';

/** A click refused before it reached the approval workflow (which records its own refusals). */
export interface SlackRefusal {
  teamId: string;
  userId: string;
  approvalId: string;
  reason: ApproverRefusal;
  decision: 'approve' | 'deny';
  /** ms since the epoch */
  at: number;
}

/** Where such refusals go; the gateway writes them to the audit store. */
export interface RefusalRecorder {
  record(refusal: SlackRefusal): Promise<void>;
}

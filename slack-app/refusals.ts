import type { ApproverIdentity } from '../workflows/approval-contract';
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

/** A click the approval workflow answered, counted or refused. */
export interface SlackDecisionAnswer {
  teamId: string;
  userId: string;
  approvalId: string;
  decisionId: string;
  decision: 'approve' | 'deny';
  approver: ApproverIdentity;
  counted: boolean;
  refusal?: string;
  /** the workflow's sentence */
  message: string;
  /** ms since the epoch */
  at: number;
}

/** Where clicks go as evidence; the worker writes them to its audit trail. */
export interface RefusalRecorder {
  record(refusal: SlackRefusal): Promise<void>;
  /** a click the workflow answered; absent: only refusals are kept */
  answered?(answer: SlackDecisionAnswer): Promise<void>;
}

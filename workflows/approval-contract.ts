import { defineQuery, defineUpdate } from '@temporalio/workflow';

/**
 * The approval workflow's contract, shared by the workflow, the gateway and the Slack app: the
 * messages are defined once here so their types flow to every caller. Deterministic, no I/O.
 */

export const APPROVAL_WORKFLOW_TYPE = 'approvalWorkflow';

export interface Person {
  subject: string;
  email?: string;
  groups: string[];
}

/** What a `review` rule says about its approvals. */
export interface ApprovalPolicy {
  /** identity-provider groups whose members may decide */
  approverGroups: string[];
  /** approvals needed (N of M); any deny is final */
  required: number;
  /** how long approvers have to decide */
  timeoutMs: number;
  /** how long an approval stays usable by the requester */
  usableForMs: number;
  reasonRequired: boolean;
  /**
   * how old an approver's groups (ApproverIdentity.groupsVerifiedAt) may be for a decision to count;
   * absent: not checked. When set, a decision without groupsVerifiedAt is refused (STALE_GROUPS).
   */
  maxGroupAgeMs?: number;
  /**
   * step-up: the approver must have signed in at the identity provider within this time
   * (ApproverIdentity.authTime); absent: not checked. Otherwise refused STEP_UP_REQUIRED.
   */
  maxAuthAgeMs?: number;
}

/** Longest rendering of a request the gateway writes (and the workflow accepts), in characters. */
export const REQUEST_RENDERING_MAX_CHARS = 3000;

/**
 * The request as approvers are shown it (THREATS 34): method, target and what the body asks for,
 * canonical (the same request renders the same), masked, and cut at REQUEST_RENDERING_MAX_CHARS
 * with a note saying how much was cut. The grant stays bound to the exact body (bodySha256).
 */
export interface RequestRendering {
  text: string;
  truncated: boolean;
}

export interface ApprovalRequest {
  /** the workflow id; derived from the fingerprint so a repeated start finds the same approval */
  approvalId: string;
  requester: Person;
  connection: string;
  collections: string[];
  operation: string;
  bulk: boolean;
  method: string;
  path: string;
  /** sha256 (hex) over connection, method, path, body digest and principal: the grant is bound to it */
  fingerprint: string;
  bodySha256: string;
  bodyBytes: number;
  /** the caller's reason (X-Vecgate-Reason) */
  reason?: string;
  ruleId: string;
  ruleExplanation: string;
  /** one line that tells an approver what the request does */
  summary: string;
  /** absent in approvals asked by gateways from before it existed */
  rendering?: RequestRendering;
  policy: ApprovalPolicy;
  /** ms since the epoch, from the gateway's clock */
  requestedAt: number;
  gatewayInstance: string;
  /**
   * The decider public keys (raw Ed25519, hex) whose signatures count for this approval, from the
   * starting gateway's configuration (approvals.deciderPublicKeys). A workflow started by anyone
   * else may name other keys; the gateway therefore checks, when it claims a grant, that every
   * counted approval was signed by a key it trusts itself (see src/approval/gate.ts).
   */
  deciderKeys?: string[];
}

export interface ApproverIdentity extends Person {
  via: 'slack' | 'api';
  slackTeamId?: string;
  slackUserId?: string;
  /** when the approver's groups were last confirmed by the identity provider (ms) */
  groupsVerifiedAt?: number;
  /**
   * Other identities bound to the same Slack user (a static binding beside a linked one, the Slack
   * profile's e-mail): if the requester is among them, the decision is self-approval.
   */
  otherBindings?: Array<{ subject?: string; email?: string }>;
  /** when the approver last signed in at the identity provider (the ID token's auth_time, ms) */
  authTime?: number;
}

/** The Slack app's Ed25519 signature over the decision (workflows/decision-signature.ts). */
export interface DecisionSignature {
  /** the signing key's raw public key, hex: must be one of the request's deciderKeys */
  publicKey: string;
  /** ms since the epoch, by the signer's clock */
  signedAt: number;
  /** 64-byte Ed25519 signature, hex */
  value: string;
}

export interface DecisionInput {
  /** unique per click (e.g. Slack action_ts + user): a replayed payload carries the same id */
  decisionId: string;
  approver: ApproverIdentity;
  decision: 'approve' | 'deny';
  reason?: string;
  /** required since the signed-decisions patch: an unsigned decision is refused UNSIGNED */
  signature?: DecisionSignature;
}

/** Why a decision's signature does not count: none (or no trusted key), not by a trusted key or not over this decision, too old. */
export type SignatureRefusal = 'UNSIGNED' | 'BAD_SIGNATURE' | 'STALE_SIGNATURE';

export type DecisionRefusal =
  | 'SELF_APPROVAL'
  | 'NOT_AN_APPROVER'
  | 'ALREADY_DECIDED'
  | 'CLOSED'
  | 'REASON_REQUIRED'
  | 'DUPLICATE'
  | 'STALE_GROUPS'
  | 'STEP_UP_REQUIRED'
  | SignatureRefusal;

export interface DecisionResult {
  counted: boolean;
  refusal?: DecisionRefusal;
  /** a sentence for the approver */
  message: string;
  state: ApprovalState;
}

export interface ClaimInput {
  claimId: string;
  fingerprint: string;
  subject: string;
  gatewayInstance: string;
  /** how long the claim may wait for a pending approval to be decided (0: answer at once) */
  waitMs: number;
}

export type ClaimRefusal = 'PENDING' | 'DENIED' | 'EXPIRED' | 'ALREADY_USED' | 'GRANT_EXPIRED' | 'FINGERPRINT_MISMATCH' | 'WRONG_PRINCIPAL';

export type ClaimResult =
  | { granted: true; grantId: string; state: ApprovalState }
  | { granted: false; refusal: ClaimRefusal; message: string; state: ApprovalState };

export interface ExecutionReport {
  grantId: string;
  status: number;
  bytes: number;
  durationMs: number;
  responseSha256: string;
  error?: string;
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'executed' | 'grant_expired';

export interface RecordedDecision {
  decisionId: string;
  approver: ApproverIdentity;
  decision: 'approve' | 'deny';
  reason?: string;
  at: number;
  /** the signature the workflow verified (the gateway verifies it again); absent for decisions taken before signing */
  signature?: DecisionSignature;
}

export interface RecordedRefusal {
  decisionId: string;
  approver: ApproverIdentity;
  decision: 'approve' | 'deny';
  refusal: DecisionRefusal;
  at: number;
}

/** Where the approval message sits, so every state change edits the same message. */
export interface MessageRef {
  channel: string;
  ts: string;
}

export interface ApprovalState {
  approvalId: string;
  status: ApprovalStatus;
  request: ApprovalRequest;
  /** ms: decisions after this are refused */
  deadline: number;
  decisions: RecordedDecision[];
  refusals: RecordedRefusal[];
  grant?: { grantId: string; issuedAt: number; expiresAt: number; claimedAt?: number; claimId?: string; gatewayInstance?: string };
  execution?: ExecutionReport & { at: number };
  message?: MessageRef;
  closedAt?: number;
}

export const decideUpdate = defineUpdate<DecisionResult, [DecisionInput]>('decide');
export const claimGrantUpdate = defineUpdate<ClaimResult, [ClaimInput]>('claimGrant');
export const reportExecutionUpdate = defineUpdate<ApprovalState, [ExecutionReport]>('reportExecution');
export const approvalStateQuery = defineQuery<ApprovalState>('approvalState');

/** Custom search attributes (Keyword) that let compliance list approvals. */
export const SEARCH_ATTRIBUTES = {
  requester: 'VecgateRequester',
  connection: 'VecgateConnection',
  collection: 'VecgateCollection',
  operation: 'VecgateOperation',
  outcome: 'VecgateOutcome',
} as const;

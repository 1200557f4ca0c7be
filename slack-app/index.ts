export { createSlackApp, type SlackApp, type SlackAppOptions } from './app';
export { createTemporalDecider, type ApprovalDecider, type DecisionReply } from './decider';
export { createSlackNotifier, type SlackNotifierOptions } from './notifier';
export { type RefusalRecorder, type SlackDecisionAnswer, type SlackRefusal } from './refusals';
export {
  createApproverDirectory,
  type ApproverDirectory,
  type ApproverDirectoryOptions,
  type ApproverLookup,
  type ApproverRefusal,
  type IdentityByEmail,
  type SlackUserRef,
  type StaticBinding,
} from './approvers/approver-directory';
export { createMemoryBindingStore, type BindingStore, type SlackBinding } from './approvers/bindings';
export { openMongoBindingStore, SLACK_BINDINGS_COLLECTION } from './approvers/mongo-bindings';
export { createMemoryLinkStateStore, openMongoLinkStateStore, SLACK_LINK_STATES_COLLECTION, type LinkStateStore, type PendingLink } from './link/link-states';
export { createLinkService, DEFAULT_LINK_COMMAND, LINK_STATE_TTL_MS, type LinkOptions, type LinkService } from './link/link-service';
export { createLinkCallbackHandler, LINK_CALLBACK_PATH, type RequestHandler } from './link/callback-route';
export { EVENTS_PATH } from './http-receiver';
export { checkSlackSignature, SIGNATURE_MAX_AGE_MS, type SignatureProblem } from './signature';
export { SlackAppError, isSlackAppError, type SlackAppErrorCode } from './errors';
export * from './render';

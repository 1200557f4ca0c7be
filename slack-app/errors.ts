/**
 * Errors of the Slack app, each with a stable code: callers switch on `code`, never on the text.
 * `message` says what happened and what to do next; internal causes stay in `cause` (logs only).
 */
export type SlackAppErrorCode =
  /** an option is missing or malformed; the message names it and the fix */
  | 'SLACK_CONFIG_INVALID'
  /** the bot token belongs to another workspace than the one configured */
  | 'SLACK_WORKSPACE_MISMATCH'
  /** the link's state is unknown, already used or expired */
  | 'LINK_STATE_INVALID'
  /** the OpenID provider answered the sign-in with an error (e.g. the user cancelled) */
  | 'LINK_SIGN_IN_FAILED'
  /** the OpenID provider could not be reached or answered something unusable */
  | 'LINK_IDP_UNAVAILABLE'
  /** the ID token failed verification (signature, issuer, audience, expiry, nonce) */
  | 'LINK_TOKEN_INVALID'
  /** the ID token lacks the subject claim, or a claim has the wrong type */
  | 'LINK_CLAIMS_INVALID'
  /** the e-mail of the identity differs from the Slack account's confirmed e-mail */
  | 'LINK_EMAIL_MISMATCH';

export class SlackAppError extends Error {
  readonly code: SlackAppErrorCode;

  constructor(code: SlackAppErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SlackAppError';
    this.code = code;
  }
}

export function isSlackAppError(err: unknown): err is SlackAppError {
  return err instanceof SlackAppError;
}

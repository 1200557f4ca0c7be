/**
 * Every error vecgate answers with has a stable code. This table is the one place that maps a code
 * to its HTTP status; callers switch on codes, never on message text.
 */
export const ERROR_STATUS = {
  // identity
  TOKEN_MISSING: 401,
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  /** identity.requireTokenType: an ID token or other JWT that is not an access token */
  TOKEN_WRONG_TYPE: 401,
  /** identity.allowedAzp: a token obtained by a client application the gateway does not accept */
  TOKEN_CLIENT_NOT_ALLOWED: 401,
  IDP_UNAVAILABLE: 503,
  // request shape
  BAD_REQUEST: 400,
  BAD_PATH: 400,
  BAD_FRAMING: 400,
  BODY_TOO_LARGE: 413,
  BODY_TOO_DEEP: 413,
  BODY_TIMEOUT: 408,
  UNKNOWN_CONNECTION: 404,
  // decision
  UNKNOWN_ENDPOINT: 403,
  POLICY_DENIED: 403,
  APPROVAL_REQUIRED: 403,
  APPROVAL_PENDING: 403,
  APPROVAL_DENIED: 403,
  APPROVAL_EXPIRED: 403,
  APPROVAL_NOT_USABLE: 403,
  /** a grant whose approvals were not signed by a decider key this gateway trusts (THREATS 35) */
  APPROVAL_UNTRUSTED: 403,
  /** the rule wants a reason: 400 so every client shows the message */
  APPROVAL_REASON_REQUIRED: 400,
  APPROVAL_NOT_FOUND: 404,
  /** the requester opened too many new approvals in the window (approvals.maxNewPerRequester) */
  APPROVAL_RATE_LIMITED: 429,
  APPROVALS_UNAVAILABLE: 503,
  COLLECTION_UNRESOLVED: 404,
  /** a filter that tests data masked for the caller (it would answer guesses about the values) */
  FILTER_ON_MASKED: 403,
  // upstream and storage
  UPSTREAM_UNREACHABLE: 502,
  UPSTREAM_RESET: 502,
  UPSTREAM_TIMEOUT: 504,
  AUDIT_UNAVAILABLE: 503,
  /** a response that should be masked but cannot be: never passed on unmasked */
  MASKING_FAILED: 502,
  /** too many look-ups of unknown collection ids by one caller (each lists the database's collections) */
  COLLECTION_LOOKUP_LIMITED: 429,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export function statusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

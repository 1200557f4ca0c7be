import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack refuses to sign for longer than this; requests outside the window are replays. */
export const SIGNATURE_MAX_AGE_MS = 5 * 60 * 1000;

/** BAD_FORMAT: not `v0=` followed by 64 lowercase hex digits */
export type SignatureProblem = 'MISSING_HEADERS' | 'BAD_TIMESTAMP' | 'STALE_TIMESTAMP' | 'BAD_FORMAT' | 'MISMATCH';

export interface SignedRequest {
  /** the body exactly as received, before any parsing */
  rawBody: Buffer;
  /** x-slack-request-timestamp (seconds since the epoch) */
  timestamp: string | undefined;
  /** x-slack-signature: `v0=` + hex HMAC-SHA256 */
  signature: string | undefined;
}

/**
 * Checks a request the way Slack documents it: HMAC-SHA256 with the signing secret over
 * `v0:` + timestamp + `:` + raw body, and a timestamp within five minutes of now in either
 * direction (Bolt's own check only refuses old timestamps, and reads the system clock).
 * Returns undefined when the request is authentic.
 */
export function checkSlackSignature(request: SignedRequest, signingSecret: string, nowMs: number): SignatureProblem | undefined {
  const { timestamp, signature } = request;
  if (!timestamp || !signature) return 'MISSING_HEADERS';
  if (!/^\d{1,12}$/.test(timestamp)) return 'BAD_TIMESTAMP';
  if (Math.abs(nowMs - Number(timestamp) * 1000) > SIGNATURE_MAX_AGE_MS) return 'STALE_TIMESTAMP';
  if (!/^v0=[0-9a-f]{64}$/.test(signature)) return 'BAD_FORMAT';
  const expected = createHmac('sha256', signingSecret)
    .update(Buffer.concat([Buffer.from(`v0:${timestamp}:`), request.rawBody]))
    .digest();
  const given = Buffer.from(signature.slice(3), 'hex');
  if (!timingSafeEqual(given, expected)) return 'MISMATCH';
  return undefined;
}

import { createHmac } from 'node:crypto';

/**
 * Requests signed exactly as Slack signs them: `x-slack-request-timestamp` (seconds) and
 * `x-slack-signature: v0=` + hex HMAC-SHA256(signing secret, `v0:` + timestamp + `:` + raw body).
 */

export function slackSignature(signingSecret: string, timestamp: number, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/** An interactive payload's body: `payload=` + the URL-encoded JSON, form-encoded. */
export function interactiveBody(payload: unknown): string {
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** A slash command's body: its fields, form-encoded. */
export function commandBody(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

export interface SignedPost {
  /** the body to sign */
  body: string;
  signingSecret: string;
  /** seconds since the epoch; default now */
  timestamp?: number;
  /** sent instead of `body` after signing it (a re-serialised or tampered body) */
  sendBody?: string;
  /** replaces the computed signature */
  signature?: string;
}

export interface PostResult {
  status: number;
  text: string;
  elapsedMs: number;
}

/** Posts a signed form body to the app, as Slack would. */
export async function postSigned(url: string, post: SignedPost): Promise<PostResult> {
  const timestamp = post.timestamp ?? Math.floor(Date.now() / 1000);
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': post.signature ?? slackSignature(post.signingSecret, timestamp, post.body),
    },
    body: post.sendBody ?? post.body,
  });
  const text = await res.text();
  return { status: res.status, text, elapsedMs: performance.now() - started };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isSlackAppError, type SlackAppErrorCode } from '../errors';
import type { SlackBinding } from '../approvers/bindings';
import type { LinkService } from './link-service';
import type { PendingDecision } from './link-states';

/** Sends the decision that waited for a step-up sign-in; answers what came of it, for the page. */
export type ResumeDecision = (binding: SlackBinding, decision: PendingDecision) => Promise<string>;

/** The default path of the link callback (the path of oidc.redirectUri is what counts). */
export const LINK_CALLBACK_PATH = '/slack/link/callback';

const STATUS: Partial<Record<SlackAppErrorCode, number>> = {
  LINK_STATE_INVALID: 400,
  LINK_SIGN_IN_FAILED: 400,
  LINK_TOKEN_INVALID: 400,
  LINK_CLAIMS_INVALID: 400,
  LINK_EMAIL_MISMATCH: 403,
  LINK_IDP_UNAVAILABLE: 502,
};

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The OpenID provider's redirect back after the sign-in: GET {callbackPath}?code&state. The Slack
 * app's HTTP server serves it; the gateway can mount this handler on its own server instead.
 * Answers a small HTML page; the details of a failure stay in the logs.
 */
export function createLinkCallbackHandler(service: LinkService, logger: Logger, resume?: ResumeDecision): RequestHandler {
  const log = logger.child({ component: 'slack-link' });
  return (req, res) => {
    if (req.method !== 'GET') {
      page(res, 405, 'Method not allowed', 'Open the link from Slack in your browser.', { allow: 'GET' });
      return;
    }
    const query = new URL(req.url ?? '/', 'http://callback.invalid').searchParams;
    const input = {
      ...(query.get('state') ? { state: query.get('state') as string } : {}),
      ...(query.get('code') ? { code: query.get('code') as string } : {}),
      ...(query.get('error') ? { error: query.get('error') as string } : {}),
    };
    service
      .complete(input)
      .then(async ({ binding, decision }) => {
        const groups = binding.groups.length > 0 ? binding.groups.join(', ') : 'none';
        const linked = `Your Slack account is now linked to ${binding.email ?? binding.subject} (groups: ${groups}).`;
        if (!decision || !resume) return { title: 'Slack account linked', message: `${linked} You can close this window and go back to Slack.` };
        const outcome = await resume(binding, decision).catch((err: unknown) => {
          log.error({ event: 'slack.step_up_resume_failed', err }, 'the decision after a step-up sign-in could not be sent');
          return 'Your decision could not be sent: click the button in Slack again.';
        });
        return { title: 'Signed in', message: `${linked} ${outcome}` };
      })
      .then(
        ({ title, message }) => page(res, 200, title, message),
        (err: unknown) => {
          if (isSlackAppError(err) && STATUS[err.code]) {
            log.warn({ event: 'slack.link_failed', code: err.code, detail: err.message, cause: (err.cause as Error | undefined)?.message }, 'link sign-in failed');
            const message = err.code === 'LINK_IDP_UNAVAILABLE' || err.code === 'LINK_TOKEN_INVALID' ? `The sign-in could not be verified. Run ${service.command} in Slack again; if it keeps failing, tell the vecgate operators.` : err.message;
            page(res, STATUS[err.code] as number, 'Linking failed', message);
            return;
          }
          log.error({ event: 'slack.link_failed', err }, 'link callback failed');
          page(res, 500, 'Linking failed', 'vecgate hit an internal error. Try again later or tell the vecgate operators.');
        },
      );
  };
}

function page(res: ServerResponse, status: number, title: string, message: string, headers: Record<string, string> = {}): void {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${html(title)}</title></head><body><h1>${html(title)}</h1><p>${html(message)}</p></body></html>`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // the page must not leak the code in a Referer, run scripts or be framed
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(body);
}

function html(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

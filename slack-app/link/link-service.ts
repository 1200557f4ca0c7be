import { createHash, randomBytes } from 'node:crypto';
import type { webApi } from '@slack/bolt';
import type { JWTPayload } from 'jose';
import type { Logger } from 'pino';
import type { Clock } from '../../src/clock';
import type { SlackUserRef } from '../approvers/approver-directory';
import type { BindingStore, SlackBinding } from '../approvers/bindings';
import { SlackAppError } from '../errors';
import type { LinkStateStore, PendingDecision } from './link-states';
import { createOidcRelyingParty, type OidcClientConfig, type OidcRelyingParty } from './oidc';

export const DEFAULT_LINK_COMMAND = '/vecgate-link';
export const LINK_STATE_TTL_MS = 10 * 60 * 1000;

export interface LinkOptions {
  oidc: OidcClientConfig;
  /** claim names (a dotted path reaches into objects); default sub, email, groups */
  claims?: { subject?: string; email?: string; groups?: string };
  states: LinkStateStore;
  /** where bindings are written; the ApproverDirectory reads the same store */
  bindings: BindingStore;
  /**
   * Default true: the identity's e-mail must equal the Slack account's confirmed e-mail
   * (users.info, scope users:read.email). Without it, whoever opens a link someone else started
   * binds that someone's Slack account to their own identity.
   */
  requireSameEmail?: boolean;
  /** the slash command; default /vecgate-link */
  command?: string;
}

export interface LinkService {
  readonly command: string;
  /** the callback's path, from oidc.redirectUri */
  readonly callbackPath: string;
  /**
   * a single-use sign-in URL for this Slack user, valid for ten minutes; with stepUp, the provider
   * is asked for a sign-in within maxAgeSeconds (max_age) and the waiting decision is kept with it
   */
  start(user: SlackUserRef, stepUp?: { maxAgeSeconds: number; decision: PendingDecision }): Promise<{ url: string; expiresAt: number }>;
  /** finishes a sign-in from the callback's query; throws SlackAppError (LINK_*) */
  complete(query: { state?: string; code?: string; error?: string }): Promise<LinkOutcome>;
}

/** A completed sign-in: the binding written, and the decision that waited for it (step-up). */
export interface LinkOutcome {
  binding: SlackBinding;
  decision?: PendingDecision;
}

/** How much later than max_age allows an auth_time may be, for the clocks of provider and app. */
const AUTH_TIME_SKEW_MS = 60_000;

export interface LinkServiceDeps {
  clock: Clock;
  logger: Logger;
  /** the bot's client, for users.info */
  client: webApi.WebClient;
  /** the workspace whose users may link */
  workspace: string;
  fetch?: typeof fetch;
}

export function createLinkService(options: LinkOptions, deps: LinkServiceDeps): LinkService {
  if (!URL.canParse(options.oidc.redirectUri)) {
    throw new SlackAppError('SLACK_CONFIG_INVALID', `slack link: oidc.redirectUri "${options.oidc.redirectUri}" is not a URL; give the public URL of the link callback, e.g. https://vecgate.example.com/slack/link/callback`);
  }
  const rp: OidcRelyingParty = createOidcRelyingParty(options.oidc, { clock: deps.clock, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
  const claims = { subject: options.claims?.subject ?? 'sub', email: options.claims?.email ?? 'email', groups: options.claims?.groups ?? 'groups' };
  const requireSameEmail = options.requireSameEmail ?? true;
  const command = options.command ?? DEFAULT_LINK_COMMAND;
  const log = deps.logger.child({ component: 'slack-link' });

  async function slackEmail(userId: string): Promise<string | undefined> {
    const res = await deps.client.users.info({ user: userId });
    const u = res.user;
    if (!u || u.deleted || u.is_bot || u.is_email_confirmed !== true) return undefined;
    return u.profile?.email?.toLowerCase();
  }

  return {
    command,
    callbackPath: new URL(options.oidc.redirectUri).pathname,

    async start(user, stepUp) {
      if (user.teamId !== deps.workspace) {
        throw new SlackAppError('LINK_STATE_INVALID', 'accounts of this Slack workspace cannot be linked');
      }
      const state = randomBytes(32).toString('base64url');
      const nonce = randomBytes(16).toString('base64url');
      const codeVerifier = randomBytes(32).toString('base64url');
      const codeChallenge = createHash('sha256').update(codeVerifier).digest('base64url');
      const now = deps.clock.now();
      const expiresAt = now + LINK_STATE_TTL_MS;
      const url = await rp.authorizationUrl({ state, nonce, codeChallenge, ...(stepUp ? { maxAge: stepUp.maxAgeSeconds } : {}) });
      await options.states.save(state, {
        teamId: user.teamId,
        userId: user.userId,
        codeVerifier,
        nonce,
        createdAt: now,
        expiresAt,
        ...(stepUp ? { maxAgeSeconds: stepUp.maxAgeSeconds, decision: stepUp.decision } : {}),
      });
      log.info({ event: 'slack.link_started', teamId: user.teamId, userId: user.userId, expiresAt }, 'link sign-in started');
      return { url, expiresAt };
    },

    async complete(query) {
      // the state is taken first, so even a failed or cancelled sign-in uses it up
      const pending = query.state ? await options.states.take(query.state, deps.clock.now()) : undefined;
      if (!pending) {
        throw new SlackAppError('LINK_STATE_INVALID', `This sign-in link is unknown, already used or older than ten minutes. Run ${command} in Slack again.`);
      }
      if (query.error || !query.code) {
        throw new SlackAppError('LINK_SIGN_IN_FAILED', `The sign-in was not completed (${query.error ?? 'no code'}). Run ${command} in Slack again.`);
      }
      const payload = await rp.redeem({ code: query.code, codeVerifier: pending.codeVerifier, nonce: pending.nonce });

      const subject = readClaim(payload, claims.subject);
      if (typeof subject !== 'string' || subject === '') throw new SlackAppError('LINK_CLAIMS_INVALID', `The ID token has no ${claims.subject} claim to identify you by.`);
      const email = readClaim(payload, claims.email);
      if (email !== undefined && typeof email !== 'string') throw new SlackAppError('LINK_CLAIMS_INVALID', `The ID token's ${claims.email} claim is not a string.`);
      const groups = readClaim(payload, claims.groups) ?? [];
      if (!Array.isArray(groups) || !groups.every((g): g is string => typeof g === 'string')) {
        throw new SlackAppError('LINK_CLAIMS_INVALID', `The ID token's ${claims.groups} claim is not a list of group names.`);
      }

      if (requireSameEmail) {
        const expected = await slackEmail(pending.userId);
        if (!email || payload.email_verified === false || !expected || expected !== email.toLowerCase()) {
          log.warn({ event: 'slack.link_email_mismatch', teamId: pending.teamId, userId: pending.userId, subject }, 'link refused: e-mails differ');
          throw new SlackAppError(
            'LINK_EMAIL_MISMATCH',
            `You signed in as ${email ?? subject}, which is not the confirmed e-mail of the Slack account that asked for this link. Sign in with your own account, from a link you asked for with ${command}.`,
          );
        }
      }

      // auth_time (seconds) says when the person really signed in; with max_age asked it must be recent
      const authTime = typeof payload.auth_time === 'number' && Number.isFinite(payload.auth_time) ? payload.auth_time * 1000 : undefined;
      if (pending.maxAgeSeconds !== undefined && (authTime === undefined || deps.clock.now() - authTime > pending.maxAgeSeconds * 1000 + AUTH_TIME_SKEW_MS)) {
        log.warn({ event: 'slack.step_up_refused', teamId: pending.teamId, userId: pending.userId, subject, authTime }, 'step-up sign-in not recent');
        throw new SlackAppError('LINK_SIGN_IN_FAILED', 'The identity provider did not confirm a recent sign-in (auth_time), so your decision was not sent. Click the button in Slack again.');
      }

      const binding: SlackBinding = {
        teamId: pending.teamId,
        userId: pending.userId,
        subject,
        ...(email !== undefined ? { email } : {}),
        groups: [...groups],
        groupsVerifiedAt: deps.clock.now(),
        source: 'link',
        ...(authTime !== undefined ? { authTime } : {}),
      };
      await options.bindings.put(binding);
      log.info({ event: 'slack.linked', teamId: binding.teamId, userId: binding.userId, subject, groups: binding.groups }, 'Slack account linked');
      return { binding, ...(pending.decision ? { decision: pending.decision } : {}) };
    },
  };
}

/** A claim by name, or by dotted path when no claim has that exact name (realm_access.roles). */
function readClaim(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name];
  let value: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof value !== 'object' || value === null || !(part in value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

import type { webApi } from '@slack/bolt';
import type { Clock } from '../../src/clock';
import type { ApproverIdentity } from '../../workflows/approval-contract';
import { SlackAppError } from '../errors';
import type { BindingStore, SlackBinding } from './bindings';

export interface SlackUserRef {
  teamId: string;
  userId: string;
}

export type ApproverRefusal = 'FOREIGN_WORKSPACE' | 'UNMAPPED_USER' | 'STALE_GROUPS';

export type ApproverLookup =
  | { ok: true; approver: ApproverIdentity; binding: SlackBinding }
  | { ok: false; reason: ApproverRefusal; message: string };

/** Who a Slack user is, for deciding approvals. */
export interface ApproverDirectory {
  resolve(user: SlackUserRef): Promise<ApproverLookup>;
}

/** A binding written in the configuration. */
export interface StaticBinding {
  teamId: string;
  userId: string;
  subject: string;
  email?: string;
  groups: string[];
  /**
   * when someone confirmed these groups at the identity provider (ms); the binding ages from then
   * like a linked one. Absent: stale, it decides nothing until dated.
   */
  verifiedAt?: number;
}

/** The organisation's directory, asked by e-mail when e-mail matching is enabled. */
export interface IdentityByEmail {
  find(email: string): Promise<{ subject: string; email: string; groups: string[]; groupsVerifiedAt: number } | undefined>;
}

export interface ApproverDirectoryOptions {
  /** the one workspace (team id) whose users may decide */
  workspace: string;
  staticBindings?: StaticBinding[];
  /** bindings made by the link command */
  store?: BindingStore;
  /** groups confirmed longer ago than this are not used for a decision */
  maxGroupAgeMs: number;
  clock: Clock;
  /**
   * Off unless given: a Slack user without a binding is looked up by the confirmed e-mail of
   * their Slack profile (users.info, scope users:read.email).
   */
  emailMatching?: { client: webApi.WebClient; identities: IdentityByEmail };
  /** the slash command that (re)links an account, named in refusals; absent: no link command */
  linkCommand?: string;
}

/**
 * Resolves a Slack user to an approver identity from explicit bindings only: static ones from the
 * configuration, ones made by the link command, and (when enabled) e-mail matches. When both a
 * static and a linked binding exist, the one whose groups were confirmed last wins. Groups older
 * than maxGroupAgeMs are refused with a hint to link again.
 */
export function createApproverDirectory(options: ApproverDirectoryOptions): ApproverDirectory {
  const { workspace, clock, maxGroupAgeMs } = options;
  if (!Number.isFinite(maxGroupAgeMs) || maxGroupAgeMs <= 0) {
    throw new SlackAppError('SLACK_CONFIG_INVALID', 'slack approvers: maxGroupAgeMs must be a positive number of milliseconds, e.g. 86400000 for one day');
  }
  const staticBindings = new Map<string, SlackBinding>();
  // A restart is no confirmation: a static binding is as fresh as the date written beside it (THREATS 36).
  for (const { verifiedAt, ...b } of options.staticBindings ?? []) {
    staticBindings.set(keyOf(b.teamId, b.userId), { ...b, groups: [...b.groups], groupsVerifiedAt: verifiedAt ?? STALE, source: 'config' });
  }
  const relink = options.linkCommand
    ? `Run ${options.linkCommand} to sign in again, then try once more.`
    : 'Ask the vecgate operators to refresh your binding.';

  async function byEmail(user: SlackUserRef): Promise<SlackBinding | undefined> {
    if (!options.emailMatching) return undefined;
    const { client, identities } = options.emailMatching;
    const res = await client.users.info({ user: user.userId }).catch((err: unknown) => {
      if ((err as { data?: { error?: unknown } }).data?.error === 'user_not_found') return undefined;
      throw err;
    });
    const u = res?.user;
    // only a confirmed address of a full member of our workspace says who someone is
    if (!u || u.deleted || u.is_bot || u.is_restricted || u.is_ultra_restricted || u.is_email_confirmed !== true) return undefined;
    if (u.team_id !== undefined && u.team_id !== workspace) return undefined;
    const email = u.profile?.email;
    if (!email) return undefined;
    const identity = await identities.find(email.toLowerCase());
    if (!identity) return undefined;
    return { teamId: user.teamId, userId: user.userId, subject: identity.subject, email: identity.email, groups: [...identity.groups], groupsVerifiedAt: identity.groupsVerifiedAt, source: 'email' };
  }

  return {
    async resolve(user) {
      if (user.teamId !== workspace) {
        return { ok: false, reason: 'FOREIGN_WORKSPACE', message: 'This Slack workspace is not the one vecgate approvals belong to; nobody here can decide them.' };
      }
      const candidates = [staticBindings.get(keyOf(user.teamId, user.userId)), await options.store?.get(user.teamId, user.userId)].filter(
        (b): b is SlackBinding => b !== undefined,
      );
      const binding = candidates.sort((a, b) => b.groupsVerifiedAt - a.groupsVerifiedAt)[0] ?? (await byEmail(user));
      if (!binding) {
        const hint = options.linkCommand ? `Run ${options.linkCommand} to link it, then try once more.` : 'Ask the vecgate operators to bind it.';
        return { ok: false, reason: 'UNMAPPED_USER', message: `Your Slack account is not linked to an identity vecgate knows, so it cannot decide approvals. ${hint}` };
      }
      const age = clock.now() - binding.groupsVerifiedAt;
      if (age > maxGroupAgeMs) {
        const when = binding.groupsVerifiedAt === STALE ? 'were never confirmed (a configured binding without verifiedAt)' : `were last confirmed ${duration(age)} ago`;
        return {
          ok: false,
          reason: 'STALE_GROUPS',
          message: `Your group memberships ${when}; deciding needs them confirmed within ${duration(maxGroupAgeMs)}. ${relink}`,
        };
      }
      // every other identity this Slack user is bound to: the workflow refuses the requester under any of them
      const otherBindings = candidates.filter((b) => b !== binding).map((b) => ({ subject: b.subject, ...(b.email !== undefined ? { email: b.email } : {}) }));
      return {
        ok: true,
        binding,
        approver: {
          subject: binding.subject,
          ...(binding.email !== undefined ? { email: binding.email } : {}),
          groups: [...binding.groups],
          via: 'slack',
          slackTeamId: binding.teamId,
          slackUserId: binding.userId,
          groupsVerifiedAt: binding.groupsVerifiedAt,
          ...(otherBindings.length ? { otherBindings } : {}),
          ...(binding.authTime !== undefined ? { authTime: binding.authTime } : {}),
        },
      };
    },
  };
}

/** groupsVerifiedAt of a binding nobody dated: older than any maxGroupAgeMs. */
const STALE = 0;

function keyOf(teamId: string, userId: string): string {
  return `${teamId}\u0000${userId}`;
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} hours`;
  return `${Math.round(hours / 24)} days`;
}

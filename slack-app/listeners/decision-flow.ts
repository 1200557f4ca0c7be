import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { ApproverIdentity, MessageRef } from '../../workflows/approval-contract';
import type { ApproverLookup } from '../approvers/approver-directory';
import type { DecisionReply } from '../decider';
import type { SlackAppOptions } from '../options';
import type { SlackBinding } from '../approvers/bindings';
import type { SlackUserRef } from '../approvers/approver-directory';
import type { PendingDecision } from '../link/link-states';
import { approvalMetadata, escapeMrkdwn, renderApproval } from '../render';

/** What the decision listeners share; app.ts builds it once. */
export interface DecisionDeps extends Pick<SlackAppOptions, 'workspace' | 'decider' | 'approvers' | 'refusals' | 'clock' | 'logger'> {
  /** the bot's client: edits the approval message */
  client: webApi.WebClient;
  /**
   * step-up: a sign-in URL (the link flow with max_age) that sends `decision` again once done;
   * absent without the link command, and then a STEP_UP_REQUIRED refusal is only explained
   */
  stepUp?: (user: SlackUserRef, maxAgeSeconds: number, decision: PendingDecision) => Promise<string>;
}

/** One approver's click, as the listeners read it from the payload. */
export interface Click {
  /** undefined when the payload names no workspace, which counts as a foreign one */
  teamId: string | undefined;
  userId: string;
  approvalId: string;
  decision: 'approve' | 'deny';
  /** the same for the same payload, so a replay is recognised as one decision */
  decisionId: string;
  reason?: string;
  /** the message clicked, when the payload carries it */
  message?: MessageRef;
  /** answers the clicking user only (ephemeral) */
  tell(text: string): Promise<void>;
  /** this click is the decision sent again after a step-up sign-in: no second sign-in is offered */
  afterSignIn?: boolean;
}

/** Longest approval id a button may carry; ours are hashes, far shorter. */
const MAX_APPROVAL_ID = 200;

export function isApprovalId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_APPROVAL_ID && /^[\w.:-]+$/.test(value);
}

/**
 * The clicking user's own workspace. In a channel shared with another organisation (Slack
 * Connect) `team` is where the app lives while `user.team_id` is the user's home: the latter
 * decides, so an outside user is a foreign one. Org-wide installs have no `team` at all.
 */
export function teamOf(body: { team?: { id: string } | null; user?: { team_id?: string } }): string | undefined {
  return body.user?.team_id ?? body.team?.id;
}

/**
 * Who is clicking, or undefined after telling them why they may not decide and recording the
 * refusal. Foreign workspaces and users without a usable binding never reach the decider.
 */
export async function approverFor(deps: DecisionDeps, click: Omit<Click, 'decisionId'>): Promise<ApproverIdentity | undefined> {
  const log = deps.logger.child({ component: 'slack-decision', approvalId: click.approvalId, teamId: click.teamId, userId: click.userId });
  let lookup: ApproverLookup;
  try {
    lookup =
      click.teamId === deps.workspace
        ? await deps.approvers.resolve({ teamId: click.teamId, userId: click.userId })
        : { ok: false, reason: 'FOREIGN_WORKSPACE', message: 'This Slack workspace is not the one vecgate approvals belong to; nobody here can decide them.' };
  } catch (err) {
    log.error({ event: 'slack.approver_lookup_failed', err }, 'could not look up the Slack user');
    await tellSafely(click, 'vecgate could not check who you are right now. Nothing was decided; try again in a minute.', log);
    return undefined;
  }
  if (lookup.ok) return lookup.approver;

  log.warn({ event: 'slack.decision_refused', reason: lookup.reason, decision: click.decision }, 'Slack decision refused before the workflow');
  await Promise.all([
    deps.refusals
      .record({ teamId: click.teamId ?? '', userId: click.userId, approvalId: click.approvalId, reason: lookup.reason, decision: click.decision, at: deps.clock.now() })
      .catch((err: unknown) => log.error({ event: 'slack.refusal_unrecorded', err }, 'could not record a Slack refusal')),
    tellSafely(click, lookup.message, log),
  ]);
  return undefined;
}

/** Sends a click to the decider and tells the approver what came of it. */
export async function submitDecision(deps: DecisionDeps, click: Click): Promise<void> {
  const log = deps.logger.child({ component: 'slack-decision', approvalId: click.approvalId, teamId: click.teamId, userId: click.userId, decisionId: click.decisionId });
  const approver = await approverFor(deps, click);
  if (!approver) return;

  let result: DecisionReply;
  try {
    result = await deps.decider.decide(click.approvalId, {
      decisionId: click.decisionId,
      approver,
      decision: click.decision,
      ...(click.reason !== undefined ? { reason: click.reason } : {}),
    });
  } catch (err) {
    log.error({ event: 'slack.decision_failed', err }, 'the decision could not be delivered to the approval workflow');
    await tellSafely(click, 'Your decision could not be recorded because the approval service did not answer. Nothing was decided; try again in a minute.', log);
    return;
  }

  log.info({ event: 'slack.decision', decision: click.decision, counted: result.counted, refusal: result.refusal, status: result.state?.status }, 'Slack decision answered');
  // a replayed payload: the first delivery already answered the approver
  if (result.refusal === 'DUPLICATE') return;
  await deps.refusals
    .answered?.({
      teamId: click.teamId ?? '',
      userId: click.userId,
      approvalId: click.approvalId,
      decisionId: click.decisionId,
      decision: click.decision,
      approver,
      counted: result.counted,
      ...(result.refusal ? { refusal: result.refusal } : {}),
      message: result.message,
      at: deps.clock.now(),
    })
    .catch((err: unknown) => log.error({ event: 'slack.decision_unrecorded', err }, 'could not record a Slack decision in the audit trail'));

  const maxAuthAgeMs = result.state?.request.policy.maxAuthAgeMs;
  if (result.refusal === 'STEP_UP_REQUIRED' && deps.stepUp && !click.afterSignIn && click.teamId !== undefined && maxAuthAgeMs !== undefined) {
    await offerSignIn(deps, { ...click, teamId: click.teamId }, Math.max(1, Math.floor(maxAuthAgeMs / 1000)), log);
    return;
  }

  // the workflow's sentence says what came of it (counted, N of M, or why not)
  const work: Promise<unknown>[] = [tellSafely(click, result.message, log)];
  const message = result.state?.message ?? click.message;
  if (result.counted && result.state && message) {
    // the workflow edits the message too; editing it now shows the click at once
    const { text, blocks } = renderApproval(result.state);
    work.push(
      deps.client.chat
        .update({ channel: message.channel, ts: message.ts, text, blocks, metadata: approvalMetadata(result.state) })
        .catch((err: unknown) => log.warn({ event: 'slack.message_update_failed', err }, 'could not edit the approval message')),
    );
  }
  await Promise.all(work);
}

/** Step-up: the approver signs in again (max_age); the link callback then sends the same decision. */
async function offerSignIn(deps: DecisionDeps, click: Click & { teamId: string }, maxAgeSeconds: number, log: Logger): Promise<void> {
  let url: string;
  try {
    url = await (deps.stepUp as NonNullable<DecisionDeps['stepUp']>)({ teamId: click.teamId, userId: click.userId }, maxAgeSeconds, {
      approvalId: click.approvalId,
      decision: click.decision,
      decisionId: click.decisionId,
      ...(click.reason !== undefined ? { reason: click.reason } : {}),
    });
  } catch (err) {
    log.error({ event: 'slack.step_up_failed', err }, 'could not start a step-up sign-in');
    await tellSafely(click, 'This request needs a recent sign-in, and vecgate could not start one right now. Nothing was decided; try again in a minute.', log);
    return;
  }
  log.info({ event: 'slack.step_up_offered', decision: click.decision, maxAgeSeconds }, 'step-up sign-in offered');
  await tellSafely(
    click,
    `This request needs approvers who signed in within the last ${Math.round(maxAgeSeconds / 60)} minutes: <${escapeMrkdwn(url)}|sign in here> (for you only, within ten minutes). Your ${click.decision === 'approve' ? 'approval' : 'denial'} is sent once you have signed in.`,
    log,
  );
}

/**
 * The decision that waited for a step-up sign-in, sent again as a new click (a new decisionId: the
 * refused one stays refused in the history). Answers what came of it, for the callback page.
 */
export async function resumeDecision(deps: DecisionDeps, binding: SlackBinding, pending: PendingDecision): Promise<string> {
  const told: string[] = [];
  await submitDecision(deps, {
    teamId: binding.teamId,
    userId: binding.userId,
    approvalId: pending.approvalId,
    decision: pending.decision,
    decisionId: `${pending.decisionId}:after-sign-in`,
    ...(pending.reason !== undefined ? { reason: pending.reason } : {}),
    afterSignIn: true,
    tell: (text) => {
      told.push(text);
      return Promise.resolve();
    },
  });
  return told.join(' ') || 'Your decision was sent.';
}

async function tellSafely(click: Pick<Click, 'tell'>, text: string, log: Logger): Promise<void> {
  try {
    await click.tell(text);
  } catch (err) {
    log.warn({ event: 'slack.reply_failed', err }, 'could not answer the approver in Slack');
  }
}

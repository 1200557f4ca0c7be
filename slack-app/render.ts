import type { types } from '@slack/bolt';
import type { ApprovalState, ApprovalStatus, ApproverIdentity, Person, RecordedDecision } from '../workflows/approval-contract';

/**
 * What an approval looks like in Slack: a pure function of the workflow's state, so every edit of
 * the message (by the workflow's activity or by the Slack app after a click) shows the same thing
 * for the same state. No I/O, no clock: times are rendered with Slack's `<!date>` formatting.
 */

export type KnownBlock = types.KnownBlock;
export type ModalView = types.ModalView;

export const APPROVE_ACTION_ID = 'vecgate_approve';
export const DENY_ACTION_ID = 'vecgate_deny';
export const DENY_REASON_CALLBACK_ID = 'vecgate_deny_reason';
export const DENY_REASON_BLOCK_ID = 'deny_reason';
export const DENY_REASON_INPUT_ID = 'deny_reason_input';
/** message metadata event type; its payload carries `approval_id` */
export const APPROVAL_METADATA_EVENT = 'vecgate_approval';

export const DENY_REASON_MAX_LENGTH = 1000;

/** The metadata every approval message carries, so a retried post finds it in the history. */
/**
 * The message's metadata: the approval id names the workflow, and `requested_at` the ask, since the
 * same request asked again after its approval closed reuses the id and needs a message of its own.
 */
export function approvalMetadata(state: Pick<ApprovalState, 'approvalId' | 'request'>): { event_type: string; event_payload: { approval_id: string; requested_at: string } } {
  return { event_type: APPROVAL_METADATA_EVENT, event_payload: { approval_id: state.approvalId, requested_at: String(state.request.requestedAt) } };
}

export interface RenderedMessage {
  /** the notification and screen-reader text */
  text: string;
  blocks: KnownBlock[];
}

// Block Kit limits (characters)
const HEADER_MAX = 150;
const FIELD_MAX = 2000;
const SECTION_MAX = 3000;
const CONTEXT_MAX = 2000;
const FALLBACK_MAX = 3000;

const HEADLINE: Record<ApprovalStatus, string> = {
  pending: 'Approval requested',
  approved: 'Approved',
  denied: 'Denied',
  expired: 'Expired: nobody decided before the deadline',
  executed: 'Approved and executed',
  grant_expired: 'Approved, but the grant expired unused',
};

const STATUS_EMOJI: Record<ApprovalStatus, string> = {
  pending: ':hourglass_flowing_sand:',
  approved: ':white_check_mark:',
  denied: ':no_entry:',
  expired: ':alarm_clock:',
  executed: ':white_check_mark:',
  grant_expired: ':hourglass:',
};

/** The approval message for a state. Buttons only while the approval is pending. */
export function renderApproval(state: ApprovalState): RenderedMessage {
  const { request } = state;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`${HEADLINE[state.status]}: ${request.operation} on ${request.connection}`, HEADER_MAX), emoji: false } },
    {
      type: 'section',
      fields: [
        field('Requester', personLabel(request.requester)),
        field('Operation', `${escapeMrkdwn(request.operation)}${request.bulk ? ' (bulk)' : ''}`),
        field('Connection', escapeMrkdwn(request.connection)),
        field('Collections', request.collections.length > 0 ? request.collections.map(escapeMrkdwn).join(', ') : '_none resolved_'),
        // the requester's own words, unchecked: what the request does is in the rendering below
        field(REASON_LABEL, request.reason ? escapeMrkdwn(request.reason) : '_none given_'),
        field('Deadline', slackDate(state.deadline)),
      ],
    },
    { type: 'section', text: { type: 'mrkdwn', text: truncate(`*Request*\n${escapeMrkdwn(request.summary)}\n\`${escapeMrkdwn(request.method)} ${escapeMrkdwn(request.path)}\``, SECTION_MAX) } },
    { type: 'section', text: { type: 'mrkdwn', text: renderingText(state) } },
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: truncate(contextLine(state), CONTEXT_MAX) }],
    },
  ];

  if (state.decisions.length > 0) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(`*Decisions*\n${state.decisions.map(decisionLine).join('\n')}`, SECTION_MAX) } });
  }

  const outcome = outcomeLine(state);
  if (outcome) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(outcome, SECTION_MAX) } });

  if (state.status === 'pending') {
    blocks.push({
      type: 'actions',
      block_id: 'vecgate_decision',
      elements: [
        {
          type: 'button',
          action_id: APPROVE_ACTION_ID,
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
          value: state.approvalId,
          confirm: {
            title: { type: 'plain_text', text: 'Approve this request?' },
            text: { type: 'mrkdwn', text: truncate(`${personLabel(request.requester)} will be allowed to run *${escapeMrkdwn(request.operation)}* on *${escapeMrkdwn(request.connection)}* once.`, 300) },
            confirm: { type: 'plain_text', text: 'Approve' },
            deny: { type: 'plain_text', text: 'Cancel' },
          },
        },
        { type: 'button', action_id: DENY_ACTION_ID, style: 'danger', text: { type: 'plain_text', text: 'Deny' }, value: state.approvalId },
      ],
    });
  }

  return { text: fallbackText(state), blocks };
}

/** The modal that asks a denying approver for a reason. */
export function renderDenyModal(input: { approvalId: string; privateMetadata: string }): ModalView {
  return {
    type: 'modal',
    callback_id: DENY_REASON_CALLBACK_ID,
    private_metadata: input.privateMetadata,
    title: { type: 'plain_text', text: 'Deny request' },
    submit: { type: 'plain_text', text: 'Deny' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: truncate(`You are denying approval \`${escapeMrkdwn(input.approvalId)}\`. A deny is final.`, SECTION_MAX) } },
      {
        type: 'input',
        block_id: DENY_REASON_BLOCK_ID,
        label: { type: 'plain_text', text: 'Why are you denying it?' },
        hint: { type: 'plain_text', text: 'The requester and the audit trail see this reason.' },
        element: { type: 'plain_text_input', action_id: DENY_REASON_INPUT_ID, multiline: true, min_length: 1, max_length: DENY_REASON_MAX_LENGTH },
      },
    ],
  };
}

/** The requester's reason is their claim; the rendering shows what the request does. */
export const REASON_LABEL = "Requester's reason (their claim, unchecked)";
export const RENDERING_HEADING = '*What will run* (this exact request; personal data masked)';

/**
 * The request's rendering in a code block, within a section's limit. Approvers always see masked
 * values (the gateway masks the rendering for no group), whatever the requester may see.
 */
function renderingText(state: ApprovalState): string {
  const rendering = state.request.rendering;
  if (!rendering) {
    return `${RENDERING_HEADING}\n_Not recorded: this approval was asked by an older gateway. Judge it by the path and ask the requester for the body._`;
  }
  const head = `${RENDERING_HEADING}\n\`\`\`\n`;
  const tail = '\n```';
  const note = `\n… cut to fit Slack; GET /vecgate/approvals/${state.approvalId} shows all of it`;
  const whole = codeBlockText(rendering.text);
  if (head.length + whole.length + tail.length <= SECTION_MAX) return head + whole + tail;
  return head + codeBlockText(rendering.text, SECTION_MAX - head.length - tail.length - escapeMrkdwn(note).length) + codeBlockText(note) + tail;
}

/**
 * Text for inside a ``` block: mrkdwn's control characters escaped, and no run of backticks left
 * that could close the block (a zero-width space parts them). Cut whole characters to `max`.
 */
export function codeBlockText(text: string, max = Infinity): string {
  let out = '';
  let previous = '';
  for (const c of text) {
    let piece = escapeMrkdwn(c);
    if (c === '`' && previous === '`') piece = `\u200b${piece}`;
    if (out.length + piece.length > max) break;
    out += piece;
    previous = c;
  }
  // a backtick at the end would run into the closing fence
  return previous === '`' && out.length < max ? `${out}\u200b` : out;
}

/** Slack mrkdwn control characters; user-supplied text must not mention, link or format. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A time as Slack shows it in the reader's time zone, with an ISO fallback. */
export function slackDate(ms: number): string {
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${new Date(ms).toISOString()}>`;
}

function field(label: string, value: string): types.MrkdwnElement {
  return { type: 'mrkdwn', text: truncate(`*${label}*\n${value}`, FIELD_MAX) };
}

function personLabel(person: Person): string {
  return person.email ? `${escapeMrkdwn(person.email)} (${escapeMrkdwn(person.subject)})` : escapeMrkdwn(person.subject);
}

function approverLabel(approver: ApproverIdentity): string {
  // a Slack user id is ours to format; everything else comes from elsewhere and is escaped
  const slackUser = approver.slackUserId && /^[UW][A-Z0-9]+$/.test(approver.slackUserId) ? `<@${approver.slackUserId}> ` : '';
  return `${slackUser}${personLabel(approver)}`;
}

function decisionLine(decision: RecordedDecision): string {
  const verb = decision.decision === 'approve' ? ':white_check_mark: approved' : ':no_entry: denied';
  const reason = decision.reason ? `: “${escapeMrkdwn(decision.reason)}”` : '';
  return `${verb} by ${approverLabel(decision.approver)}, ${slackDate(decision.at)}${reason}`;
}

function contextLine(state: ApprovalState): string {
  const { policy } = state.request;
  const approvals = state.decisions.filter((d) => d.decision === 'approve').length;
  const groups = policy.approverGroups.map(escapeMrkdwn).join(', ');
  return `${STATUS_EMOJI[state.status]} ${approvals} of ${policy.required} approvals from ${groups || '_no approver group_'} · rule ${escapeMrkdwn(state.request.ruleId)} · approval ${escapeMrkdwn(state.approvalId)}`;
}

function outcomeLine(state: ApprovalState): string | undefined {
  switch (state.status) {
    case 'pending':
      return undefined;
    case 'approved':
      return state.grant
        ? `*Outcome:* approved; the requester may run it once until ${slackDate(state.grant.expiresAt)}.`
        : '*Outcome:* approved.';
    case 'denied':
      return '*Outcome:* denied; the request will not run.';
    case 'expired':
      return `*Outcome:* expired at ${slackDate(state.closedAt ?? state.deadline)}; the request will not run.`;
    case 'executed': {
      const run = state.execution;
      return run
        ? `*Outcome:* executed ${slackDate(run.at)}, upstream answered ${run.status}${run.error ? ` (${escapeMrkdwn(run.error)})` : ''}.`
        : '*Outcome:* executed.';
    }
    case 'grant_expired':
      return '*Outcome:* approved, but the requester did not use the grant in time; the request did not run.';
  }
}

function fallbackText(state: ApprovalState): string {
  const { request } = state;
  const who = request.requester.email ?? request.requester.subject;
  const what = `${who} wants to run ${request.operation} on ${request.connection}${request.collections.length > 0 ? `/${request.collections.join(',')}` : ''}`;
  const text =
    state.status === 'pending'
      ? `Approval requested: ${what}. Decide before ${new Date(state.deadline).toISOString()}.`
      : `${HEADLINE[state.status]}: ${what}.`;
  return truncate(escapeMrkdwn(text), FALLBACK_MAX);
}

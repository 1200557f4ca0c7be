import { APPROVE_ACTION_ID, DENY_ACTION_ID, DENY_REASON_BLOCK_ID, DENY_REASON_CALLBACK_ID, DENY_REASON_INPUT_ID } from '../../slack-app/render';

/** Interactive payloads shaped as Slack sends them (the fields Bolt and the app read, and more). */

export interface ClickInput {
  teamId: string;
  userId: string;
  approvalId: string;
  channel: string;
  messageTs: string;
  actionTs: string;
  responseUrl: string;
  triggerId: string;
  apiAppId?: string;
}

export function buttonClick(kind: 'approve' | 'deny', input: ClickInput): Record<string, unknown> {
  const actionId = kind === 'approve' ? APPROVE_ACTION_ID : DENY_ACTION_ID;
  return {
    type: 'block_actions',
    user: { id: input.userId, username: input.userId.toLowerCase(), name: input.userId.toLowerCase(), team_id: input.teamId },
    api_app_id: input.apiAppId ?? 'A0VECGATE',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: input.messageTs, channel_id: input.channel, is_ephemeral: false },
    trigger_id: input.triggerId,
    team: { id: input.teamId, domain: 'example' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channel, name: 'approvals' },
    message: { type: 'message', ts: input.messageTs, text: 'Approval requested', bot_id: 'B0VECGATE' },
    state: { values: {} },
    response_url: input.responseUrl,
    actions: [
      {
        action_id: actionId,
        block_id: 'vecgate_decision',
        text: { type: 'plain_text', text: kind === 'approve' ? 'Approve' : 'Deny', emoji: true },
        value: input.approvalId,
        style: kind === 'approve' ? 'primary' : 'danger',
        type: 'button',
        action_ts: input.actionTs,
      },
    ],
  };
}

export interface ViewSubmissionInput {
  teamId: string;
  userId: string;
  viewId: string;
  privateMetadata: string;
  reason: string;
  triggerId: string;
}

export function denyReasonSubmission(input: ViewSubmissionInput): Record<string, unknown> {
  return {
    type: 'view_submission',
    team: { id: input.teamId, domain: 'example' },
    user: { id: input.userId, username: input.userId.toLowerCase(), name: input.userId.toLowerCase(), team_id: input.teamId },
    api_app_id: 'A0VECGATE',
    token: 'legacy-verification-token',
    trigger_id: input.triggerId,
    view: {
      id: input.viewId,
      team_id: input.teamId,
      type: 'modal',
      callback_id: DENY_REASON_CALLBACK_ID,
      private_metadata: input.privateMetadata,
      blocks: [],
      state: { values: { [DENY_REASON_BLOCK_ID]: { [DENY_REASON_INPUT_ID]: { type: 'plain_text_input', value: input.reason } } } },
      hash: '1712345678.abcdef',
      title: { type: 'plain_text', text: 'Deny request' },
      app_id: 'A0VECGATE',
      bot_id: 'B0VECGATE',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

export function linkCommand(input: { teamId: string; userId: string; responseUrl: string; triggerId: string; command?: string }): Record<string, string> {
  return {
    token: 'legacy-verification-token',
    team_id: input.teamId,
    team_domain: 'example',
    channel_id: 'D0DIRECT',
    channel_name: 'directmessage',
    user_id: input.userId,
    user_name: input.userId.toLowerCase(),
    command: input.command ?? '/vecgate-link',
    text: '',
    api_app_id: 'A0VECGATE',
    is_enterprise_install: 'false',
    response_url: input.responseUrl,
    trigger_id: input.triggerId,
  };
}

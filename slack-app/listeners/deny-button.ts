import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { renderDenyModal } from '../render';
import { approverFor, type DecisionDeps, isApprovalId, teamOf } from './decision-flow';

/** What the deny modal remembers of the click (Slack keeps it; the user cannot change it). */
export interface DenyModalMetadata {
  approvalId: string;
  channel?: string;
  ts?: string;
}

/**
 * The Deny button: ack at once, then open a modal asking for the reason (the trigger id is good
 * for three seconds). Users who may not decide are told so instead of being asked for a reason.
 */
export function denyButton(deps: DecisionDeps) {
  return async ({ ack, body, action, respond, client }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction>): Promise<void> => {
    await ack();
    const tell = async (text: string) => {
      await respond({ response_type: 'ephemeral', replace_original: false, text });
    };
    if (action.type !== 'button' || !isApprovalId(action.value)) {
      await tell('This button carries no approval; nothing was decided.');
      return;
    }
    const approver = await approverFor(deps, { teamId: teamOf(body), userId: body.user.id, approvalId: action.value, decision: 'deny', tell });
    if (!approver) return;

    const metadata: DenyModalMetadata = {
      approvalId: action.value,
      ...(body.container?.channel_id ?? body.channel?.id ? { channel: body.container?.channel_id ?? body.channel?.id } : {}),
      ...(body.container?.message_ts ?? body.message?.ts ? { ts: body.container?.message_ts ?? body.message?.ts } : {}),
    };
    try {
      await client.views.open({ trigger_id: body.trigger_id, view: renderDenyModal({ approvalId: action.value, privateMetadata: JSON.stringify(metadata) }) });
    } catch (err) {
      deps.logger.warn({ event: 'slack.modal_failed', approvalId: action.value, err }, 'could not open the deny modal');
      await tell('The form for your reason could not be opened. Click Deny again.');
    }
  };
}

import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { type DecisionDeps, isApprovalId, submitDecision, teamOf } from './decision-flow';

/** The Approve button: ack at once, then resolve the approver and send the decision. */
export function approveButton(deps: DecisionDeps) {
  return async ({ ack, body, action, respond }: AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction>): Promise<void> => {
    await ack();
    const tell = async (text: string) => {
      await respond({ response_type: 'ephemeral', replace_original: false, text });
    };
    if (action.type !== 'button' || !isApprovalId(action.value)) {
      deps.logger.warn({ event: 'slack.bad_button', actionId: action.action_id }, 'approve button without an approval id');
      await tell('This button carries no approval; nothing was decided.');
      return;
    }
    const teamId = teamOf(body);
    const channel = body.container?.channel_id ?? body.channel?.id;
    const ts = body.container?.message_ts ?? body.message?.ts;
    await submitDecision(deps, {
      teamId,
      userId: body.user.id,
      approvalId: action.value,
      decision: 'approve',
      // a replay of this payload carries the same action_ts; a second click carries another
      decisionId: `slack:${teamId ?? '-'}:${body.user.id}:${action.action_ts}`,
      ...(channel && ts ? { message: { channel, ts } } : {}),
      tell,
    });
  };
}

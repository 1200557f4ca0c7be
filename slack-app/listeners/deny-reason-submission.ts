import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { DENY_REASON_BLOCK_ID, DENY_REASON_INPUT_ID, DENY_REASON_MAX_LENGTH } from '../render';
import { type DecisionDeps, isApprovalId, submitDecision, teamOf } from './decision-flow';
import type { DenyModalMetadata } from './deny-button';

/**
 * The deny modal's submission. A missing reason is answered in the modal itself; otherwise the
 * modal closes on ack and the deny is sent, with the view id as the decision id (a replayed
 * submission carries the same view).
 */
export function denyReasonSubmission(deps: DecisionDeps) {
  return async ({ ack, body, view, client }: AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>): Promise<void> => {
    const reason = view.state.values[DENY_REASON_BLOCK_ID]?.[DENY_REASON_INPUT_ID]?.value?.trim() ?? '';
    const metadata = readMetadata(view.private_metadata);
    if (!metadata) {
      await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK_ID]: 'This form lost track of its request. Close it and click Deny on the message again.' } });
      return;
    }
    if (reason === '' || reason.length > DENY_REASON_MAX_LENGTH) {
      await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK_ID]: `Give a reason of 1 to ${DENY_REASON_MAX_LENGTH} characters.` } });
      return;
    }
    await ack();

    const userId = body.user.id;
    const tell = async (text: string) => {
      if (!metadata.channel) {
        deps.logger.warn({ event: 'slack.reply_failed', approvalId: metadata.approvalId, userId }, 'no channel to answer a deny in');
        return;
      }
      await client.chat.postEphemeral({ channel: metadata.channel, user: userId, text });
    };
    const teamId = teamOf(body);
    await submitDecision(deps, {
      teamId,
      userId,
      approvalId: metadata.approvalId,
      decision: 'deny',
      reason,
      decisionId: `slack:${teamId ?? '-'}:${userId}:view:${view.id}`,
      ...(metadata.channel && metadata.ts ? { message: { channel: metadata.channel, ts: metadata.ts } } : {}),
      tell,
    });
  };
}

function readMetadata(raw: string | undefined): DenyModalMetadata | undefined {
  try {
    const parsed = JSON.parse(raw ?? '') as Partial<DenyModalMetadata>;
    if (!isApprovalId(parsed.approvalId)) return undefined;
    return {
      approvalId: parsed.approvalId,
      ...(typeof parsed.channel === 'string' ? { channel: parsed.channel } : {}),
      ...(typeof parsed.ts === 'string' ? { ts: parsed.ts } : {}),
    };
  } catch {
    return undefined;
  }
}

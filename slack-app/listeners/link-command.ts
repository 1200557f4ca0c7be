import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { Logger } from 'pino';
import type { LinkService } from '../link/link-service';
import { escapeMrkdwn } from '../render';

/** The link command: ack at once, then answer (ephemeral) with a single-use sign-in URL. */
export function linkCommand(deps: { link: LinkService; workspace: string; logger: Logger }) {
  return async ({ ack, command, respond }: AllMiddlewareArgs & SlackCommandMiddlewareArgs): Promise<void> => {
    await ack();
    const tell = (text: string) => respond({ response_type: 'ephemeral', text });
    if (command.team_id !== deps.workspace) {
      deps.logger.warn({ event: 'slack.link_refused', teamId: command.team_id, userId: command.user_id }, 'link command from a foreign workspace');
      await tell('Accounts of this Slack workspace cannot be linked to vecgate.');
      return;
    }
    try {
      const { url } = await deps.link.start({ teamId: command.team_id, userId: command.user_id });
      await tell(
        `To decide vecgate approvals, link your Slack account to your organisation identity: <${escapeMrkdwn(url)}|sign in here>. ` +
          'The link works once, for you only, within ten minutes. Your group memberships are read at sign-in; run the command again when they change.',
      );
    } catch (err) {
      deps.logger.error({ event: 'slack.link_start_failed', err }, 'could not start a link sign-in');
      await tell('vecgate could not start the sign-in right now. Try again in a minute.');
    }
  };
}

import { App, webApi } from '@slack/bolt';
import { boltLoggerFrom } from './bolt-logger';
import { SlackAppError } from './errors';
import { VerifiedHttpReceiver } from './http-receiver';
import { createLinkCallbackHandler } from './link/callback-route';
import { createLinkService, type LinkService } from './link/link-service';
import { approveButton } from './listeners/approve-button';
import { resumeDecision, type DecisionDeps } from './listeners/decision-flow';
import { denyButton } from './listeners/deny-button';
import { denyReasonSubmission } from './listeners/deny-reason-submission';
import { linkCommand } from './listeners/link-command';
import { checkOptions, type SlackAppOptions } from './options';
import { APPROVE_ACTION_ID, DENY_ACTION_ID, DENY_REASON_CALLBACK_ID } from './render';
import { startRouteServer, type RouteServer } from './route-server';

export type { SlackAppOptions } from './options';

export interface SlackApp {
  readonly bolt: App;
  /** the bot's Web API client */
  readonly client: webApi.WebClient;
  readonly link: LinkService | undefined;
  /** checks the bot token belongs to the configured workspace, then listens / connects */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** http://host:port of the HTTP server once started (socket mode: the link callback's, if any) */
  url(): string | undefined;
}

/** Wires the Slack app: receiver, listeners and the link callback. The work is in the listeners. */
export function createSlackApp(input: SlackAppOptions): SlackApp {
  const options = checkOptions(input);
  const { logger, workspace } = options;
  const boltLogger = boltLoggerFrom(logger);
  const clientOptions = { slackApiUrl: options.slackApiUrl, logger: boltLogger, retryConfig: { retries: 2, minTimeout: 200, maxTimeout: 2000 } };
  const client = new webApi.WebClient(options.botToken, clientOptions);

  // Bolt asks for the bot identity on every payload; start() learns it once with auth.test.
  let bot: { botId?: string; botUserId?: string } | undefined;
  const authorize = () => {
    if (!bot) return Promise.reject(new Error('the Slack app is not started'));
    return Promise.resolve({ botToken: options.botToken, ...bot, teamId: workspace });
  };

  const link = options.link ? createLinkService(options.link, { clock: options.clock, logger, client, workspace }) : undefined;
  const deps: DecisionDeps = {
    workspace,
    decider: options.decider,
    approvers: options.approvers,
    refusals: options.refusals,
    clock: options.clock,
    logger,
    client,
    ...(link ? { stepUp: async (user, maxAgeSeconds, decision) => (await link.start(user, { maxAgeSeconds, decision })).url } : {}),
  };
  const routes = link ? { [link.callbackPath]: createLinkCallbackHandler(link, logger, (binding, decision) => resumeDecision(deps, binding, decision)) } : {};

  const receiver =
    options.mode === 'http'
      ? new VerifiedHttpReceiver({ signingSecret: options.signingSecret as string, host: options.host, port: options.port, clock: options.clock, logger, boltLogger, routes })
      : undefined;
  const bolt = receiver
    ? new App({ receiver, authorize, clientOptions, logger: boltLogger })
    : new App({ socketMode: true, appToken: options.appToken as string, authorize, clientOptions, logger: boltLogger });
  bolt.error(async (err) => {
    logger.error({ event: 'slack.listener_failed', code: err.code, err }, 'a Slack listener failed');
  });

  bolt.action({ type: 'block_actions', action_id: APPROVE_ACTION_ID }, approveButton(deps));
  bolt.action({ type: 'block_actions', action_id: DENY_ACTION_ID }, denyButton(deps));
  bolt.view({ type: 'view_submission', callback_id: DENY_REASON_CALLBACK_ID }, denyReasonSubmission(deps));
  if (link) bolt.command(link.command, linkCommand({ link, workspace, logger }));

  let callbackServer: RouteServer | undefined;
  const url = (): string | undefined => {
    const address = receiver?.address() ?? callbackServer?.address();
    return address ? `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}` : undefined;
  };

  return {
    bolt,
    client,
    link,

    async start() {
      const auth = await client.auth.test();
      if (auth.team_id !== workspace) {
        throw new SlackAppError('SLACK_WORKSPACE_MISMATCH', `the bot token belongs to workspace ${String(auth.team_id)}, but slack.workspace is ${workspace}; use the token installed in ${workspace}`);
      }
      bot = { ...(auth.bot_id ? { botId: auth.bot_id } : {}), ...(auth.user_id ? { botUserId: auth.user_id } : {}) };
      if (!receiver && link) callbackServer = await startRouteServer(routes, options.host, options.port);
      try {
        await bolt.start();
      } catch (err) {
        await callbackServer?.stop();
        callbackServer = undefined;
        throw err;
      }
      logger.info({ event: 'slack.started', mode: options.mode, workspace, url: url() }, 'Slack app started');
    },

    async stop() {
      await bolt.stop();
      await callbackServer?.stop();
      callbackServer = undefined;
    },

    url,
  };
}

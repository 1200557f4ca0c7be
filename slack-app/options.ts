import type { Logger } from 'pino';
import type { Clock } from '../src/clock';
import type { ApproverDirectory } from './approvers/approver-directory';
import type { ApprovalDecider } from './decider';
import { SlackAppError } from './errors';
import type { LinkOptions } from './link/link-service';
import type { RefusalRecorder } from './refusals';

export interface SlackAppOptions {
  /** 'http': Slack posts signed requests to {host}:{port}/slack/events; 'socket': Socket Mode */
  mode: 'http' | 'socket';
  /** the bot token (xoxb-…) */
  botToken: string;
  /** http mode: the app's Signing Secret */
  signingSecret?: string;
  /** socket mode: an app-level token (xapp-…) with connections:write */
  appToken?: string;
  /** where the HTTP server listens (http mode; in socket mode only for the link callback). Default 127.0.0.1 */
  host?: string;
  /** default 3000; 0 takes a free port */
  port?: number;
  /** the Web API base, default https://slack.com/api/; tests point it at a fake */
  slackApiUrl?: string;
  /** the one workspace (team id, T…) whose users may decide; payloads from others are refused */
  workspace: string;
  decider: ApprovalDecider;
  approvers: ApproverDirectory;
  refusals: RefusalRecorder;
  clock: Clock;
  logger: Logger;
  /** the link command and its callback; absent: bindings come from configuration only */
  link?: LinkOptions;
}

export interface CheckedOptions extends SlackAppOptions {
  host: string;
  port: number;
  slackApiUrl: string;
}

const invalid = (message: string) => new SlackAppError('SLACK_CONFIG_INVALID', message);

/** Checks the options once, at construction, with errors that name the option and the fix. */
export function checkOptions(options: SlackAppOptions): CheckedOptions {
  if (options.mode !== 'http' && options.mode !== 'socket') throw invalid(`slack.mode must be "http" or "socket", not ${JSON.stringify(options.mode)}`);
  if (!/^xoxb-/.test(options.botToken ?? '')) throw invalid('slack.botToken must be the bot token (starts with xoxb-), from the app\'s OAuth & Permissions page');
  if (options.mode === 'http' && !options.signingSecret) throw invalid('slack.signingSecret is required in http mode: the Signing Secret from the app\'s Basic Information page');
  if (options.mode === 'socket' && !/^xapp-/.test(options.appToken ?? '')) {
    throw invalid('slack.appToken is required in socket mode: an app-level token (starts with xapp-) with the connections:write scope');
  }
  if (!/^[TE][A-Z0-9]{2,}$/.test(options.workspace ?? '')) throw invalid('slack.workspace must be the team id of your workspace (T…), shown by auth.test');
  const port = options.port ?? 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalid(`slack.port must be a TCP port (0 for any free one), not ${String(options.port)}`);
  let slackApiUrl = options.slackApiUrl ?? 'https://slack.com/api/';
  if (!URL.canParse(slackApiUrl)) throw invalid(`slack.slackApiUrl "${slackApiUrl}" is not a URL`);
  if (!slackApiUrl.endsWith('/')) slackApiUrl += '/';
  return { ...options, host: options.host ?? '127.0.0.1', port, slackApiUrl };
}

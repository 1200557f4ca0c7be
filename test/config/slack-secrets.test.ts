import { slackSecretsFrom } from '../../src/approval/back-office';
import { ConfigError } from '../../src/config/load';
import { configSchema } from '../../src/config/schema';

const approvals = (slack: Record<string, unknown>) =>
  configSchema.shape.approvals.unwrap().parse({ temporal: { address: '127.0.0.1:7233' }, slack: { workspace: 'T0ABC', channel: 'C0ABC', ...slack } });

describe('the worker reads its Slack secrets from the variables the configuration names', () => {
  test('http mode: bot token and signing secret', () => {
    expect(slackSecretsFrom(approvals({ mode: 'http' }), { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' })).toEqual({ botToken: 'xoxb-1', signingSecret: 's' });
  });

  test('socket mode: bot token and app token, from renamed variables', () => {
    expect(slackSecretsFrom(approvals({ mode: 'socket', botTokenEnv: 'BOT', appTokenEnv: 'APP' }), { BOT: 'xoxb-2', APP: 'xapp-2' })).toEqual({ botToken: 'xoxb-2', appToken: 'xapp-2' });
  });

  test('a missing variable names itself and the key', () => {
    try {
      slackSecretsFrom(approvals({ mode: 'http' }), { SLACK_BOT_TOKEN: 'xoxb-1' });
      throw new Error('not refused');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues).toEqual([{ key: 'approvals.slack.signingSecretEnv', message: 'environment variable SLACK_SIGNING_SECRET is not set: export the Slack signingSecret there' }]);
    }
  });
});

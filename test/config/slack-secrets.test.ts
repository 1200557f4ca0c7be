import { decisionSignerFrom, slackSecretsFrom } from '../../src/approval/back-office';
import { ConfigError } from '../../src/config/load';
import { configSchema } from '../../src/config/schema';
import { makeTestDecider } from '../support/decider';

const decider = makeTestDecider();
const approvals = (slack: Record<string, unknown>, keys: string[] = [decider.publicKeyPem]) =>
  configSchema.shape.approvals.unwrap().parse({ temporal: { address: '127.0.0.1:7233' }, deciderPublicKeys: keys, slack: { workspace: 'T0ABC', channel: 'C0ABC', ...slack } });
const KEY = { VECGATE_DECISION_SIGNING_KEY: decider.privateKeyPem };

function issuesOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('not refused');
}

describe('the worker reads its Slack secrets from the variables the configuration names', () => {
  test('http mode: bot token and signing secret', () => {
    expect(slackSecretsFrom(approvals({ mode: 'http' }), { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', ...KEY })).toEqual({
      botToken: 'xoxb-1',
      signingSecret: 's',
      decisionSigningKey: decider.privateKeyPem,
    });
  });

  test('socket mode: bot token and app token, from renamed variables', () => {
    expect(slackSecretsFrom(approvals({ mode: 'socket', botTokenEnv: 'BOT', appTokenEnv: 'APP' }), { BOT: 'xoxb-2', APP: 'xapp-2', ...KEY })).toEqual({
      botToken: 'xoxb-2',
      appToken: 'xapp-2',
      decisionSigningKey: decider.privateKeyPem,
    });
  });

  test('a missing variable names itself and the key', () => {
    expect(issuesOf(() => slackSecretsFrom(approvals({ mode: 'http' }), { SLACK_BOT_TOKEN: 'xoxb-1', ...KEY }))).toEqual([
      { key: 'approvals.slack.signingSecretEnv', message: 'environment variable SLACK_SIGNING_SECRET is not set: export the Slack signingSecret there' },
    ]);
  });
});

describe('the worker\'s decision signing key', () => {
  const slackEnv = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' };

  test('comes from decisionSigningKeyFile when set, else from the named variable', () => {
    const read = (path: string) => (path === '/keys/decider.pem' ? decider.privateKeyPem : '');
    expect(slackSecretsFrom(approvals({ mode: 'http', decisionSigningKeyFile: '/keys/decider.pem' }), slackEnv, read).decisionSigningKey).toBe(decider.privateKeyPem);
    expect(slackSecretsFrom(approvals({ mode: 'http', decisionSigningKeyEnv: 'DECIDER_KEY' }), { ...slackEnv, DECIDER_KEY: 'pem' }).decisionSigningKey).toBe('pem');
  });

  test('a missing key or unreadable file names the key and how to make one', () => {
    expect(issuesOf(() => slackSecretsFrom(approvals({ mode: 'http' }), slackEnv))).toEqual([
      { key: 'approvals.slack.decisionSigningKeyEnv', message: expect.stringMatching(/VECGATE_DECISION_SIGNING_KEY is not set.*openssl genpkey -algorithm ed25519/) },
    ]);
    const missing = () => {
      throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    };
    expect(issuesOf(() => slackSecretsFrom(approvals({ mode: 'http', decisionSigningKeyFile: '/nope.pem' }), slackEnv, missing))).toEqual([
      { key: 'approvals.slack.decisionSigningKeyFile', message: expect.stringMatching(/cannot read \/nope\.pem \(ENOENT\)/) },
    ]);
  });

  test('a signing key whose public half the gateways do not list is refused at start', () => {
    const other = makeTestDecider();
    expect(decisionSignerFrom(approvals({ mode: 'http' }), decider.privateKeyPem).publicKey).toBe(decider.publicKey);
    expect(issuesOf(() => decisionSignerFrom(approvals({ mode: 'http' }, [other.publicKeyPem]), decider.privateKeyPem))).toEqual([
      { key: 'approvals.deciderPublicKeys', message: expect.stringContaining(`hex ${decider.publicKey}`) },
    ]);
    expect(issuesOf(() => decisionSignerFrom(approvals({ mode: 'http' }), 'not a key'))).toEqual([
      { key: 'approvals.slack.decisionSigningKeyFile/Env', message: expect.stringMatching(/PKCS8 PEM/) },
    ]);
  });
});

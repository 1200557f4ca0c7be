import { createSlackApp, type SlackAppOptions } from '../../slack-app/app';
import { createApproverDirectory } from '../../slack-app/approvers/approver-directory';
import { systemClock } from '../../src/clock';
import { MemoryDecider } from './support/approvals';
import { FakeSlack } from '../../src/devstack/fake-slack';
import { APP_TOKEN, BOT_TOKEN, RecordedRefusals, SIGNING_SECRET, TEAM, testLogger } from './support/harness';

function options(overrides: Partial<SlackAppOptions> = {}): SlackAppOptions {
  return {
    mode: 'http',
    botToken: BOT_TOKEN,
    signingSecret: SIGNING_SECRET,
    port: 0,
    workspace: TEAM,
    decider: new MemoryDecider(systemClock),
    approvers: createApproverDirectory({ workspace: TEAM, maxGroupAgeMs: 1000, clock: systemClock }),
    refusals: new RecordedRefusals(),
    clock: systemClock,
    logger: testLogger(),
    ...overrides,
  };
}

describe('createSlackApp configuration', () => {
  it.each<[string, Partial<SlackAppOptions>, RegExp]>([
    ['an unknown mode', { mode: 'webhook' as 'http' }, /slack\.mode/],
    ['a user token instead of the bot token', { botToken: 'xoxp-123' }, /slack\.botToken/],
    ['http mode without a signing secret', { signingSecret: undefined }, /slack\.signingSecret is required in http mode/],
    ['socket mode without an app-level token', { mode: 'socket', appToken: BOT_TOKEN }, /slack\.appToken is required in socket mode/],
    ['a workspace that is not a team id', { workspace: 'acme' }, /slack\.workspace/],
    ['a port out of range', { port: 70000 }, /slack\.port/],
    ['an API URL that is not a URL', { slackApiUrl: 'fake slack' }, /slack\.slackApiUrl/],
  ])('refuses %s at construction', (_what, overrides, message) => {
    expect(() => createSlackApp(options(overrides))).toThrow(expect.objectContaining({ code: 'SLACK_CONFIG_INVALID', message: expect.stringMatching(message) as string }) as Error);
  });

  it.each(['http', 'socket'] as const)('refuses to start in %s mode when the bot token belongs to another workspace', async (mode) => {
    const fake = await FakeSlack.start({ teamId: 'T0SOMEWHERE', botToken: BOT_TOKEN, appToken: APP_TOKEN });
    const app = createSlackApp(options({ mode, appToken: APP_TOKEN, slackApiUrl: fake.apiUrl }));
    try {
      await expect(app.start()).rejects.toMatchObject({ code: 'SLACK_WORKSPACE_MISMATCH' });
      expect(app.url()).toBeUndefined();
      expect(fake.callsTo('apps.connections.open')).toHaveLength(0);
    } finally {
      await fake.stop();
    }
  });
});

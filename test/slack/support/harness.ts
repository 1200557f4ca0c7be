import pino, { type Logger } from 'pino';
import { webApi } from '@slack/bolt';
import { createSlackApp, type SlackApp, type SlackAppOptions } from '../../../slack-app/app';
import { createApproverDirectory, type ApproverDirectory } from '../../../slack-app/approvers/approver-directory';
import { createMemoryBindingStore, type BindingStore } from '../../../slack-app/approvers/bindings';
import { boltLoggerFrom } from '../../../slack-app/bolt-logger';
import type { ApprovalDecider } from '../../../slack-app/decider';
import { createSlackNotifier } from '../../../slack-app/notifier';
import type { RefusalRecorder, SlackRefusal } from '../../../slack-app/refusals';
import { systemClock, type Clock } from '../../../src/clock';
import type { ApprovalNotifier } from '../../../activities/notifier';
import type { ApprovalState, MessageRef } from '../../../workflows/approval-contract';
import { MemoryDecider, pendingState } from './approvals';
import { FakeSlack, type FakeUser } from '../../../src/devstack/fake-slack';

export const TEAM = 'T0VECGATE';
export const FOREIGN_TEAM = 'T0ELSEWHERE';
export const CHANNEL = 'C0APPROVALS';
export const BOT_TOKEN = 'xoxb-1111-2222-testbottoken';
export const APP_TOKEN = 'xapp-1-A0VECGATE-3333-testapptoken';
export const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
export const MAX_GROUP_AGE_MS = 24 * 60 * 60 * 1000;

/** Slack users of the tests and the identities they are bound to. */
export const SLACK_USERS = {
  carol: { id: 'U0CAROL', subject: 'u-1003-carol', email: 'carol@example.test', groups: ['data-stewards', 'pii-readers'] },
  erin: { id: 'U0ERIN', subject: 'u-1005-erin', email: 'erin@example.test', groups: ['data-stewards'] },
  alice: { id: 'U0ALICE', subject: 'u-1001-alice', email: 'alice@example.test', groups: ['data-scientists'] },
  dave: { id: 'U0DAVE', subject: 'u-1004-dave', email: 'dave@example.test', groups: [] as string[] },
  stale: { id: 'U0STALE', subject: 'u-1006-frank', email: 'frank@example.test', groups: ['data-stewards'] },
} as const;
export const UNMAPPED_USER = 'U0NOBODY';

export function fakeUsers(): FakeUser[] {
  return [
    ...Object.values(SLACK_USERS).map((u) => ({ id: u.id, teamId: TEAM, name: u.subject, email: u.email })),
    { id: UNMAPPED_USER, teamId: TEAM, name: 'nobody', email: 'nobody@example.test' },
  ];
}

export function testLogger(): Logger {
  return pino({ level: process.env.VECGATE_TEST_LOG_LEVEL ?? 'silent' });
}

export class RecordedRefusals implements RefusalRecorder {
  readonly refusals: SlackRefusal[] = [];
  record(refusal: SlackRefusal): Promise<void> {
    this.refusals.push(refusal);
    return Promise.resolve();
  }
}

export interface Harness {
  fake: FakeSlack;
  app: SlackApp;
  decider: MemoryDecider;
  refusals: RecordedRefusals;
  bindings: BindingStore;
  approvers: ApproverDirectory;
  notifier: ApprovalNotifier;
  clock: Clock;
  /** http://127.0.0.1:PORT/slack/events (http mode) */
  eventsUrl: string;
  /** registers a pending approval with the decider and posts its message */
  openApproval(overrides?: Partial<ApprovalState>, request?: Parameters<typeof pendingState>[1]): Promise<{ state: ApprovalState; message: MessageRef }>;
  close(): Promise<void>;
}

/** A fake Slack, the real Bolt app on 127.0.0.1 in front of it, and an in-memory workflow double. */
export interface HarnessOptions {
  mode: 'http' | 'socket';
  link?: SlackAppOptions['link'];
  bindings?: BindingStore;
  /** default 0 (any free port) */
  port?: number;
  /** bind SLACK_USERS in the store first (default true) */
  seedBindings?: boolean;
  /** default: the in-memory workflow double (h.decider) */
  decider?: ApprovalDecider;
}

export async function startHarness(options: HarnessOptions = { mode: 'http' }): Promise<Harness> {
  const clock = systemClock;
  const fake = await FakeSlack.start({ teamId: TEAM, botToken: BOT_TOKEN, appToken: APP_TOKEN, users: fakeUsers(), channels: [CHANNEL, 'D0DIRECT'] });
  const now = clock.now();
  const bindings = options.bindings ?? createMemoryBindingStore();
  for (const [name, u] of options.seedBindings === false ? [] : Object.entries(SLACK_USERS)) {
    await bindings.put({ teamId: TEAM, userId: u.id, subject: u.subject, email: u.email, groups: [...u.groups], groupsVerifiedAt: name === 'stale' ? now - 2 * MAX_GROUP_AGE_MS : now, source: 'link' });
  }
  const approvers = createApproverDirectory({ workspace: TEAM, store: bindings, maxGroupAgeMs: MAX_GROUP_AGE_MS, clock, linkCommand: '/vecgate-link' });
  const decider = new MemoryDecider(clock);
  const refusals = new RecordedRefusals();
  const logger = testLogger();
  const app = createSlackApp({
    mode: options.mode,
    botToken: BOT_TOKEN,
    ...(options.mode === 'http' ? { signingSecret: SIGNING_SECRET } : { appToken: APP_TOKEN }),
    host: '127.0.0.1',
    port: options.port ?? 0,
    slackApiUrl: fake.apiUrl,
    workspace: TEAM,
    decider: options.decider ?? decider,
    approvers,
    refusals,
    clock,
    logger,
    ...(options.link ? { link: options.link } : {}),
  });
  await app.start();
  const notifier = createSlackNotifier({ client: new webApi.WebClient(BOT_TOKEN, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, logger: boltLoggerFrom(logger) }), channel: CHANNEL, clock });

  return {
    fake,
    app,
    decider,
    refusals,
    bindings,
    approvers,
    notifier,
    clock,
    eventsUrl: `${app.url() ?? ''}/slack/events`,
    async openApproval(overrides = {}, request = {}) {
      const state = pendingState({ deadline: clock.now() + 15 * 60_000, ...overrides }, { requestedAt: clock.now(), ...request });
      state.request.policy.maxGroupAgeMs ??= MAX_GROUP_AGE_MS;
      const message = await notifier.post(state);
      decider.add({ ...state, message });
      return { state: { ...state, message }, message };
    },
    async close() {
      decider.release();
      await app.stop();
      await fake.stop();
    },
  };
}

import { webApi } from '@slack/bolt';
import { createSlackNotifier } from '../../slack-app/notifier';
import { APPROVAL_METADATA_EVENT, renderApproval } from '../../slack-app/render';
import { boltLoggerFrom } from '../../slack-app/bolt-logger';
import { systemClock } from '../../src/clock';
import { pendingState } from './support/approvals';
import { FakeSlack } from '../../src/devstack/fake-slack';
import { BOT_TOKEN, CHANNEL, fakeUsers, SLACK_USERS, TEAM, testLogger } from './support/harness';

let fake: FakeSlack;

beforeEach(async () => {
  fake = await FakeSlack.start({ teamId: TEAM, botToken: BOT_TOKEN, users: fakeUsers(), channels: [CHANNEL] });
});

afterEach(async () => {
  await fake.stop();
});

function notifier() {
  // no retries inside the client: a retried post would skip the history lookup
  const client = new webApi.WebClient(BOT_TOKEN, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, logger: boltLoggerFrom(testLogger()) });
  return createSlackNotifier({ client, channel: CHANNEL, clock: systemClock });
}

function state(approvalId: string) {
  const now = Date.now();
  return pendingState({ deadline: now + 900_000 }, { approvalId, requestedAt: now });
}

describe('Slack notifier', () => {
  it('posts the approval with its id in the message metadata', async () => {
    const s = state('appr-n-1');
    const ref = await notifier().post(s);

    expect(ref.channel).toBe(CHANNEL);
    const posted = fake.message(CHANNEL, ref.ts);
    expect(posted?.metadata).toEqual({ event_type: APPROVAL_METADATA_EVENT, event_payload: { approval_id: 'appr-n-1', requested_at: String(s.request.requestedAt) } });
    expect(posted?.blocks).toEqual(renderApproval(s).blocks);
    expect(posted?.text).toBe(renderApproval(s).text);
  });

  it('posts once when called twice for the same approval: the second call finds the first in the history', async () => {
    const s = state('appr-n-2');
    const first = await notifier().post(s);
    // other approvals and chatter in between
    await notifier().post(state('appr-n-other'));
    const second = await notifier().post(s);

    expect(second).toEqual(first);
    expect(fake.messages(CHANNEL).filter((m) => m.metadata?.event_payload.approval_id === 'appr-n-2')).toHaveLength(1);
    const lookups = fake.callsTo('conversations.history');
    expect(lookups.every((c) => c.args.include_all_metadata === 'true' && c.args.channel === CHANNEL)).toBe(true);
  });

  it('a first attempt posts without reading the channel history (Slack rate-limits that call); a retry reads it', async () => {
    const s = state('appr-n-first');
    const ref = await notifier().post(s, { retried: false });
    expect(fake.callsTo('conversations.history')).toHaveLength(0);
    expect(await notifier().post(s, { retried: true })).toEqual(ref);
    expect(fake.callsTo('conversations.history').length).toBeGreaterThan(0);
    expect(fake.messages(CHANNEL).filter((m) => m.metadata?.event_payload.approval_id === 'appr-n-first')).toHaveLength(1);
  });

  it('the same request asked again after its approval closed gets a message of its own', async () => {
    const first = state('appr-n-again');
    const firstRef = await notifier().post(first);
    const again = pendingState({ deadline: Date.now() + 900_000 }, { approvalId: 'appr-n-again', requestedAt: first.request.requestedAt + 5_000 });
    const againRef = await notifier().post(again);

    expect(againRef.ts).not.toBe(firstRef.ts);
    expect(fake.messages(CHANNEL).filter((m) => m.metadata?.event_payload.approval_id === 'appr-n-again')).toHaveLength(2);
    // and each run still finds its own message when its activity is retried
    expect(await notifier().post(again)).toEqual(againRef);
  });

  it('posts once when the first post succeeded but its answer was lost, and the activity retries (THREATS 24)', async () => {
    const s = state('appr-n-3');
    fake.dropResponseOnce('chat.postMessage');

    await expect(notifier().post(s)).rejects.toThrow();
    expect(fake.messages(CHANNEL)).toHaveLength(1); // Slack did post it

    const retried = await notifier().post(s);
    expect(fake.messages(CHANNEL)).toHaveLength(1);
    expect(retried.ts).toBe(fake.messages(CHANNEL)[0]?.ts);
  });

  it('finds its message beyond the first page of history', async () => {
    const s = state('appr-n-4');
    const first = await notifier().post(s);
    for (let i = 0; i < 450; i += 1) fake.plantMessage(CHANNEL, { text: `chatter ${i}`, user: SLACK_USERS.erin.id });

    expect(await notifier().post(s)).toEqual(first);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
    expect(fake.callsTo('conversations.history').length).toBeGreaterThanOrEqual(4);
  });

  it('edits the same message for every state change, and shows who decided', async () => {
    const n = notifier();
    const s = state('appr-n-5');
    const ref = await n.post(s);
    const carol = { subject: SLACK_USERS.carol.subject, email: SLACK_USERS.carol.email, groups: ['data-stewards'], via: 'slack' as const, slackTeamId: TEAM, slackUserId: SLACK_USERS.carol.id };

    const approved = { ...s, status: 'approved' as const, decisions: [{ decisionId: 'd1', approver: carol, decision: 'approve' as const, at: Date.now() }], grant: { grantId: 'g1', issuedAt: Date.now(), expiresAt: Date.now() + 600_000 } };
    await n.update(ref, approved);
    const executed = { ...approved, status: 'executed' as const, execution: { grantId: 'g1', status: 200, bytes: 12, durationMs: 30, responseSha256: 'c'.repeat(64), at: Date.now() } };
    await n.update(ref, executed);

    expect(fake.messages(CHANNEL)).toHaveLength(1);
    const message = fake.message(CHANNEL, ref.ts);
    expect(message?.updates).toBe(2);
    expect(fake.callsTo('chat.update').map((c) => c.args.ts)).toEqual([ref.ts, ref.ts]);
    expect(message?.blocks).toEqual(renderApproval(executed).blocks);
    const shown = JSON.stringify(message?.blocks);
    expect(shown).toContain(`<@${SLACK_USERS.carol.id}> carol@example.test`);
    expect(shown).not.toContain('vecgate_approve');
    // the metadata stays, so a later retried post still finds it
    expect(message?.metadata?.event_payload.approval_id).toBe('appr-n-5');
  });

  it('does not take a message with our metadata posted by another app for its own', async () => {
    const s = state('appr-n-6');
    fake.plantMessage(CHANNEL, { text: 'lookalike', bot_id: 'B0INTRUDER', metadata: { event_type: APPROVAL_METADATA_EVENT, event_payload: { approval_id: 'appr-n-6' } } });

    const ref = await notifier().post(s);

    expect(fake.message(CHANNEL, ref.ts)?.bot_id).toBe('B0VECGATE');
    expect(fake.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('refuses a channel name instead of an id at construction', () => {
    const client = new webApi.WebClient(BOT_TOKEN, { slackApiUrl: fake.apiUrl, logger: boltLoggerFrom(testLogger()) });
    expect(() => createSlackNotifier({ client, channel: '#approvals', clock: systemClock })).toThrow(expect.objectContaining({ code: 'SLACK_CONFIG_INVALID' }) as Error);
  });
});

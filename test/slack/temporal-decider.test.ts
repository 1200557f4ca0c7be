import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { webApi } from '@slack/bolt';
import { startOrGetApproval } from '../../src/approval/temporal-client';
import { APPROVAL_WORKFLOWS_PATH, createApprovalWorker } from '../../src/approval/worker';
import { boltLoggerFrom } from '../../slack-app/bolt-logger';
import { createTemporalDecider } from '../../slack-app/decider';
import { createSlackNotifier } from '../../slack-app/notifier';
import { APPROVAL_WORKFLOW_TYPE, approvalStateQuery, type ApprovalState } from '../../workflows/approval-contract';
import { systemClock } from '../../src/clock';
import { makeTestDecider } from '../support/decider';
import { testStack } from '../support/stack';
import { approvalRequest, eventually } from './support/approvals';
import { BOT_TOKEN, CHANNEL, type Harness, MAX_GROUP_AGE_MS, SIGNING_SECRET, SLACK_USERS, startHarness, TEAM, testLogger } from './support/harness';
import { buttonClick } from './support/payloads';
import { interactiveBody, postSigned } from '../../src/devstack/slack-signing';

/**
 * The Slack app against the real approval workflow: a worker on the test stack's Temporal server
 * whose notifier posts to the fake Slack, and createTemporalDecider sending the clicks.
 */
const taskQueue = `slack-approvals-${randomUUID()}`;
const decider = makeTestDecider();
let connection: Connection;
let client: Client;
let nativeConnection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let h: Harness;

beforeAll(async () => {
  const logger = new DefaultLogger('WARN');
  try {
    Runtime.install({ logger });
  } catch {
    // installed by an earlier test file in this jest worker
  }
  const { temporalAddress } = testStack();
  connection = await Connection.connect({ address: temporalAddress });
  client = new Client({ connection });
  nativeConnection = await NativeConnection.connect({ address: temporalAddress });
  h = await startHarness({ mode: 'http', decider: createTemporalDecider(client, { signer: decider.signer, clock: systemClock }) });
  const notifier = createSlackNotifier({
    client: new webApi.WebClient(BOT_TOKEN, { slackApiUrl: h.fake.apiUrl, retryConfig: { retries: 0 }, logger: boltLoggerFrom(testLogger()) }),
    channel: CHANNEL,
    clock: h.clock,
  });
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: APPROVAL_WORKFLOWS_PATH, logger });
  worker = await createApprovalWorker({ connection: nativeConnection, namespace: 'default', taskQueue, notifier, workflowBundle });
  running = worker.run();
}, 60_000);

afterAll(async () => {
  if (worker) {
    worker.shutdown();
    await running;
  }
  await h?.close();
  await nativeConnection?.close();
  await connection?.close();
});

function replies(responseUrl: string): string[] {
  const id = responseUrl.split('/').pop();
  return h.fake.responses.filter((r) => r.id === id).map((r) => String(r.body.text));
}

async function clickApprove(userId: string, approvalId: string, ts: string, actionTs: string, responseUrl = h.fake.newResponseUrl()): Promise<string> {
  const res = await postSigned(h.eventsUrl, {
    body: interactiveBody(buttonClick('approve', { teamId: TEAM, userId, approvalId, channel: CHANNEL, messageTs: ts, actionTs, responseUrl, triggerId: h.fake.newTriggerId() })),
    signingSecret: SIGNING_SECRET,
  });
  expect(res.status).toBe(200);
  return responseUrl;
}

describe('createTemporalDecider', () => {
  it('answers a decision for an approval that does not exist with a CLOSED refusal', async () => {
    const reply = await createTemporalDecider(client, { signer: decider.signer, clock: systemClock }).decide(`appr-missing-${randomUUID()}`, {
      decisionId: 'd-1',
      decision: 'approve',
      approver: { subject: 'u-1003-carol', groups: ['data-stewards'], via: 'slack' },
    });
    expect(reply).toEqual({ counted: false, refusal: 'CLOSED', message: 'This approval no longer exists: decisions are no longer taken.' });
  });

  it('answers a decision for a terminated approval nobody can replay with a CLOSED refusal naming its status', async () => {
    const approvalId = `appr-terminated-${randomUUID()}`;
    // a task queue without a worker: the state query cannot be answered, the description can
    const handle = await client.workflow.start(APPROVAL_WORKFLOW_TYPE, { taskQueue: `nobody-${randomUUID()}`, workflowId: approvalId, args: [approvalRequest({ approvalId })] });
    await handle.terminate('test');

    const reply = await createTemporalDecider(client, { signer: decider.signer, clock: systemClock }).decide(approvalId, { decisionId: 'd-1', decision: 'approve', approver: { subject: 'u-1003-carol', groups: ['data-stewards'], via: 'slack' } });

    expect(reply).toEqual({ counted: false, refusal: 'CLOSED', message: 'This approval is closed (terminated): decisions are no longer taken.' });
  });

  it('carries Slack clicks to the real workflow: one message, N of M, double clicks and replays refused, message edited', async () => {
    const approvalId = `appr-e2e-${randomUUID()}`;
    const request = approvalRequest({
      approvalId,
      requestedAt: Date.now(),
      deciderKeys: [decider.publicKey],
      policy: { approverGroups: ['data-stewards'], required: 2, timeoutMs: 15 * 60_000, usableForMs: 10 * 60_000, reasonRequired: false, maxGroupAgeMs: MAX_GROUP_AGE_MS },
    });
    const handle = await startOrGetApproval(client, taskQueue, request);
    try {
      const posted = await eventually(() => h.fake.messages(CHANNEL).find((m) => m.metadata?.event_payload.approval_id === approvalId), 20_000, 'the approval message');

      const first = await clickApprove(SLACK_USERS.carol.id, approvalId, posted.ts, '1800000000.000001');
      expect(await eventually(() => replies(first)[0], 10_000)).toBe('Your approval counts: 1 of 2 approvals so far.');

      // the same payload again (Slack retry / replay), and a second click by the same approver
      await clickApprove(SLACK_USERS.carol.id, approvalId, posted.ts, '1800000000.000001', first);
      const second = await clickApprove(SLACK_USERS.carol.id, approvalId, posted.ts, '1800000000.000002');
      expect(await eventually(() => replies(second)[0], 10_000)).toMatch(/You already decided on this request \(approve\)/);

      // an approver whose groups are stale never reaches the workflow
      const stale = await clickApprove(SLACK_USERS.stale.id, approvalId, posted.ts, '1800000000.000003');
      expect(await eventually(() => replies(stale)[0], 10_000)).toMatch(/Run \/vecgate-link to sign in again/);

      const third = await clickApprove(SLACK_USERS.erin.id, approvalId, posted.ts, '1800000000.000004');
      expect(await eventually(() => replies(third)[0], 10_000)).toBe('Your approval counts: the request is approved (2 of 2).');

      const final: ApprovalState = await handle.query(approvalStateQuery);
      expect(final.status).toBe('approved');
      expect(final.decisions.map((d) => [d.approver.slackUserId, d.decisionId])).toEqual([
        [SLACK_USERS.carol.id, `slack:${TEAM}:${SLACK_USERS.carol.id}:1800000000.000001`],
        [SLACK_USERS.erin.id, `slack:${TEAM}:${SLACK_USERS.erin.id}:1800000000.000004`],
      ]);
      expect(final.refusals.map((r) => r.refusal).sort()).toEqual(['ALREADY_DECIDED', 'DUPLICATE']);
      expect(replies(first)).toHaveLength(1); // the replay was answered silently

      // one message, edited in place until it shows the approval without buttons
      await eventually(() => !JSON.stringify(h.fake.message(CHANNEL, posted.ts)?.blocks).includes('vecgate_approve'), 10_000, 'the buttons to go');
      expect(h.fake.messages(CHANNEL).filter((m) => m.metadata?.event_payload.approval_id === approvalId)).toHaveLength(1);
      expect(JSON.stringify(h.fake.message(CHANNEL, posted.ts)?.blocks)).toContain(`<@${SLACK_USERS.erin.id}>`);

      // once the workflow has ended, a late click is told so
      await handle.terminate('test over');
      const late = await clickApprove(SLACK_USERS.dave.id, approvalId, posted.ts, '1800000000.000005');
      expect(await eventually(() => replies(late)[0], 10_000)).toBe('This request is already approved: decisions are no longer taken.');
    } finally {
      await handle.terminate('test cleanup').catch(() => undefined);
    }
  });

  it('THREATS 36: the requester\'s second account (same e-mail, other subject) clicking in Slack is refused as self-approval', async () => {
    const approvalId = `appr-self-${randomUUID()}`;
    const request = approvalRequest({ approvalId, requestedAt: Date.now(), deciderKeys: [decider.publicKey] });
    // Alice's admin account in the approver group, bound to a Slack user of its own; her e-mail in another case
    await h.bindings.put({ teamId: TEAM, userId: 'U0ALICEADM', subject: 'u-1011-alice-admin', email: 'Alice@Example.TEST', groups: ['data-stewards'], groupsVerifiedAt: Date.now(), source: 'link' });
    const handle = await startOrGetApproval(client, taskQueue, request);
    try {
      const posted = await eventually(() => h.fake.messages(CHANNEL).find((m) => m.metadata?.event_payload.approval_id === approvalId), 20_000, 'the approval message');
      const clicked = await clickApprove('U0ALICEADM', approvalId, posted.ts, '1800000001.000001');
      expect(await eventually(() => replies(clicked)[0], 10_000)).toBe('You made this request, so you cannot decide on it: another approver must.');
      const current: ApprovalState = await handle.query(approvalStateQuery);
      expect(current).toMatchObject({ status: 'pending', decisions: [], refusals: [{ approver: { subject: 'u-1011-alice-admin' }, refusal: 'SELF_APPROVAL' }] });
    } finally {
      await handle.terminate('test cleanup').catch(() => undefined);
    }
  });
});

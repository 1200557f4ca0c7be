import { eventually } from './support/approvals';
import { APP_TOKEN, CHANNEL, FOREIGN_TEAM, type Harness, SLACK_USERS, startHarness, TEAM } from './support/harness';
import { buttonClick, denyReasonSubmission } from './support/payloads';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ mode: 'socket' });
});

afterAll(async () => {
  await h.close();
});

describe('Slack app over Socket Mode', () => {
  it('connects through apps.connections.open with the app-level token and the WebSocket it returns', async () => {
    await h.fake.waitForConnection();
    const opens = h.fake.callsTo('apps.connections.open');
    expect(opens.length).toBeGreaterThanOrEqual(1);
    expect(opens.every((c) => c.token === APP_TOKEN && c.ok)).toBe(true);
    // the bot token is used for the workspace check, never to open connections
    expect(h.fake.callsTo('auth.test')[0]?.token).not.toBe(APP_TOKEN);
  });

  it('acks an interactive envelope by its envelope_id and sends the click to the decider', async () => {
    const { state, message } = await h.openApproval({}, { approvalId: 'appr-socket-1' });
    const payload = buttonClick('approve', {
      teamId: TEAM,
      userId: SLACK_USERS.carol.id,
      approvalId: state.approvalId,
      channel: message.channel,
      messageTs: message.ts,
      actionTs: '1700000000.000100',
      responseUrl: h.fake.newResponseUrl(),
      triggerId: h.fake.newTriggerId(),
    });
    h.decider.hold();

    const envelopeId = h.fake.pushEnvelope('interactive', payload);
    const ack = await h.fake.waitForAck(envelopeId, 3000);

    expect(ack.envelopeId).toBe(envelopeId);
    await eventually(() => h.decider.received.some((r) => r.approvalId === state.approvalId));
    expect(h.decider.received.find((r) => r.approvalId === state.approvalId)?.input).toMatchObject({
      decisionId: `slack:${TEAM}:${SLACK_USERS.carol.id}:1700000000.000100`,
      decision: 'approve',
      approver: { subject: SLACK_USERS.carol.subject, slackUserId: SLACK_USERS.carol.id, via: 'slack' },
    });
    h.decider.release();
    await eventually(() => h.fake.message(CHANNEL, message.ts)?.updates === 1, 5000, 'the message edit');
    expect(h.decider.state(state.approvalId)?.status).toBe('approved');
  });

  it('returns the modal errors in the ack payload when a deny reason is missing', async () => {
    const { state } = await h.openApproval({}, { approvalId: 'appr-socket-2' });
    const envelopeId = h.fake.pushEnvelope(
      'interactive',
      denyReasonSubmission({ teamId: TEAM, userId: SLACK_USERS.carol.id, viewId: 'V0SOCKET', privateMetadata: JSON.stringify({ approvalId: state.approvalId }), reason: '', triggerId: h.fake.newTriggerId() }),
    );
    const ack = await h.fake.waitForAck(envelopeId, 3000);
    expect(ack.payload).toEqual({ response_action: 'errors', errors: { deny_reason: expect.stringMatching(/Give a reason/) as string } });
  });

  it('refuses a foreign workspace over Socket Mode too, without calling the decider', async () => {
    const { state, message } = await h.openApproval({}, { approvalId: 'appr-socket-3' });
    const responseUrl = h.fake.newResponseUrl();
    const before = h.decider.received.length;
    const envelopeId = h.fake.pushEnvelope(
      'interactive',
      buttonClick('approve', { teamId: FOREIGN_TEAM, userId: SLACK_USERS.carol.id, approvalId: state.approvalId, channel: message.channel, messageTs: message.ts, actionTs: '1700000000.000200', responseUrl, triggerId: h.fake.newTriggerId() }),
    );
    await h.fake.waitForAck(envelopeId, 3000);
    await eventually(() => h.refusals.refusals.some((r) => r.approvalId === state.approvalId));
    expect(h.refusals.refusals.find((r) => r.approvalId === state.approvalId)).toMatchObject({ reason: 'FOREIGN_WORKSPACE', teamId: FOREIGN_TEAM });
    expect(h.decider.received.length).toBe(before);
  });
});

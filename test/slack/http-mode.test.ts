import { renderApproval } from '../../slack-app/render';
import { eventually } from './support/approvals';
import { CHANNEL, FOREIGN_TEAM, type Harness, SIGNING_SECRET, SLACK_USERS, startHarness, TEAM, UNMAPPED_USER } from './support/harness';
import { buttonClick, denyReasonSubmission, type ClickInput } from './support/payloads';
import { interactiveBody, postSigned } from '../../src/devstack/slack-signing';

let h: Harness;
let actionSeq = 0;

beforeEach(async () => {
  h = await startHarness({ mode: 'http' });
});

afterEach(async () => {
  await h.close();
});

function click(overrides: Partial<ClickInput> & { approvalId: string; channel: string; messageTs: string }): ClickInput {
  actionSeq += 1;
  return {
    teamId: TEAM,
    userId: SLACK_USERS.carol.id,
    actionTs: `${Math.floor(Date.now() / 1000)}.${String(100000 + actionSeq)}`,
    responseUrl: h.fake.newResponseUrl(),
    triggerId: h.fake.newTriggerId(),
    ...overrides,
  };
}

function post(payload: unknown) {
  return postSigned(h.eventsUrl, { body: interactiveBody(payload), signingSecret: SIGNING_SECRET });
}

/** ephemeral texts sent to a response_url */
function repliesTo(responseUrl: string): string[] {
  const id = responseUrl.split('/').pop();
  return h.fake.responses.filter((r) => r.id === id).map((r) => String(r.body.text));
}

describe('Slack app over HTTP: approving', () => {
  it('acks a signed approve at once, sends the bound identity to the decider, and edits the message', async () => {
    const { state, message } = await h.openApproval();
    const input = click({ approvalId: state.approvalId, channel: message.channel, messageTs: message.ts });
    h.decider.hold(); // the decision takes its time; the ack must not wait for it

    const res = await post(buttonClick('approve', input));

    expect(res.status).toBe(200);
    expect(res.elapsedMs).toBeLessThan(3000);
    await eventually(() => h.decider.received.length === 1, 5000, 'the decider to be called');
    expect(h.decider.received[0]).toEqual({
      approvalId: state.approvalId,
      input: {
        decisionId: `slack:${TEAM}:${SLACK_USERS.carol.id}:${input.actionTs}`,
        decision: 'approve',
        approver: {
          subject: SLACK_USERS.carol.subject,
          email: SLACK_USERS.carol.email,
          groups: [...SLACK_USERS.carol.groups],
          via: 'slack',
          slackTeamId: TEAM,
          slackUserId: SLACK_USERS.carol.id,
          groupsVerifiedAt: expect.any(Number) as number,
        },
      },
    });

    h.decider.release();
    const updated = await eventually(() => h.fake.message(CHANNEL, message.ts)?.updates === 1 && h.fake.message(CHANNEL, message.ts), 5000, 'the message edit');
    const approved = h.decider.state(state.approvalId);
    expect(approved?.status).toBe('approved');
    expect(updated.blocks).toEqual(renderApproval(approved as NonNullable<typeof approved>).blocks);
    expect(JSON.stringify(updated.blocks)).not.toContain('vecgate_approve');
    expect(await eventually(() => repliesTo(input.responseUrl)[0])).toBe('Your approval counts: the request is approved (1 of 1).');
    expect(h.fake.messages(CHANNEL)).toHaveLength(1);
  });
});

describe('Slack app over HTTP: request authenticity (THREATS 19)', () => {
  async function expectRefused(send: (body: string) => Promise<{ status: number }>) {
    const { state, message } = await h.openApproval();
    const body = interactiveBody(buttonClick('approve', click({ approvalId: state.approvalId, channel: message.channel, messageTs: message.ts })));
    const res = await send(body);
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.decider.received).toHaveLength(0);
    expect(h.fake.responses).toHaveLength(0);
  }

  it('refuses a bad signature with 401', async () => {
    await expectRefused((body) => postSigned(h.eventsUrl, { body, signingSecret: 'another-apps-signing-secret-0000' }));
  });

  it('refuses a malformed signature header with 401', async () => {
    await expectRefused((body) => postSigned(h.eventsUrl, { body, signingSecret: SIGNING_SECRET, signature: 'v0=not-hex' }));
  });

  it('refuses a timestamp older than five minutes with 401, though correctly signed', async () => {
    await expectRefused((body) => postSigned(h.eventsUrl, { body, signingSecret: SIGNING_SECRET, timestamp: Math.floor(Date.now() / 1000) - 5 * 60 - 30 }));
  });

  it('refuses a timestamp more than five minutes ahead with 401, though correctly signed', async () => {
    await expectRefused((body) => postSigned(h.eventsUrl, { body, signingSecret: SIGNING_SECRET, timestamp: Math.floor(Date.now() / 1000) + 5 * 60 + 30 }));
  });

  it('refuses a body re-serialised after signing with 401 (same JSON, other bytes)', async () => {
    await expectRefused((body) => {
      const payload = JSON.parse(decodeURIComponent(body.slice('payload='.length))) as unknown;
      return postSigned(h.eventsUrl, { body, signingSecret: SIGNING_SECRET, sendBody: `payload=${encodeURIComponent(JSON.stringify(payload, null, 1))}` });
    });
  });

  it('refuses a body re-encoded after signing with 401 (same form, + for spaces)', async () => {
    await expectRefused((body) => {
      const reencoded = new URLSearchParams({ payload: decodeURIComponent(body.slice('payload='.length)) }).toString();
      expect(reencoded).not.toBe(body);
      return postSigned(h.eventsUrl, { body, signingSecret: SIGNING_SECRET, sendBody: reencoded });
    });
  });

  it('refuses a request without signature headers with 401', async () => {
    const res = await fetch(h.eventsUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'payload=%7B%7D' });
    expect(res.status).toBe(401);
  });
});

describe('Slack app over HTTP: one decision per click (THREATS 20)', () => {
  it('counts the same payload delivered twice once; both carry the same decisionId', async () => {
    const { state, message } = await h.openApproval({}, { policy: { approverGroups: ['data-stewards'], required: 2, timeoutMs: 900_000, usableForMs: 600_000, reasonRequired: false } });
    const payload = buttonClick('approve', click({ approvalId: state.approvalId, channel: message.channel, messageTs: message.ts }));

    expect((await post(payload)).status).toBe(200);
    await eventually(() => h.decider.received.length === 1);
    expect((await post(payload)).status).toBe(200);
    await eventually(() => h.decider.received.length === 2);

    const [first, second] = h.decider.received;
    expect(second?.input.decisionId).toBe(first?.input.decisionId);
    expect(h.decider.counted(state.approvalId)).toBe(1);
    expect(h.decider.state(state.approvalId)?.status).toBe('pending');
    // the replay is silent: one confirmation only
    await new Promise((r) => setTimeout(r, 200));
    expect(repliesTo(String(payload.response_url))).toEqual(['Your approval counts: 1 of 2 approvals so far.']);
  });

  it('refuses a double click (another action_ts, same approver) as ALREADY_DECIDED with an ephemeral reply', async () => {
    const { state, message } = await h.openApproval({}, { policy: { approverGroups: ['data-stewards'], required: 2, timeoutMs: 900_000, usableForMs: 600_000, reasonRequired: false } });
    const one = click({ approvalId: state.approvalId, channel: message.channel, messageTs: message.ts });
    const two = click({ approvalId: state.approvalId, channel: message.channel, messageTs: message.ts });

    await post(buttonClick('approve', one));
    await eventually(() => h.decider.received.length === 1);
    await post(buttonClick('approve', two));

    expect(await eventually(() => repliesTo(two.responseUrl)[0])).toBe('You already decided on this request: one decision per approver.');
    expect(h.decider.received[1]?.input.decisionId).not.toBe(h.decider.received[0]?.input.decisionId);
    expect(h.decider.counted(state.approvalId)).toBe(1);
    expect(h.decider.state(state.approvalId)?.refusals.map((r) => r.refusal)).toEqual(['ALREADY_DECIDED']);
  });
});

describe('Slack app over HTTP: who may decide (THREATS 21)', () => {
  it('refuses an unmapped Slack user before the decider, tells them how to link, and records it', async () => {
    const { state, message } = await h.openApproval();
    const input = click({ approvalId: state.approvalId, channel: message.channel, messageTs: message.ts, userId: UNMAPPED_USER });

    await post(buttonClick('approve', input));

    expect(await eventually(() => repliesTo(input.responseUrl)[0])).toMatch(/not linked to an identity vecgate knows.*Run \/vecgate-link/);
    expect(h.decider.received).toHaveLength(0);
    expect(h.refusals.refusals).toEqual([{ teamId: TEAM, userId: UNMAPPED_USER, approvalId: state.approvalId, reason: 'UNMAPPED_USER', decision: 'approve', at: expect.any(Number) as number }]);
    expect(h.fake.message(CHANNEL, message.ts)?.updates).toBe(0);
  });

  it('refuses a payload from a foreign workspace before the decider and records it, even for a bound user id', async () => {
    const { state, message } = await h.openApproval();
    const input = click({ approvalId: state.approvalId, channel: message.channel, messageTs: message.ts, teamId: FOREIGN_TEAM, userId: SLACK_USERS.carol.id });

    await post(buttonClick('approve', input));

    expect(await eventually(() => repliesTo(input.responseUrl)[0])).toMatch(/not the one vecgate approvals belong to/);
    expect(h.decider.received).toHaveLength(0);
    expect(h.refusals.refusals).toEqual([expect.objectContaining({ teamId: FOREIGN_TEAM, userId: SLACK_USERS.carol.id, reason: 'FOREIGN_WORKSPACE' })]);
  });

  it('refuses a user from another organisation clicking in a shared channel (user.team_id differs)', async () => {
    const { state, message } = await h.openApproval();
    const input = click({ approvalId: state.approvalId, channel: message.channel, messageTs: message.ts, userId: SLACK_USERS.carol.id });
    const payload = buttonClick('approve', input);
    (payload.user as { team_id: string }).team_id = FOREIGN_TEAM; // `team` stays ours

    await post(payload);

    expect(await eventually(() => repliesTo(input.responseUrl)[0])).toMatch(/not the one vecgate approvals belong to/);
    expect(h.decider.received).toHaveLength(0);
    expect(h.refusals.refusals).toEqual([expect.objectContaining({ teamId: FOREIGN_TEAM, reason: 'FOREIGN_WORKSPACE' })]);
  });

  it('refuses an approver whose groups are older than allowed, with a hint to run /vecgate-link again', async () => {
    const { state, message } = await h.openApproval();
    const input = click({ approvalId: state.approvalId, channel: message.channel, messageTs: message.ts, userId: SLACK_USERS.stale.id });

    await post(buttonClick('approve', input));

    expect(await eventually(() => repliesTo(input.responseUrl)[0])).toMatch(/last confirmed 2 days ago.*within 24 hours\. Run \/vecgate-link to sign in again/);
    expect(h.decider.received).toHaveLength(0);
    expect(h.refusals.refusals).toEqual([expect.objectContaining({ userId: SLACK_USERS.stale.id, reason: 'STALE_GROUPS' })]);
  });

  it.each([
    ['the requester approving their own request', SLACK_USERS.alice.id, 'You made this request, so you cannot decide on it: another approver must.'],
    ['a bound user outside the approver groups', SLACK_USERS.dave.id, 'Only members of data-stewards may decide on this request; your decision was not counted.'],
  ])('passes the workflow refusal for %s back as an ephemeral reply', async (_what, userId, expected) => {
    const { state, message } = await h.openApproval();
    const input = click({ approvalId: state.approvalId, channel: message.channel, messageTs: message.ts, userId });

    await post(buttonClick('approve', input));

    expect(await eventually(() => repliesTo(input.responseUrl)[0])).toBe(expected);
    expect(h.decider.counted(state.approvalId)).toBe(0);
    expect(h.fake.message(CHANNEL, message.ts)?.updates).toBe(0);
  });

  it('tells the approver when the approval is closed', async () => {
    const { state, message } = await h.openApproval({ status: 'expired' });
    const input = click({ approvalId: state.approvalId, channel: message.channel, messageTs: message.ts });

    await post(buttonClick('approve', input));

    expect(await eventually(() => repliesTo(input.responseUrl)[0])).toBe('This request is already expired: decisions are no longer taken.');
  });
});

describe('Slack app over HTTP: denying', () => {
  it('opens a modal for the reason, then sends the deny with that reason and edits the message', async () => {
    const { state, message } = await h.openApproval();
    const input = click({ approvalId: state.approvalId, channel: message.channel, messageTs: message.ts });

    const res = await post(buttonClick('deny', input));
    expect(res.status).toBe(200);

    const opened = await eventually(() => h.fake.views[0], 5000, 'views.open');
    expect(opened.triggerId).toBe(input.triggerId);
    expect(h.decider.received).toHaveLength(0);
    expect(opened.view).toMatchObject({ type: 'modal', callback_id: 'vecgate_deny_reason' });

    const submission = denyReasonSubmission({
      teamId: TEAM,
      userId: SLACK_USERS.carol.id,
      viewId: opened.id,
      privateMetadata: String(opened.view.private_metadata),
      reason: '  The ticket was closed; nothing to erase.  ',
      triggerId: h.fake.newTriggerId(),
    });
    const submitted = await post(submission);
    expect(submitted.status).toBe(200);
    expect(submitted.text).toBe(''); // the modal closes

    await eventually(() => h.decider.received.length === 1);
    expect(h.decider.received[0]?.input).toMatchObject({
      decision: 'deny',
      reason: 'The ticket was closed; nothing to erase.',
      decisionId: `slack:${TEAM}:${SLACK_USERS.carol.id}:view:${opened.id}`,
      approver: { subject: SLACK_USERS.carol.subject },
    });
    const updated = await eventually(() => h.fake.message(CHANNEL, message.ts)?.updates === 1 && h.fake.message(CHANNEL, message.ts));
    expect(JSON.stringify(updated.blocks)).toContain('The ticket was closed; nothing to erase.');
    expect(h.decider.state(state.approvalId)?.status).toBe('denied');
    const ephemeral = await eventually(() => h.fake.ephemerals[0]);
    expect(ephemeral).toMatchObject({ channel: CHANNEL, user: SLACK_USERS.carol.id, text: 'Your denial counts: the request is denied and will not run.' });

    // the same submission delivered again is one decision
    await post(submission);
    await eventually(() => h.decider.received.length === 2);
    expect(h.decider.received[1]?.input.decisionId).toBe(h.decider.received[0]?.input.decisionId);
    expect(h.decider.counted(state.approvalId)).toBe(1);
  });

  it('answers an empty reason in the modal itself, deciding nothing', async () => {
    const { state } = await h.openApproval();
    const submission = denyReasonSubmission({
      teamId: TEAM,
      userId: SLACK_USERS.carol.id,
      viewId: 'V0EMPTY',
      privateMetadata: JSON.stringify({ approvalId: state.approvalId }),
      reason: '   ',
      triggerId: h.fake.newTriggerId(),
    });
    const res = await post(submission);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ response_action: 'errors', errors: { deny_reason: expect.stringMatching(/Give a reason/) as string } });
    await new Promise((r) => setTimeout(r, 200));
    expect(h.decider.received).toHaveLength(0);
  });

  it('does not open the modal for an unmapped user; it tells them and records the refusal', async () => {
    const { state, message } = await h.openApproval();
    const input = click({ approvalId: state.approvalId, channel: message.channel, messageTs: message.ts, userId: UNMAPPED_USER });

    await post(buttonClick('deny', input));

    expect(await eventually(() => repliesTo(input.responseUrl)[0])).toMatch(/not linked/);
    expect(h.fake.views).toHaveLength(0);
    expect(h.refusals.refusals).toEqual([expect.objectContaining({ reason: 'UNMAPPED_USER', decision: 'deny' })]);
  });
});

describe('Slack app over HTTP: when the approval service fails', () => {
  it('tells the approver nothing was decided when the decider throws (Temporal unreachable)', async () => {
    const failing = await startHarness({ mode: 'http', decider: { decide: () => Promise.reject(new Error('14 UNAVAILABLE: connection refused')) } });
    try {
      const { state, message } = await failing.openApproval();
      const responseUrl = failing.fake.newResponseUrl();
      const res = await postSigned(failing.eventsUrl, {
        body: interactiveBody(buttonClick('approve', { teamId: TEAM, userId: SLACK_USERS.carol.id, approvalId: state.approvalId, channel: message.channel, messageTs: message.ts, actionTs: '1.000001', responseUrl, triggerId: failing.fake.newTriggerId() })),
        signingSecret: SIGNING_SECRET,
      });
      expect(res.status).toBe(200);
      const reply = await eventually(() => failing.fake.responses.find((r) => responseUrl.endsWith(r.id)));
      expect(reply.body).toMatchObject({ response_type: 'ephemeral', replace_original: false, text: expect.stringMatching(/Nothing was decided; try again/) as string });
      expect(failing.fake.message(CHANNEL, message.ts)?.updates).toBe(0);
    } finally {
      await failing.close();
    }
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { createApproverDirectory } from '../../slack-app/approvers/approver-directory';
import type { BindingStore } from '../../slack-app/approvers/bindings';
import { openMongoBindingStore } from '../../slack-app/approvers/mongo-bindings';
import { createLinkService } from '../../slack-app/link/link-service';
import { openMongoLinkStateStore, type LinkStateStore } from '../../slack-app/link/link-states';
import { createOidcRelyingParty } from '../../slack-app/link/oidc';
import { findFreePort } from '../../src/devstack/ports';
import { testStack } from '../support/stack';
import { eventually, ManualClock } from './support/approvals';
import { FOREIGN_TEAM, type Harness, MAX_GROUP_AGE_MS, SIGNING_SECRET, SLACK_USERS, startHarness, TEAM, testLogger, UNMAPPED_USER } from './support/harness';
import { signIn, startCodeProvider } from './support/oidc-browser';
import { buttonClick, linkCommand } from './support/payloads';
import { commandBody, interactiveBody, postSigned } from '../../src/devstack/slack-signing';

const CLIENT_ID = 'vecgate-slack';
const CLIENT_SECRET = 'vecgate-slack-test-secret';

let mongo: MongoClient;
let db: Db;
let bindings: BindingStore;
let states: LinkStateStore;
let provider: { issuer: string; stop(): Promise<void> };
let redirectUri: string;
let h: Harness;

beforeAll(async () => {
  mongo = await MongoClient.connect(testStack().mongoUri);
  db = mongo.db(`vecgate_slack_link_${randomBytes(4).toString('hex')}`);
  bindings = await openMongoBindingStore(db);
  states = await openMongoLinkStateStore(db);
  // Each side must know the other's address before it starts, so both ports are picked first; a
  // port taken by another process in between (tests run in parallel) means picking again.
  for (let attempt = 1; ; attempt++) {
    const appPort = await findFreePort();
    let providerPort = await findFreePort();
    while (providerPort === appPort) providerPort = await findFreePort();
    redirectUri = `http://127.0.0.1:${appPort}/slack/link/callback`;
    try {
      h = await startHarness({
        mode: 'http',
        port: appPort,
        bindings,
        seedBindings: false,
        link: { oidc: { issuer: `http://127.0.0.1:${providerPort}`, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri }, states, bindings },
      });
      provider = await startCodeProvider({ port: providerPort, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri });
      break;
    } catch (err) {
      await h?.close();
      if (attempt >= 3) throw err;
    }
  }
}, 60_000);

afterAll(async () => {
  await h?.close();
  await provider?.stop();
  await db?.dropDatabase();
  await mongo?.close();
});

function replies(responseUrl: string): string[] {
  const id = responseUrl.split('/').pop();
  return h.fake.responses.filter((r) => r.id === id).map((r) => String(r.body.text));
}

/** runs /vecgate-link as a Slack user and returns the sign-in URL from the ephemeral answer */
async function runLinkCommand(userId: string, teamId = TEAM): Promise<{ status: number; reply: string; url?: string }> {
  const responseUrl = h.fake.newResponseUrl();
  const res = await postSigned(h.eventsUrl, { body: commandBody(linkCommand({ teamId, userId, responseUrl, triggerId: h.fake.newTriggerId() })), signingSecret: SIGNING_SECRET });
  const reply = await eventually(() => replies(responseUrl)[0], 5000, 'the link reply');
  const match = /<([^|>]+)\|sign in here>/.exec(reply);
  return { status: res.status, reply, ...(match?.[1] ? { url: match[1].replace(/&amp;/g, '&') } : {}) };
}

async function approve(userId: string, approvalId: string) {
  const { state, message } = await h.openApproval({}, { approvalId });
  const responseUrl = h.fake.newResponseUrl();
  await postSigned(h.eventsUrl, {
    body: interactiveBody(buttonClick('approve', { teamId: TEAM, userId, approvalId: state.approvalId, channel: message.channel, messageTs: message.ts, actionTs: `${Date.now() / 1000}`, responseUrl, triggerId: h.fake.newTriggerId() })),
    signingSecret: SIGNING_SECRET,
  });
  return eventually(() => replies(responseUrl)[0], 5000, 'the approve reply');
}

describe('linking a Slack account through the OpenID provider (authorization code + PKCE)', () => {
  it('links an unlinked approver: /vecgate-link, sign-in, callback; then the approval counts', async () => {
    expect(await approve(SLACK_USERS.carol.id, 'appr-link-1')).toMatch(/not linked.*Run \/vecgate-link/);

    const { status, reply, url } = await runLinkCommand(SLACK_USERS.carol.id);
    expect(status).toBe(200);
    expect(reply).toMatch(/works once, for you only, within ten minutes/);
    const signInUrl = new URL(url as string);
    expect(signInUrl.origin).toBe(provider.issuer);
    expect(Object.fromEntries(signInUrl.searchParams)).toMatchObject({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: redirectUri, code_challenge_method: 'S256', scope: 'openid email groups' });

    const callback = await signIn(signInUrl.href, SLACK_USERS.carol.subject, redirectUri);
    const page = await fetch(callback);
    expect(page.status).toBe(200);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await page.text()).toContain('now linked to carol@example.test (groups: data-stewards, pii-readers)');

    const binding = await bindings.get(TEAM, SLACK_USERS.carol.id);
    expect(binding).toMatchObject({ teamId: TEAM, userId: SLACK_USERS.carol.id, subject: 'u-1003-carol', email: 'carol@example.test', groups: ['data-stewards', 'pii-readers'], source: 'link' });
    expect(Math.abs((binding?.groupsVerifiedAt ?? 0) - Date.now())).toBeLessThan(10_000);
    expect(await db.collection('slack_bindings').countDocuments({ teamId: TEAM, userId: SLACK_USERS.carol.id })).toBe(1);

    expect(await approve(SLACK_USERS.carol.id, 'appr-link-2')).toMatch(/Your approval counts/);
    expect(h.decider.received.at(-1)?.input.approver).toMatchObject({ subject: 'u-1003-carol', groups: ['data-stewards', 'pii-readers'], groupsVerifiedAt: binding?.groupsVerifiedAt });

    // the link worked once
    const again = await fetch(callback);
    expect(again.status).toBe(400);
    expect(await again.text()).toMatch(/unknown, already used or older than ten minutes/);
  });

  it('step-up: a review that needs a recent sign-in answers the click with a sign-in link (max_age); after the sign-in the approval counts', async () => {
    // carol is linked, with fresh groups, but signed in an hour ago
    const carol = SLACK_USERS.carol;
    await bindings.put({ teamId: TEAM, userId: carol.id, subject: carol.subject, email: carol.email, groups: [...carol.groups], groupsVerifiedAt: Date.now(), authTime: Date.now() - 60 * 60_000, source: 'link' });
    const { state, message } = await h.openApproval({}, { approvalId: 'appr-step-up', policy: { approverGroups: ['data-stewards'], required: 1, timeoutMs: 15 * 60_000, usableForMs: 10 * 60_000, reasonRequired: false, maxAuthAgeMs: 5 * 60_000 } });
    const responseUrl = h.fake.newResponseUrl();
    await postSigned(h.eventsUrl, {
      body: interactiveBody(buttonClick('approve', { teamId: TEAM, userId: SLACK_USERS.carol.id, approvalId: state.approvalId, channel: message.channel, messageTs: message.ts, actionTs: `${Date.now() / 1000}`, responseUrl, triggerId: h.fake.newTriggerId() })),
      signingSecret: SIGNING_SECRET,
    });
    const reply = await eventually(() => replies(responseUrl)[0], 5000, 'the step-up reply');
    expect(reply).toMatch(/signed in within the last 5 minutes: <[^|]+\|sign in here>.*Your approval is sent once you have signed in/);
    expect(h.decider.state(state.approvalId)).toMatchObject({ status: 'pending', refusals: [{ refusal: 'STEP_UP_REQUIRED' }] });
    const signInUrl = new URL((/<([^|>]+)\|sign in here>/.exec(reply)?.[1] as string).replace(/&amp;/g, '&'));
    expect(signInUrl.searchParams.get('max_age')).toBe('300');

    const page = await fetch(await signIn(signInUrl.href, SLACK_USERS.carol.subject, redirectUri));
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/Your approval counts: the request is approved/);
    const after = h.decider.state(state.approvalId);
    expect(after?.status).toBe('approved');
    expect(after?.decisions[0]?.decisionId).toMatch(/:after-sign-in$/);
    const authTime = after?.decisions[0]?.approver.authTime ?? 0;
    expect(Date.now() - authTime).toBeLessThan(60_000);
    expect((await bindings.get(TEAM, SLACK_USERS.carol.id))?.authTime).toBe(authTime);
  });

  it('refuses to bind a Slack account to an identity whose e-mail differs from the account’s', async () => {
    const { url } = await runLinkCommand(UNMAPPED_USER);
    const callback = await signIn(url as string, SLACK_USERS.carol.subject, redirectUri);

    const page = await fetch(callback);

    expect(page.status).toBe(403);
    expect(await page.text()).toMatch(/not the confirmed e-mail of the Slack account/);
    expect(await bindings.get(TEAM, UNMAPPED_USER)).toBeUndefined();
  });

  it('refuses a callback with an unknown state, and a cancelled sign-in', async () => {
    const unknown = await fetch(`${redirectUri}?code=abc&state=${'x'.repeat(43)}`);
    expect(unknown.status).toBe(400);

    const { url } = await runLinkCommand(SLACK_USERS.erin.id);
    const state = new URL(url as string).searchParams.get('state') as string;
    const cancelled = await fetch(`${redirectUri}?error=access_denied&state=${state}`);
    expect(cancelled.status).toBe(400);
    expect(await cancelled.text()).toMatch(/not completed \(access_denied\)/);
    expect(await bindings.get(TEAM, SLACK_USERS.erin.id)).toBeUndefined();
  });

  it('answers /vecgate-link from a foreign workspace with a refusal and no sign-in URL', async () => {
    const { reply, url } = await runLinkCommand(SLACK_USERS.carol.id, FOREIGN_TEAM);
    expect(url).toBeUndefined();
    expect(reply).toMatch(/cannot be linked/);
  });

  it('refuses a sign-in completed after the link expired (ten minutes)', async () => {
    const clock = new ManualClock(Date.now());
    const service = createLinkService(
      { oidc: { issuer: provider.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri }, states, bindings },
      { clock, logger: testLogger(), client: h.app.client, workspace: TEAM },
    );
    const { url, expiresAt } = await service.start({ teamId: TEAM, userId: SLACK_USERS.erin.id });
    expect(expiresAt).toBe(clock.now() + 10 * 60_000);
    const callback = new URL(await signIn(url, 'u-1002-bob', redirectUri));
    clock.advance(10 * 60_000 + 1);

    await expect(service.complete({ state: callback.searchParams.get('state') as string, code: callback.searchParams.get('code') as string })).rejects.toMatchObject({ code: 'LINK_STATE_INVALID' });
  });

  it('step-up: a sign-in whose auth_time is older than max_age allows is refused and sends no decision', async () => {
    const clock = new ManualClock(Date.now());
    const service = createLinkService(
      { oidc: { issuer: provider.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri }, states, bindings },
      { clock, logger: testLogger(), client: h.app.client, workspace: TEAM },
    );
    const { url } = await service.start({ teamId: TEAM, userId: SLACK_USERS.carol.id }, { maxAgeSeconds: 60, decision: { approvalId: 'appr-x', decision: 'approve', decisionId: 'd-x' } });
    const callback = new URL(await signIn(url, SLACK_USERS.carol.subject, redirectUri));
    clock.advance(3 * 60_000); // past max_age and the clock allowance, within the link's ten minutes

    await expect(service.complete({ state: callback.searchParams.get('state') as string, code: callback.searchParams.get('code') as string })).rejects.toMatchObject({
      code: 'LINK_SIGN_IN_FAILED',
      message: expect.stringMatching(/did not confirm a recent sign-in/),
    });
  });

  it('refuses groups older than maxGroupAgeMs with a re-link hint, and a new link makes them usable again', async () => {
    const clock = new ManualClock(Date.now());
    const directory = createApproverDirectory({ workspace: TEAM, store: bindings, maxGroupAgeMs: MAX_GROUP_AGE_MS, clock, linkCommand: '/vecgate-link' });
    const user = { teamId: TEAM, userId: SLACK_USERS.carol.id };
    expect((await directory.resolve(user)).ok).toBe(true); // linked in the first test

    clock.advance(MAX_GROUP_AGE_MS + 60_000);
    const stale = await directory.resolve(user);
    expect(stale).toEqual({ ok: false, reason: 'STALE_GROUPS', message: expect.stringMatching(/Run \/vecgate-link to sign in again/) as string });

    const { url } = await runLinkCommand(SLACK_USERS.carol.id);
    expect((await fetch(await signIn(url as string, SLACK_USERS.carol.subject, redirectUri))).status).toBe(200);
    clock.set(Date.now());
    expect(await directory.resolve(user)).toMatchObject({ ok: true, approver: { subject: 'u-1003-carol' } });
  });
});

describe('the OpenID relying party', () => {
  async function codeFor(verifier: string, nonce: string) {
    const rp = createOidcRelyingParty({ issuer: provider.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri }, { clock: { now: () => Date.now() } });
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const url = await rp.authorizationUrl({ state: 'some-state', nonce, codeChallenge: challenge });
    const code = new URL(await signIn(url, 'u-1002-bob', redirectUri)).searchParams.get('code') as string;
    return { rp, code };
  }

  it('redeems a code with the PKCE verifier it was started with', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const { rp, code } = await codeFor(verifier, 'nonce-1');
    expect(await rp.redeem({ code, codeVerifier: verifier, nonce: 'nonce-1' })).toMatchObject({ sub: 'u-1002-bob', email: 'bob@example.test', groups: ['analysts'], aud: CLIENT_ID });
  });

  it('cannot redeem a code with another PKCE verifier (an intercepted code is useless)', async () => {
    const { rp, code } = await codeFor(randomBytes(32).toString('base64url'), 'nonce-2');
    await expect(rp.redeem({ code, codeVerifier: randomBytes(32).toString('base64url'), nonce: 'nonce-2' })).rejects.toMatchObject({ code: 'LINK_SIGN_IN_FAILED' });
  });

  it('refuses an ID token issued for another sign-in (nonce)', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const { rp, code } = await codeFor(verifier, 'nonce-3');
    await expect(rp.redeem({ code, codeVerifier: verifier, nonce: 'another-nonce' })).rejects.toMatchObject({ code: 'LINK_TOKEN_INVALID' });
  });

  it('refuses an ID token checked at a time after it expired', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const { code } = await codeFor(verifier, 'nonce-4');
    const late = createOidcRelyingParty({ issuer: provider.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri }, { clock: { now: () => Date.now() + 24 * 3600_000 } });
    await expect(late.redeem({ code, codeVerifier: verifier, nonce: 'nonce-4' })).rejects.toMatchObject({ code: 'LINK_TOKEN_INVALID' });
  });
});

describe('MongoDB stores', () => {
  it('keeps one binding per workspace and user (unique index), replacing on put', async () => {
    const base = { teamId: TEAM, userId: 'U0MONGO', subject: 's-1', groups: ['a'], groupsVerifiedAt: 1, source: 'config' as const };
    await bindings.put(base);
    await bindings.put({ ...base, subject: 's-2', groups: ['b'], groupsVerifiedAt: 2 });
    expect(await bindings.get(TEAM, 'U0MONGO')).toEqual({ ...base, subject: 's-2', groups: ['b'], groupsVerifiedAt: 2 });
    expect(await db.collection('slack_bindings').countDocuments({ userId: 'U0MONGO' })).toBe(1);
    await expect(db.collection('slack_bindings').insertOne({ ...base })).rejects.toMatchObject({ code: 11000 });
    await bindings.remove(TEAM, 'U0MONGO');
    expect(await bindings.get(TEAM, 'U0MONGO')).toBeUndefined();
  });

  it('hands a link state out once, never after it expires, and stores only its hash', async () => {
    const link = { teamId: TEAM, userId: 'U0STATE', codeVerifier: 'v', nonce: 'n', createdAt: 1_000, expiresAt: 2_000 };
    await states.save('state-one', link);
    await states.save('state-two', link);
    expect(await db.collection('slack_link_states').countDocuments({ stateHash: 'state-one' })).toBe(0);
    expect(await states.take('state-one', 1_500)).toEqual(link);
    expect(await states.take('state-one', 1_500)).toBeUndefined();
    expect(await states.take('state-two', 2_000)).toBeUndefined();
  });
});

describe('the link callback in Socket Mode', () => {
  it('is served on its own HTTP server next to the WebSocket connection', async () => {
    const socketApp = await startHarness({ mode: 'socket', seedBindings: false, bindings, link: { oidc: { issuer: provider.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri }, states, bindings } });
    try {
      const base = socketApp.app.url() as string;
      expect((await fetch(`${base}/slack/link/callback?state=nope&code=x`)).status).toBe(400);
      expect((await fetch(`${base}/slack/events`, { method: 'POST' })).status).toBe(404);
    } finally {
      await socketApp.close();
    }
  });
});

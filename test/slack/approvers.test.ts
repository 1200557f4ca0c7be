import { webApi } from '@slack/bolt';
import { createApproverDirectory, type IdentityByEmail } from '../../slack-app/approvers/approver-directory';
import { createMemoryBindingStore } from '../../slack-app/approvers/bindings';
import { boltLoggerFrom } from '../../slack-app/bolt-logger';
import { ManualClock } from './support/approvals';
import { FakeSlack } from '../../src/devstack/fake-slack';
import { BOT_TOKEN, FOREIGN_TEAM, TEAM, testLogger } from './support/harness';

const DAY = 24 * 60 * 60 * 1000;
const T0 = Date.UTC(2030, 0, 1);

const directoryByEmail: IdentityByEmail = {
  find: (email) =>
    Promise.resolve(email === 'grace@example.test' ? { subject: 'u-2001-grace', email, groups: ['data-stewards'], groupsVerifiedAt: T0 } : undefined),
};

let fake: FakeSlack;
let client: webApi.WebClient;

beforeAll(async () => {
  fake = await FakeSlack.start({
    teamId: TEAM,
    botToken: BOT_TOKEN,
    users: [
      { id: 'U0GRACE', teamId: TEAM, name: 'grace', email: 'Grace@Example.test' },
      { id: 'U0UNCONF', teamId: TEAM, name: 'unconfirmed', email: 'grace@example.test', emailConfirmed: false },
      { id: 'U0GUEST', teamId: TEAM, name: 'guest', email: 'grace@example.test', isRestricted: true },
      { id: 'U0GONE', teamId: TEAM, name: 'gone', email: 'grace@example.test', deleted: true },
      { id: 'U0OTHER', teamId: TEAM, name: 'other', email: 'other@example.test' },
    ],
  });
  client = new webApi.WebClient(BOT_TOKEN, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, logger: boltLoggerFrom(testLogger()) });
});

afterAll(async () => {
  await fake.stop();
});

describe('ApproverDirectory', () => {
  const carol = { teamId: TEAM, userId: 'U0CAROL', subject: 'u-1003-carol', email: 'carol@example.test', groups: ['data-stewards'] };
  const staticCarol = { ...carol, verifiedAt: T0 };

  it('resolves a static binding with groupsVerifiedAt = the verifiedAt written in the configuration', async () => {
    const clock = new ManualClock(T0 + 1000);
    const directory = createApproverDirectory({ workspace: TEAM, staticBindings: [staticCarol], maxGroupAgeMs: DAY, clock });
    expect(await directory.resolve({ teamId: TEAM, userId: 'U0CAROL' })).toEqual({
      ok: true,
      binding: { ...carol, groupsVerifiedAt: T0, source: 'config' },
      approver: { subject: 'u-1003-carol', email: 'carol@example.test', groups: ['data-stewards'], via: 'slack', slackTeamId: TEAM, slackUserId: 'U0CAROL', groupsVerifiedAt: T0 },
    });
  });

  it('prefers the binding whose groups were confirmed last (a new link over an old configuration)', async () => {
    const clock = new ManualClock(T0 + 2 * DAY);
    const store = createMemoryBindingStore([{ ...carol, groups: ['data-stewards', 'security'], groupsVerifiedAt: T0 + 2 * DAY - 60_000, source: 'link' }]);
    const directory = createApproverDirectory({ workspace: TEAM, staticBindings: [staticCarol], store, maxGroupAgeMs: DAY, clock });
    expect(await directory.resolve({ teamId: TEAM, userId: 'U0CAROL' })).toMatchObject({ ok: true, binding: { source: 'link' }, approver: { groups: ['data-stewards', 'security'] } });
  });

  it.each([
    ['a user id bound in another workspace', FOREIGN_TEAM, 'U0CAROL', 'FOREIGN_WORKSPACE'],
    ['an unbound user', TEAM, 'U0NOBODY', 'UNMAPPED_USER'],
  ])('refuses %s', async (_what, teamId, userId, reason) => {
    const directory = createApproverDirectory({ workspace: TEAM, staticBindings: [staticCarol], maxGroupAgeMs: DAY, clock: new ManualClock(T0) });
    expect(await directory.resolve({ teamId, userId })).toMatchObject({ ok: false, reason });
  });

  it.each([
    [DAY, true],
    [DAY + 1, false],
  ])('with groups %d ms old, accepts: %s', async (age, ok) => {
    const directory = createApproverDirectory({ workspace: TEAM, staticBindings: [staticCarol], maxGroupAgeMs: DAY, clock: new ManualClock(T0 + age) });
    const lookup = await directory.resolve({ teamId: TEAM, userId: 'U0CAROL' });
    expect(lookup.ok).toBe(ok);
    if (!lookup.ok) expect(lookup).toMatchObject({ reason: 'STALE_GROUPS', message: expect.stringMatching(/Ask the vecgate operators to refresh your binding/) as string });
  });

  it('does not match by e-mail unless enabled', async () => {
    const directory = createApproverDirectory({ workspace: TEAM, maxGroupAgeMs: DAY, clock: new ManualClock(T0) });
    const calls = fake.calls.length;
    expect(await directory.resolve({ teamId: TEAM, userId: 'U0GRACE' })).toMatchObject({ ok: false, reason: 'UNMAPPED_USER' });
    expect(fake.calls.length).toBe(calls);
  });

  it.each([
    ['a confirmed e-mail of a full member', 'U0GRACE', true],
    ['an unconfirmed e-mail', 'U0UNCONF', false],
    ['a guest', 'U0GUEST', false],
    ['a deactivated account', 'U0GONE', false],
    ['an e-mail the directory does not know', 'U0OTHER', false],
    ['a user Slack does not know', 'U0MISSING', false],
  ])('with e-mail matching enabled, resolves %s: %s', async (_what, userId, ok) => {
    const directory = createApproverDirectory({ workspace: TEAM, maxGroupAgeMs: DAY, clock: new ManualClock(T0), emailMatching: { client, identities: directoryByEmail } });
    const lookup = await directory.resolve({ teamId: TEAM, userId });
    expect(lookup.ok).toBe(ok);
    if (lookup.ok) expect(lookup).toMatchObject({ binding: { source: 'email', subject: 'u-2001-grace' }, approver: { groupsVerifiedAt: T0 } });
  });

  it('refuses bad configuration with an error naming the key', () => {
    expect(() => createApproverDirectory({ workspace: TEAM, maxGroupAgeMs: 0, clock: new ManualClock(T0) })).toThrow(/maxGroupAgeMs/);
  });

  // THREATS 36: a restart is no confirmation of anyone's groups
  it.each<[string, number | undefined, number, boolean]>([
    ['dated now', T0, T0, true],
    ['dated within maxGroupAgeSeconds', T0, T0 + DAY, true],
    ['dated longer ago, however recently the worker started', T0, T0 + DAY + 1, false],
    ['not dated at all (stale until someone writes verifiedAt)', undefined, T0, false],
  ])('a static binding %s decides: %s', async (_what, verifiedAt, now, ok) => {
    const directory = createApproverDirectory({ workspace: TEAM, staticBindings: [{ ...carol, ...(verifiedAt !== undefined ? { verifiedAt } : {}) }], maxGroupAgeMs: DAY, clock: new ManualClock(now) });
    const lookup = await directory.resolve({ teamId: TEAM, userId: 'U0CAROL' });
    expect(lookup.ok).toBe(ok);
    if (!lookup.ok) expect(lookup.message).toMatch(verifiedAt === undefined ? /never confirmed \(a configured binding without verifiedAt\)/ : /last confirmed 1 days? ago|last confirmed 24 hours ago/);
  });

  it('tells the workflow every other identity the Slack user is bound to, so a second account of the requester is self-approval', async () => {
    const store = createMemoryBindingStore([{ ...carol, subject: 'u-1009-carol-admin', email: 'Carol.Admin@example.test', groupsVerifiedAt: T0, source: 'link' }]);
    const directory = createApproverDirectory({ workspace: TEAM, staticBindings: [{ ...carol, verifiedAt: T0 - 1000 }], store, maxGroupAgeMs: DAY, clock: new ManualClock(T0) });
    expect(await directory.resolve({ teamId: TEAM, userId: 'U0CAROL' })).toMatchObject({
      ok: true,
      approver: { subject: 'u-1009-carol-admin', otherBindings: [{ subject: 'u-1003-carol', email: 'carol@example.test' }] },
    });
  });
});

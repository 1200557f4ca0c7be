import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ChromaClient } from 'chromadb';
import pino from 'pino';
import { startBackOffice, type BackOffice } from '../../src/approval/back-office';
import { APPROVAL_WORKFLOWS_PATH } from '../../src/approval/worker';
import { systemClock } from '../../src/clock';
import { configSchema } from '../../src/config/schema';
import { FakeSlack } from '../../src/devstack/fake-slack';
import { startTestGateway, type TestGateway } from './support/gateway';
import { eventually } from './support/eventually';
import { makeTestDecider } from '../support/decider';
import { testStack, tokenFor } from '../support/stack';

const NO_EMBEDDING = null as unknown as undefined;
const TEAM = 'T0VECGATE';
const CHANNEL = 'C0APPROVALS';
const BOT_TOKEN = 'xoxb-1111-2222-approvals-view';
const SIGNING_SECRET = 'e2e-signing-secret-approvals-view-0123';
const CAROL = { userId: 'U0CAROL', subject: 'u-1003-carol', email: 'carol@example.test', groups: ['data-stewards'] };
const DECIDER = makeTestDecider();
const MAX_NEW = 3;

type View = { status: string; reason?: string; rendering?: { text: string; truncated: boolean } };

/** every mrkdwn text of a message's blocks */
function mrkdwnTexts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(mrkdwnTexts);
  if (typeof value !== 'object' || value === null) return [];
  const node = value as { type?: unknown; text?: unknown };
  const own = node.type === 'mrkdwn' && typeof node.text === 'string' ? [node.text] : [];
  return [...own, ...Object.values(value).flatMap(mrkdwnTexts)];
}

/** the code block Slack shows the request in */
function codeBlock(blocks: unknown): string | undefined {
  const text = mrkdwnTexts(blocks).find((t) => t.includes('```'));
  return text?.slice(text.indexOf('```\n') + 4, text.lastIndexOf('\n```'));
}

/**
 * THREATS 34: approvers see what they approve. A held request reaches Slack and the approval API as
 * it will run (filters, bounds, ids), masked, apart from the requester's own words; and one
 * requester cannot bury approvers under new asks.
 */
describe('approvers see the request as it will run, and new asks are limited', () => {
  let slack: FakeSlack;
  let office: BackOffice;
  let gw: TestGateway;
  let temporal: Connection;
  let alice: string;
  let bob: string;
  let carol: string;
  let collectionId = '';
  const taskQueue = `approvals-view-${randomBytes(4).toString('hex')}`;
  const name = `docs-view-${randomBytes(3).toString('hex')}`;
  const approval = { approverGroups: ['data-stewards'], timeoutSeconds: 600, usableForSeconds: 60, reasonRequired: false };
  const rules = [
    { id: 'everyone-meta', groups: ['*'], operations: ['meta'], effect: 'allow' },
    { id: 'stewards-manage', groups: ['data-stewards'], collections: ['docs-*'], operations: ['*'], effect: 'allow' },
    { id: 'bulk-review', groups: ['data-scientists', 'analysts'], collections: ['docs-*'], operations: ['export', 'delete'], effect: 'review', approval },
  ];
  const approvals = (apiUrl: string) => ({
    temporal: { address: testStack().temporalAddress, namespace: 'default', taskQueue },
    deciderPublicKeys: [DECIDER.publicKeyPem],
    holdSeconds: 0,
    maxNewPerRequester: { count: MAX_NEW, seconds: 3600 },
    slack: { mode: 'http', workspace: TEAM, channel: CHANNEL, channelName: '#data-approvals', apiUrl, listen: { port: 0 }, bindings: [{ ...CAROL, verifiedAt: new Date().toISOString() }] },
  });

  beforeAll(async () => {
    slack = await FakeSlack.start({ teamId: TEAM, botToken: BOT_TOKEN, channels: [CHANNEL], users: [{ id: CAROL.userId, teamId: TEAM, name: 'carol', email: CAROL.email }] });
    const config = configSchema.parse({
      identity: { issuer: testStack().oidcIssuer, audience: 'vecgate' },
      connections: [{ name: 'demo', dialect: 'chroma', upstream: testStack().chromaUrl }],
      policy: { rules },
      audit: { mongodbUri: testStack().mongoUri, database: `vecgate_view_${randomBytes(3).toString('hex')}` , spool: { dir: mkdtempSync(join(tmpdir(), 'vecgate-office-')) }, leaseSeconds: 3 },
      approvals: approvals(slack.apiUrl),
    });
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: APPROVAL_WORKFLOWS_PATH, logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} } as never });
    office = await startBackOffice({ config, secrets: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, decisionSigningKey: DECIDER.privateKeyPem }, clock: systemClock, logger: pino({ level: 'silent' }), workflowBundle });
    gw = await startTestGateway({
      policy: rules,
      approvals: approvals(slack.apiUrl),
      // the approver (carol) is a pii-reader, exempt as a caller; approvers see masked values all the same
      masking: { rules: [{ id: 'pii', collections: ['docs-*'], detectors: ['email'], exemptGroups: ['pii-readers'] }] },
    });
    temporal = await Connection.connect({ address: testStack().temporalAddress });
    [alice, bob, carol] = await Promise.all([tokenFor('alice'), tokenFor('bob'), tokenFor('carol')]);
    const c = await new ChromaClient({ host: gw.host, port: gw.port, headers: { authorization: `Bearer ${carol}` } }).createCollection({ name, embeddingFunction: NO_EMBEDDING });
    await c.add({ ids: ['t1', 't2', 't3', 'p1'], embeddings: [[1, 0], [0, 1], [1, 1], [2, 2]], documents: ['test', 'test', 'test', 'production'], metadatas: [{ kind: 'test' }, { kind: 'test' }, { kind: 'test' }, { kind: 'customer' }] });
    collectionId = c.id;
  }, 120_000);

  afterAll(async () => {
    await gw?.close();
    await office?.stop();
    await temporal?.close();
    await slack?.stop();
  });

  const send = (token: string, op: 'delete' | 'get', body: unknown, reason?: string) =>
    fetch(`${gw.url}/api/v2/tenants/default_tenant/databases/default_database/collections/${collectionId}/${op}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(reason ? { 'x-vecgate-reason': reason } : {}) },
      body: JSON.stringify(body),
    });
  const approvalIdOf = async (res: Response) => /approval (vecgate-[0-9a-f]{40})/.exec(((await res.json()) as { message: string }).message)?.[1] as string;
  const postedFor = (approvalId: string) =>
    eventually(`the Slack message of ${approvalId}`, 10_000, () => slack.messages(CHANNEL).find((m) => m.metadata?.event_payload.approval_id === approvalId), 50);
  const viewAs = (token: string, approvalId: string) => fetch(`${gw.url}/vecgate/approvals/${approvalId}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json() as Promise<View>);

  test('a delete of everything, presented as "remove 3 test rows", shows approvers its where filter verbatim', async () => {
    const where = { kind: { $ne: '__no_such_kind__' } };
    const res = await send(alice, 'delete', { where }, 'remove 3 test rows');
    expect(res.status).toBe(403);
    expect(res.headers.get('x-vecgate-error')).toBe('APPROVAL_PENDING');
    const approvalId = await approvalIdOf(res);

    const posted = await postedFor(approvalId);
    const shown = codeBlock(posted.blocks);
    expect(shown).toBe(`POST /api/v2/tenants/default_tenant/databases/default_database/collections/${collectionId}/delete\nwhere: {"kind": {"$ne": "__no_such_kind__"}}`);
    // the reason stays the requester's claim, outside the rendering
    expect(mrkdwnTexts(posted.blocks)).toContain("*Requester's reason (their claim, unchecked)*\nremove 3 test rows");

    for (const token of [alice, carol]) {
      const view = await viewAs(token, approvalId);
      expect(view.rendering).toEqual({ text: shown, truncated: false });
      expect(view.reason).toBe('remove 3 test rows');
    }
  });

  test('approvers see personal data in the request masked, even those exempt as callers', async () => {
    const res = await send(alice, 'get', { where: { owner: 'dora.customer@example.com' }, limit: 5 });
    const approvalId = await approvalIdOf(res);
    const shown = codeBlock((await postedFor(approvalId)).blocks);
    expect(shown).toContain('where: {"owner": "[EMAIL]"}\nlimit: 5');
    expect(JSON.stringify((await postedFor(approvalId)).blocks)).not.toContain('dora.customer');
    const view = await viewAs(carol, approvalId);
    expect(view.rendering?.text).toBe(shown);
  });

  test(`one requester opens at most ${MAX_NEW} new approvals an hour; retries of a waiting request and other requesters go on`, async () => {
    const ask = (token: string, n: number) => send(token, 'get', { limit: n }, `sample ${n}`);
    const first: string[] = [];
    for (let n = 1; n <= MAX_NEW; n++) {
      const res = await ask(bob, n);
      expect(res.headers.get('x-vecgate-error')).toBe('APPROVAL_PENDING');
      first.push(await approvalIdOf(res));
    }
    // the count comes from Temporal's visibility store, which trails the starts a little
    const client = new Client({ connection: temporal, namespace: 'default' });
    await eventually('bob\'s approvals are visible', 10_000, async () => {
      const { count } = await client.workflow.count(`TaskQueue = '${taskQueue}' AND VecgateRequester = 'u-1002-bob'`);
      return count >= MAX_NEW ? true : undefined;
    });

    const refused = await ask(bob, MAX_NEW + 1);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-vecgate-error')).toBe('APPROVAL_RATE_LIMITED');
    const { message } = (await refused.json()) as { message: string };
    expect(message).toMatch(/at most 3 are allowed\. Retry after \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/);

    // the same request again joins its waiting approval: not a new ask
    const retry = await ask(bob, 1);
    expect(retry.headers.get('x-vecgate-error')).toBe('APPROVAL_PENDING');
    expect(await approvalIdOf(retry)).toBe(first[0]);

    // another requester is not limited by bob's asks
    const other = await send(alice, 'get', { limit: 99 }, 'another requester');
    expect(other.headers.get('x-vecgate-error')).toBe('APPROVAL_PENDING');

    const events = await gw.events({ 'error.code': 'APPROVAL_RATE_LIMITED' });
    expect(events.map((e) => [e.status, e.principal?.subject])).toEqual([[429, 'u-1002-bob']]);
  });
});

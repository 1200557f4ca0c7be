import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { AuditEvent } from '../../src/audit/event';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ChromaClient } from 'chromadb';
import pino from 'pino';
import { startBackOffice, type BackOffice } from '../../src/approval/back-office';
import { APPROVAL_WORKFLOWS_PATH } from '../../src/approval/worker';
import { approvalIdOf, fingerprintOf } from '../../src/approval/gate';
import { decide as sendDecision, startOrGetApproval } from '../../src/approval/temporal-client';
import { decideUpdate } from '../../workflows/approval-contract';
import { systemClock } from '../../src/clock';
import { configSchema } from '../../src/config/schema';
import { EVENTS_PATH } from '../../slack-app';
import { FakeSlack } from '../../src/devstack/fake-slack';
import { buttonClick, denyReasonSubmission } from '../slack/support/payloads';
import { interactiveBody, postSigned } from '../../src/devstack/slack-signing';
import { startTestGateway, TEST_RULES, type TestGateway } from './support/gateway';
import { eventually } from './support/eventually';
import { startTap, type Tap } from './support/tap';
import { makeTestDecider } from '../support/decider';
import { testStack, tokenFor } from '../support/stack';

const NO_EMBEDDING = null as unknown as undefined;
type View = { status: string; decisions: Array<{ by: string }>; execution?: { status: number; bytes: number } };
const TEAM = 'T0VECGATE';
const CHANNEL = 'C0APPROVALS';
const BOT_TOKEN = 'xoxb-1111-2222-approvals';
const SIGNING_SECRET = 'e2e-signing-secret-0123456789abcdef';
const CAROL = { userId: 'U0CAROL', subject: 'u-1003-carol', email: 'carol@example.test', groups: ['data-stewards'] };
const DECIDER = makeTestDecider();

/**
 * The whole approval path on real servers: the chromadb client's bulk export is held by the
 * gateway, a Temporal workflow (dev server) posts to Slack (a local fake of its Web API), an
 * approver clicks (a payload signed as Slack signs it) and the export runs once with real data.
 */
describe('high-risk requests wait for approval in Slack', () => {
  let slack: FakeSlack;
  let office: BackOffice;
  let gw: TestGateway;
  let tap: Tap;
  let alice: string;
  let temporalConnection: Connection;
  let temporal: Client;
  const taskQueue = `approvals-${randomBytes(4).toString('hex')}`;
  const name = `docs-held-${randomBytes(3).toString('hex')}`;
  const rules = TEST_RULES.map((r) => (r.id === 'scientists-bulk-review' ? { ...r, approval: { approverGroups: ['data-stewards'], timeoutSeconds: 10, usableForSeconds: 60, reasonRequired: true } } : r));
  const approvalsConfig = (holdSeconds: number) => ({
    temporal: { address: testStack().temporalAddress, namespace: 'default', taskQueue },
    deciderPublicKeys: [DECIDER.publicKeyPem],
    holdSeconds,
    slack: {
      mode: 'http',
      workspace: TEAM,
      channel: CHANNEL,
      channelName: '#data-approvals',
      apiUrl: '',
      listen: { port: 0 },
      bindings: [{ userId: CAROL.userId, subject: CAROL.subject, email: CAROL.email, groups: CAROL.groups, verifiedAt: new Date().toISOString() }],
    },
  });

  // the worker's own audit chain: approvers' clicks are events there
  const officeDatabase = `vecgate_e2e_${randomBytes(3).toString('hex')}`;
  const workerEvents = async (filter: Record<string, unknown>) => {
    const mongo = await MongoClient.connect(testStack().mongoUri);
    try {
      return await mongo.db(officeDatabase).collection<AuditEvent>('audit_events').find(filter).toArray();
    } finally {
      await mongo.close();
    }
  };

  beforeAll(async () => {
    slack = await FakeSlack.start({ teamId: TEAM, botToken: BOT_TOKEN, channels: [CHANNEL], users: [{ id: CAROL.userId, teamId: TEAM, name: 'carol', email: CAROL.email }] });
    const approvals = { ...approvalsConfig(3), slack: { ...approvalsConfig(3).slack, apiUrl: slack.apiUrl } };
    const config = configSchema.parse({
      identity: { issuer: testStack().oidcIssuer, audience: 'vecgate' },
      connections: [{ name: 'demo', dialect: 'chroma', upstream: testStack().chromaUrl }],
      policy: { rules },
      audit: { mongodbUri: testStack().mongoUri, database: officeDatabase, spool: { dir: mkdtempSync(join(tmpdir(), 'vecgate-office-')) }, leaseSeconds: 3 },
      approvals,
    });
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: APPROVAL_WORKFLOWS_PATH, logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} } as never });
    office = await startBackOffice({ config, secrets: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, decisionSigningKey: DECIDER.privateKeyPem }, clock: systemClock, logger: pino({ level: 'silent' }), workflowBundle });
    tap = await startTap(testStack().chromaUrl);
    gw = await startTestGateway({ upstream: tap.url, policy: rules, approvals });
    alice = await tokenFor('alice');
    temporalConnection = await Connection.connect({ address: testStack().temporalAddress });
    temporal = new Client({ connection: temporalConnection, namespace: 'default' });
    const carol = new ChromaClient({ host: gw.host, port: gw.port, headers: { authorization: `Bearer ${await tokenFor('carol')}` } });
    const c = await carol.createCollection({ name, embeddingFunction: NO_EMBEDDING });
    await c.add({ ids: ['e1', 'e2'], embeddings: [[1, 0], [0, 1]], documents: ['one', 'two'] });
    cachedId = c.id;
  }, 120_000);

  afterAll(async () => {
    await temporalConnection?.close();
    await gw?.close();
    await office?.stop();
    await tap?.close();
    await slack?.stop();
  });

  const exportAll = (reason?: string) =>
    new ChromaClient({ host: gw.host, port: gw.port, headers: { authorization: `Bearer ${alice}`, ...(reason ? { 'x-vecgate-reason': reason } : {}) } })
      .getCollection({ name, embeddingFunction: NO_EMBEDDING })
      .then((c) => c.get());
  /** the exports the upstream ran since `before` (the gateway may also list collections to check a name again) */
  const exportsSince = (before: number) => tap.seen.slice(before).filter((r) => r.url.endsWith('/get'));
  const rawExport = (reason: string, body = '{}') =>
    fetch(`${gw.url}/api/v2/tenants/default_tenant/databases/default_database/collections/${collectionId()}/get`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json', 'x-vecgate-reason': reason },
      body,
    });
  let cachedId = '';
  const collectionId = () => cachedId;

  const approvalMessage = (approvalId: string) =>
    eventually(`the Slack message of ${approvalId}`, 10_000, () => slack.messages(CHANNEL).find((msg) => msg.metadata?.event_payload.approval_id === approvalId), 50);
  const messagesOf = (approvalId: string) => slack.messages(CHANNEL).filter((m) => m.metadata?.event_payload.approval_id === approvalId);
  const stateOf = (approvalId: string) => fetch(`${gw.url}/vecgate/approvals/${approvalId}`, { headers: { authorization: `Bearer ${alice}` } }).then((r) => r.json() as Promise<View>);
  /** the approval reaches `status`, as the gateway's approval API tells its requester */
  const reaches = (approvalId: string, status: string, timeoutMs: number) =>
    eventually(`approval ${approvalId} ${status}`, timeoutMs, async () => {
      const v = await stateOf(approvalId);
      return v.status === status ? v : undefined;
    });
  /** the message was edited at least once after it was posted */
  const edited = (approvalId: string) => eventually(`an edit of the message of ${approvalId}`, 10_000, async () => ((await approvalMessage(approvalId)).updates > 0 ? true : undefined));
  const click = (kind: 'approve' | 'deny', approvalId: string, ts: string) =>
    postSigned(`${office.slackUrl}${EVENTS_PATH}`, {
      signingSecret: SIGNING_SECRET,
      body: interactiveBody(buttonClick(kind, { teamId: TEAM, userId: CAROL.userId, approvalId, channel: CHANNEL, messageTs: ts, actionTs: `${Date.now() / 1000}`, responseUrl: slack.newResponseUrl(), triggerId: slack.newTriggerId() })),
    });

  test('without a reason the export is refused with a message every client shows (400)', async () => {
    await expect(exportAll()).rejects.toThrow(/X-Vecgate-Reason/);
  });

  test('an export is held, approved in Slack, and then runs once with real data', async () => {
    cachedId = (await new ChromaClient({ host: gw.host, port: gw.port, headers: { authorization: `Bearer ${alice}` } }).getCollection({ name, embeddingFunction: NO_EMBEDDING })).id;
    const first = await rawExport('quarterly audit sample');
    expect(first.status).toBe(403);
    expect(first.headers.get('x-vecgate-error')).toBe('APPROVAL_PENDING');
    const { message } = (await first.json()) as { message: string };
    const approvalId = /approval (vecgate-[0-9a-f]{40})/.exec(message)?.[1] as string;
    expect(message).toContain('#data-approvals');
    expect(message).toContain('Retry the same request after it is approved');

    const posted = await approvalMessage(approvalId);
    expect(JSON.stringify(posted.blocks)).toContain('quarterly audit sample');
    expect((await stateOf(approvalId)).status).toBe('pending');

    const before = tap.seen.length;
    const clicked = await click('approve', approvalId, posted.ts);
    expect(clicked.status).toBe(200);

    // the retry runs it and returns the real records
    const retry = await rawExport('quarterly audit sample');
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as { ids: string[] }).ids.sort()).toEqual(['e1', 'e2']);
    expect(exportsSince(before)).toHaveLength(1);

    const events = await gw.events({ 'approval.approvalId': approvalId });
    expect(events.map((e) => [e.status, e.error?.code ?? 'ok'])).toEqual([[403, 'APPROVAL_PENDING'], [200, 'ok']]);
    expect(events[1]?.approval?.grantId).toBeTruthy();
    // both events name the workflow run: the refusal while pending and the approved execution
    expect(events.map((e) => e.approval?.runId)).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/), events[0]?.approval?.runId]);
    const final = await reaches(approvalId, 'executed', 5_000);
    expect(final.execution).toMatchObject({ status: 200, bytes: expect.any(Number) });
    expect(final.decisions).toEqual([expect.objectContaining({ by: CAROL.email, decision: 'approve' })]);
    // the click is an event of the worker's audit chain, beside the requests'
    const clicks = await eventually('the decision in the worker\'s audit trail', 10_000, async () => {
      const found = await workerEvents({ 'request.endpoint': 'slack.decision', 'approval.approvalId': approvalId });
      return found.length > 0 ? found : undefined;
    });
    expect(clicks).toEqual([expect.objectContaining({ principal: expect.objectContaining({ subject: CAROL.subject }), decision: expect.objectContaining({ effect: 'allow' }), status: 200 })]);
    expect(clicks[0]?.instanceId).toMatch(/^worker-/);

    // a second identical request is a new ask: the grant was single-use
    const again = await rawExport('quarterly audit sample');
    expect(again.headers.get('x-vecgate-error')).toBe('APPROVAL_PENDING');
    expect(/approval (vecgate-[0-9a-f]{40})/.exec(((await again.json()) as { message: string }).message)?.[1]).toBe(approvalId);
    // ...with a message of its own, so approvers see the new ask
    await eventually('the second message', 5_000, () => (messagesOf(approvalId).length >= 2 ? true : undefined), 50);
    expect(messagesOf(approvalId)).toHaveLength(2);
    expect(exportsSince(before)).toHaveLength(1);
    // the Slack message was edited to show the outcome
    expect(await edited(approvalId)).toBe(true);
  });

  test('an approval given while the request is held releases it at once', async () => {
    const pending = rawExport('held and approved', '{"limit": 5}');
    const posted = await eventually('the held request\'s message', 5_000, () => slack.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes('held and approved')), 50);
    const approvalId = String(posted.metadata?.event_payload.approval_id);
    await click('approve', approvalId, posted.ts);
    const res = await pending;
    expect(res.status).toBe(200);
  });

  test('a denial in Slack is final and the caller learns who denied and why', async () => {
    const first = await rawExport('deny me', '{"limit": 1}');
    const approvalId = /approval (vecgate-[0-9a-f]{40})/.exec(((await first.json()) as { message: string }).message)?.[1] as string;
    const posted = await approvalMessage(approvalId);
    const opened = slack.views.length;
    await click('deny', approvalId, posted.ts);
    const view = await eventually('the deny modal', 3_000, () => (slack.views.length > opened ? (slack.views.at(-1) as { id: string; view: { private_metadata?: string } }) : undefined), 30);
    const submitted = await postSigned(`${office.slackUrl}${EVENTS_PATH}`, {
      signingSecret: SIGNING_SECRET,
      body: interactiveBody(denyReasonSubmission({ teamId: TEAM, userId: CAROL.userId, viewId: view.id, privateMetadata: view.view.private_metadata ?? '', reason: 'not for this quarter', triggerId: slack.newTriggerId() } as never)),
    });
    expect(submitted.status).toBe(200);
    const before = tap.seen.length;
    const retry = await rawExport('deny me', '{"limit": 1}');
    expect(retry.status).toBe(403);
    expect(retry.headers.get('x-vecgate-error')).toBe('APPROVAL_DENIED');
    expect(((await retry.json()) as { message: string }).message).toContain('not for this quarter');
    expect(exportsSince(before)).toEqual([]);
  });

  test('no decision before the deadline: expired, nothing executed', async () => {
    const first = await rawExport('let it expire', '{"limit": 2}');
    const approvalId = /approval (vecgate-[0-9a-f]{40})/.exec(((await first.json()) as { message: string }).message)?.[1] as string;
    await approvalMessage(approvalId);
    expect((await reaches(approvalId, 'expired', 20_000)).status).toBe('expired');
    expect(await edited(approvalId)).toBe(true);
  }, 40_000);

  test('THREATS 35: a decision sent straight to Temporal by an invented approver is refused, and the retry stays pending', async () => {
    const first = await rawExport('forged approval', '{"limit": 4}');
    expect(first.headers.get('x-vecgate-error')).toBe('APPROVAL_PENDING');
    const approvalId = /approval (vecgate-[0-9a-f]{40})/.exec(((await first.json()) as { message: string }).message)?.[1] as string;
    // what anyone who reaches Temporal can do: `temporal workflow update execute --name decide`
    const forged = await temporal.workflow.getHandle(approvalId).executeUpdate(decideUpdate, {
      args: [{ decisionId: 'forged-1', decision: 'approve', approver: { subject: 'mallory', email: 'mallory@example.test', groups: ['data-stewards'], via: 'api', groupsVerifiedAt: Date.now() } }],
    });
    expect(forged).toMatchObject({ counted: false, refusal: 'UNSIGNED', state: { status: 'pending' } });

    const before = tap.seen.length;
    const retry = await rawExport('forged approval', '{"limit": 4}');
    expect(retry.headers.get('x-vecgate-error')).toBe('APPROVAL_PENDING');
    expect(exportsSince(before)).toEqual([]);
    expect((await stateOf(approvalId)).decisions).toEqual([]);
  });

  test('THREATS 35: an approval started first by someone else, with their own decider key, is never honoured', async () => {
    const body = '{"limit": 6}';
    const reason = 'rogue workflow';
    const { iss, sub } = JSON.parse(Buffer.from(alice.split('.')[1] as string, 'base64url').toString()) as { iss: string; sub: string };
    const held = { connection: 'demo', method: 'POST', target: `/api/v2/tenants/default_tenant/databases/default_database/collections/${collectionId()}/get`, body: Buffer.from(body), principal: { issuer: iss, subject: sub } as never };
    const { fingerprint } = fingerprintOf(held);
    const approvalId = approvalIdOf(held);
    // the attacker starts the approval under the id the gateway will use, trusting their own key, and approves it
    const rogue = makeTestDecider();
    const request = {
      approvalId,
      requester: { subject: sub, groups: ['data-scientists'] },
      connection: 'demo',
      collections: [name],
      operation: 'export',
      bulk: true,
      method: 'POST',
      path: held.target,
      fingerprint,
      bodySha256: 'b'.repeat(64),
      bodyBytes: body.length,
      ruleId: 'scientists-bulk-review',
      ruleExplanation: 'rogue',
      summary: 'rogue',
      policy: { approverGroups: ['data-stewards'], required: 1, timeoutMs: 60_000, usableForMs: 60_000, reasonRequired: false },
      requestedAt: Date.now(),
      gatewayInstance: 'rogue',
      deciderKeys: [rogue.publicKey],
    };
    const handle = await startOrGetApproval(temporal, taskQueue, request);
    const input = { decisionId: 'rogue-1', decision: 'approve' as const, approver: { subject: 'mallory', groups: ['data-stewards'], via: 'api' as const, groupsVerifiedAt: Date.now() } };
    const approved = await sendDecision(handle, rogue.signer.sign(approvalId, fingerprint, input, Date.now()));
    expect(approved).toMatchObject({ counted: true, state: { status: 'approved' } });

    const before = tap.seen.length;
    const res = await rawExport(reason, body);
    expect(res.status).toBe(403);
    expect(res.headers.get('x-vecgate-error')).toBe('APPROVAL_UNTRUSTED');
    expect(((await res.json()) as { message: string }).message).toMatch(/not given by a trusted approver/);
    expect(exportsSince(before)).toEqual([]);
  });

  test('the approval state is visible to its requester and approvers only', async () => {
    const bob = await tokenFor('bob');
    const first = await rawExport('who can see', '{"limit": 3}');
    const approvalId = /approval (vecgate-[0-9a-f]{40})/.exec(((await first.json()) as { message: string }).message)?.[1] as string;
    expect((await fetch(`${gw.url}/vecgate/approvals/${approvalId}`, { headers: { authorization: `Bearer ${bob}` } })).status).toBe(404);
    expect((await fetch(`${gw.url}/vecgate/approvals/${approvalId}`, { headers: { authorization: `Bearer ${await tokenFor('carol')}` } })).status).toBe(200);
  });
});

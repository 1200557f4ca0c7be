import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ChromaClient } from 'chromadb';
import pino from 'pino';
import { stringify } from 'yaml';
import { startBackOffice, type BackOffice } from '../../src/approval/back-office';
import { startOrGetApproval } from '../../src/approval/temporal-client';
import { APPROVAL_WORKFLOWS_PATH } from '../../src/approval/worker';
import { systemClock } from '../../src/clock';
import { configSchema } from '../../src/config/schema';
import { readDevStackEnv } from '../../src/devstack/env';
import { FakeSlack } from '../../src/devstack/fake-slack';
import { startOrphanGuard, type OrphanGuard } from '../../src/devstack/orphan-guard';
import { findProjectRoot, orphanGuardScript, serverBinaries } from '../../src/devstack/paths';
import { findFreePort } from '../../src/devstack/ports';
import { buttonClick } from '../../src/devstack/slack-payloads';
import { interactiveBody, postSigned } from '../../src/devstack/slack-signing';
import { startTemporal, type StartTemporalOptions, type TemporalServer } from '../../src/devstack/temporal';
import { EVENTS_PATH } from '../../slack-app';
import { approvalStateQuery, type ApprovalRequest, type ApprovalState } from '../../workflows/approval-contract';
import { makeTestDecider } from '../support/decider';
import { testStack, tokenFor } from '../support/stack';
import { makeRequest } from '../workflows/support/fixtures';
import { captureRuntimeLogs } from '../workflows/support/history';
import { eventually } from './support/eventually';
import { startWorkerProcess, type WorkerProcess } from './support/faults-processes';
import { startSlackHop, type SlackHop } from './support/faults-slack-hop';
import { startTestGateway, TEST_RULES, type TestGateway } from './support/gateway';
import { startTap, type Tap } from './support/tap';

/*
 * THREATS 24 and 25: the approval path survives its own processes dying. Real servers throughout:
 * the worker is the built CLI (`node bin/vecgate worker -c FILE`, run `npm run build` first) killed
 * with SIGKILL, and Temporal is a dev server of our own, stopped and started again on its database.
 */

const NO_EMBEDDING = null as unknown as undefined;
const TEAM = 'T0VECGATE';
const CHANNEL = 'C0APPROVALS';
const BOT_TOKEN = 'xoxb-1111-2222-faults';
const SIGNING_SECRET = 'faults-signing-secret-0123456789abcdef';
const CAROL = { userId: 'U0CAROL', subject: 'u-1003-carol', email: 'carol@example.test', groups: ['data-stewards'], verifiedAt: new Date().toISOString() };
const DECIDER = makeTestDecider();
const silent = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} } as never;

const approvalIdIn = (message: string) => /approval (vecgate-[0-9a-f]{40})/.exec(message)?.[1] as string;
const messagesFor = (slack: FakeSlack, approvalId: string) => slack.messages(CHANNEL).filter((m) => m.metadata?.event_payload.approval_id === approvalId);
const click = (slackUrl: string, slack: FakeSlack, approvalId: string, ts: string, userId = CAROL.userId) =>
  postSigned(`${slackUrl}${EVENTS_PATH}`, {
    signingSecret: SIGNING_SECRET,
    body: interactiveBody(buttonClick('approve', { teamId: TEAM, userId, approvalId, channel: CHANNEL, messageTs: ts, actionTs: `${Date.now() / 1000}`, responseUrl: slack.newResponseUrl(), triggerId: slack.newTriggerId() })),
  });

describe('THREATS 24: the worker is killed after the Slack post and again after the decision', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vecgate-faults-24-'));
  const taskQueue = `approvals-faults-${randomBytes(4).toString('hex')}`;
  const name = `docs-faults-${randomBytes(3).toString('hex')}`;
  const rules = TEST_RULES.map((r) =>
    r.id === 'scientists-bulk-review' ? { ...r, approval: { approverGroups: ['data-stewards'], timeoutSeconds: 600, usableForSeconds: 600, reasonRequired: true } } : r,
  );
  const workers: WorkerProcess[] = [];
  let guard: OrphanGuard;
  let slack: FakeSlack;
  let hop: SlackHop;
  let tap: Tap;
  let gw: TestGateway;
  let connection: Connection;
  let client: Client;
  let alice: string;
  let collectionId: string;

  const approvals = (apiUrl: string, port: number) => ({
    temporal: { address: testStack().temporalAddress, namespace: 'default', taskQueue },
    deciderPublicKeys: [DECIDER.publicKeyPem],
    holdSeconds: 1,
    slack: { mode: 'http', workspace: TEAM, channel: CHANNEL, channelName: '#data-approvals', apiUrl, listen: { host: '127.0.0.1', port }, bindings: [CAROL] },
  });

  /** a worker process of its own on a fresh Slack port, talking to Slack through the hop */
  const startWorker = async (label: string): Promise<WorkerProcess> => {
    const port = await findFreePort();
    const configFile = join(dir, `worker-${label}.yaml`);
    writeFileSync(
      configFile,
      stringify({
        identity: { issuer: testStack().oidcIssuer, audience: 'vecgate' },
        connections: [{ name: 'demo', dialect: 'chroma', upstream: testStack().chromaUrl }],
        policy: { rules },
        audit: { mongodbUri: testStack().mongoUri, database: `vecgate_faults_${randomBytes(3).toString('hex')}` , spool: { dir: mkdtempSync(join(tmpdir(), 'vecgate-office-')) }, leaseSeconds: 3 },
        approvals: approvals(hop.apiUrl, port),
      }),
    );
    const worker = await startWorkerProcess({
      configFile,
      slackPort: port,
      logFile: join(dir, `worker-${label}.log`),
      env: { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, VECGATE_DECISION_SIGNING_KEY: DECIDER.privateKeyPem },
      readyTimeoutMs: 60_000,
      guard,
    });
    workers.push(worker);
    return worker;
  };

  const exportPath = () => `/api/v2/tenants/default_tenant/databases/default_database/collections/${collectionId}/get`;
  const rawExport = (reason: string) =>
    fetch(`${gw.url}${exportPath()}`, { method: 'POST', headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json', 'x-vecgate-reason': reason }, body: '{}' });
  const exportsSeen = () => tap.seen.filter((r) => r.method === 'POST' && r.url === exportPath()).length;
  type View = { status: string; decisions: Array<{ by: string; decision: string }>; execution?: { status: number } };
  const view = (approvalId: string) => fetch(`${gw.url}/vecgate/approvals/${approvalId}`, { headers: { authorization: `Bearer ${alice}` } }).then((r) => r.json() as Promise<View>);
  /** the workflow's own state (a query: answered only while a worker runs, so bounded) */
  const stateOf = (approvalId: string) => client.withDeadline(Date.now() + 3000, () => client.workflow.getHandle(approvalId).query(approvalStateQuery));

  beforeAll(async () => {
    guard = startOrphanGuard(orphanGuardScript(findProjectRoot(__dirname)));
    slack = await FakeSlack.start({ teamId: TEAM, botToken: BOT_TOKEN, channels: [CHANNEL], users: [{ id: CAROL.userId, teamId: TEAM, name: 'carol', email: CAROL.email }] });
    hop = await startSlackHop(slack.apiUrl);
    tap = await startTap(testStack().chromaUrl);
    gw = await startTestGateway({ upstream: tap.url, policy: rules, approvals: approvals(slack.apiUrl, 0) });
    connection = await Connection.connect({ address: testStack().temporalAddress });
    client = new Client({ connection, namespace: 'default' });
    alice = await tokenFor('alice');
    const carol = new ChromaClient({ host: gw.host, port: gw.port, headers: { authorization: `Bearer ${await tokenFor('carol')}` } });
    const c = await carol.createCollection({ name, embeddingFunction: NO_EMBEDDING });
    await c.add({ ids: ['e1', 'e2'], embeddings: [[1, 0], [0, 1]], documents: ['one', 'two'] });
    collectionId = c.id;
  }, 60_000);

  afterAll(async () => {
    // every child goes, whatever happened: SIGKILL to each process group
    await Promise.all(workers.map((w) => w.kill()));
    guard?.close();
    await gw?.close();
    await connection?.close();
    await tap?.close();
    await hop?.close();
    await slack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('one Slack message, the decision survives, and the export runs exactly once', async () => {
    const workerA = await startWorker('a');

    // 1. the post reaches Slack but its answer never reaches worker A, which is then killed
    hop.hold('chat.postMessage');
    const first = await rawExport('faults: worker killed');
    expect(first.status).toBe(403);
    expect(first.headers.get('x-vecgate-error')).toBe('APPROVAL_PENDING');
    const approvalId = approvalIdIn(((await first.json()) as { message: string }).message);
    expect(approvalId).toBeTruthy();
    const firstRun = client.workflow.getHandle(approvalId, (await client.workflow.getHandle(approvalId).describe()).runId);
    const posted = await eventually('the approval message is in the channel', 20_000, () => messagesFor(slack, approvalId)[0]);
    await eventually('the answer to chat.postMessage is withheld', 5_000, () => hop.calls.find((c) => c.method === 'chat.postMessage' && c.held));
    await workerA.kill();
    hop.release('chat.postMessage');
    const killedA = Date.now();

    // 2. worker B: the lost activity attempt times out (startToClose 30 s) and is retried there; the
    //    notifier finds the message in the channel history instead of posting a second one
    const workerB = await startWorker('b');
    const recorded = await eventually('the retried activity recorded the message in the workflow', 60_000, async () => (await stateOf(approvalId)).message, 500);
    expect(recorded).toEqual({ channel: CHANNEL, ts: posted.ts });
    expect(hop.calls.filter((c) => c.method === 'conversations.history' && c.at > killedA).length).toBeGreaterThan(0);
    await sleep(3000); // room for any further retried attempt
    expect(messagesFor(slack, approvalId)).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect((await view(approvalId)).status).toBe('pending');

    // 3. carol approves on worker B's Slack app; B is killed as soon as the decision is recorded,
    //    while the message edits it started are still waiting for Slack's answer
    hop.hold('chat.update');
    const clicked = await click(workerB.slackUrl, slack, approvalId, posted.ts);
    expect(clicked.status).toBe(200);
    await eventually('the decision is recorded', 20_000, async () => ((await view(approvalId)).status === 'approved' ? true : undefined));
    await workerB.kill();
    hop.release('chat.update');
    expect(exportsSeen()).toBe(0);

    // 4. worker C: the retried request runs once with the real records
    await startWorker('c');
    const decided = await view(approvalId);
    expect(decided.status).toBe('approved');
    expect(decided.decisions).toEqual([expect.objectContaining({ by: CAROL.email, decision: 'approve' })]);
    const retry = await rawExport('faults: worker killed');
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as { ids: string[] }).ids.sort()).toEqual(['e1', 'e2']);
    expect(exportsSeen()).toBe(1);

    // 5. it does not run again: refused while the approval closes, a new ask once it has closed
    await eventually('the execution is reported', 20_000, async () => ((await view(approvalId)).status === 'executed' ? true : undefined), 200);
    const again = await rawExport('faults: worker killed');
    expect(again.status).toBe(403);
    expect(['APPROVAL_NOT_USABLE', 'APPROVAL_PENDING']).toContain(again.headers.get('x-vecgate-error'));
    await eventually('the approval workflow completes', 60_000, async () => ((await firstRun.describe()).status.name === 'COMPLETED' ? true : undefined), 500);
    const final: ApprovalState = await firstRun.result();
    expect(final).toMatchObject({ status: 'executed', execution: { status: 200 } });
    expect(final.decisions).toHaveLength(1);
    expect(final.message).toEqual({ channel: CHANNEL, ts: posted.ts });
    expect(messagesFor(slack, approvalId)).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(messagesFor(slack, approvalId)[0]?.updates).toBeGreaterThan(0);

    const newAsk = await rawExport('faults: worker killed');
    expect(newAsk.status).toBe(403);
    expect(newAsk.headers.get('x-vecgate-error')).toBe('APPROVAL_PENDING');
    expect(approvalIdIn(((await newAsk.json()) as { message: string }).message)).toBe(approvalId);
    expect(exportsSeen()).toBe(1);

    const events = await gw.events({ 'approval.approvalId': approvalId });
    expect(events.filter((e) => e.status === 200)).toHaveLength(1);
    await client.workflow.getHandle(approvalId).terminate('THREATS 24 test done');
  }, 180_000);
});

describe('THREATS 25: Temporal restarts on its database with many approvals pending', () => {
  const N = 20;
  const TIMEOUT_MS = 20_000;
  const dir = mkdtempSync(join(tmpdir(), 'vecgate-faults-25-'));
  const taskQueue = `approvals-restart-${randomBytes(4).toString('hex')}`;
  const approverGroup = 'vec-approvers';
  let guard: OrphanGuard;
  let temporalOptions: StartTemporalOptions;
  let temporal: TemporalServer | undefined;
  let slack: FakeSlack;
  let office: BackOffice | undefined;
  let connection: Connection;
  let client: Client;
  let captured: ReturnType<typeof captureRuntimeLogs>;

  beforeAll(async () => {
    captured = captureRuntimeLogs();
    guard = startOrphanGuard(orphanGuardScript(findProjectRoot(__dirname)));
    temporalOptions = {
      binary: serverBinaries(readDevStackEnv(process.env).cacheDir).temporal,
      dataDir: join(dir, 'temporal'),
      logFile: join(dir, 'temporal.log'),
      port: await findFreePort(),
      process: { readyTimeoutMs: 60_000, stopGraceMs: 10_000, guard },
    };
    const [server, workflowBundle] = await Promise.all([startTemporal(temporalOptions), bundleWorkflowCode({ workflowsPath: APPROVAL_WORKFLOWS_PATH, logger: silent })]);
    temporal = server;
    slack = await FakeSlack.start({ teamId: TEAM, botToken: BOT_TOKEN, channels: [CHANNEL], users: [{ id: CAROL.userId, teamId: TEAM, name: 'carol', email: CAROL.email }] });
    const config = configSchema.parse({
      identity: { issuer: testStack().oidcIssuer, audience: 'vecgate' },
      connections: [{ name: 'demo', dialect: 'chroma', upstream: testStack().chromaUrl }],
      policy: { rules: [] },
      audit: { mongodbUri: testStack().mongoUri, database: `vecgate_faults_${randomBytes(3).toString('hex')}` , spool: { dir: mkdtempSync(join(tmpdir(), 'vecgate-office-')) }, leaseSeconds: 3 },
      approvals: {
        temporal: { address: server.address, namespace: 'default', taskQueue },
        deciderPublicKeys: [DECIDER.publicKeyPem],
        slack: { mode: 'http', workspace: TEAM, channel: CHANNEL, apiUrl: slack.apiUrl, listen: { host: '127.0.0.1', port: 0 }, bindings: [{ ...CAROL, groups: [approverGroup] }] },
      },
    });
    office = await startBackOffice({ config, secrets: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, decisionSigningKey: DECIDER.privateKeyPem }, clock: systemClock, logger: pino({ level: process.env.VECGATE_TEST_LOG ?? 'silent' }), workflowBundle });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, namespace: 'default' });
  }, 90_000);

  afterAll(async () => {
    await office?.stop();
    await connection?.close();
    await temporal?.process.stop();
    guard?.close();
    await slack?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  test('every pending approval resumes: the timers fire, the messages are edited, a decision is taken', async () => {
    const now = Date.now();
    // started as the gateway starts them: trusting the worker's decider key
    const trusting = { deciderKeys: [DECIDER.publicKey] };
    const expiring: ApprovalRequest[] = Array.from({ length: N }, () => makeRequest(now, { approverGroups: [approverGroup], timeoutMs: TIMEOUT_MS }, trusting));
    // one more, with time to be approved after the restart
    const approvedLater = makeRequest(now, { approverGroups: [approverGroup], timeoutMs: 10 * 60_000 }, trusting);
    await Promise.all([...expiring, approvedLater].map((r) => startOrGetApproval(client, taskQueue, r)));
    await eventually('every approval message is posted', 30_000, () => ([...expiring, approvedLater].every((r) => messagesFor(slack, r.approvalId).length === 1) ? true : undefined));

    // the server goes down before any deadline, so every timer can only fire after the restart
    await temporal?.process.stop();
    const stoppedAt = Date.now();
    expect(stoppedAt).toBeLessThan(now + TIMEOUT_MS);
    await sleep(2000);
    temporal = await startTemporal(temporalOptions);

    // a decision after the restart, through the Slack app whose Temporal client must have reconnected
    const posted = messagesFor(slack, approvedLater.approvalId)[0];
    expect(posted).toBeDefined();
    const clicked = await click(office?.slackUrl as string, slack, approvedLater.approvalId, posted?.ts as string);
    expect(clicked.status).toBe(200);
    const stateOf = (approvalId: string) => client.withDeadline(Date.now() + 3000, () => client.workflow.getHandle(approvalId).query(approvalStateQuery));
    const approved = await eventually('the approval taken after the restart counts', 30_000, async () => {
      const s = await stateOf(approvedLater.approvalId);
      return s.status === 'approved' ? s : undefined;
    }, 250);
    expect(approved.decisions).toEqual([expect.objectContaining({ decision: 'approve', approver: expect.objectContaining({ subject: CAROL.subject }) })]);

    // every timer fired on the restarted server, and each workflow closed after editing its message
    const finals = await eventually('every approval expires and closes', 60_000, async () => {
      const described = await Promise.all(expiring.map((r) => client.workflow.getHandle(r.approvalId).describe()));
      if (described.some((d) => d.status.name !== 'COMPLETED')) return undefined;
      return Promise.all(expiring.map((r) => client.workflow.getHandle(r.approvalId).result() as Promise<ApprovalState>));
    }, 500);
    for (const s of finals) {
      expect(s.status).toBe('expired');
      expect(s.closedAt).toBeGreaterThan(stoppedAt);
    }
    for (const r of expiring) {
      const messages = messagesFor(slack, r.approvalId);
      expect(messages).toHaveLength(1);
      expect(messages[0]?.updates).toBeGreaterThan(0);
    }
    await eventually('the approved message is edited', 10_000, () => ((messagesFor(slack, approvedLater.approvalId)[0]?.updates ?? 0) > 0 ? true : undefined));
    expect(slack.callsTo('chat.postMessage')).toHaveLength(N + 1);
    // the in-process worker rode out the outage (its calls retried) and never failed
    expect(captured.logs.filter((l) => l.level === 'ERROR').map((l) => l.message)).toEqual([]);
  }, 120_000);
});

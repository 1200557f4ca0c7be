import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ChromaClient } from 'chromadb';
import { parse } from 'csv-parse/sync';
import pino from 'pino';
import { startBackOffice, type BackOffice } from '../../src/approval/back-office';
import { state } from '../../src/approval/temporal-client';
import { APPROVAL_WORKFLOWS_PATH } from '../../src/approval/worker';
import { systemClock } from '../../src/clock';
import { configSchema, type Config } from '../../src/config/schema';
import { FakeSlack } from '../../src/devstack/fake-slack';
import { interactiveBody, postSigned } from '../../src/devstack/slack-signing';
import { decodePayload } from '../../src/evidence/approval-history';
import { APPROVAL_WORKFLOW_TYPE } from '../../workflows/approval-contract';
import { APPROVALS_CSV, exportApprovals, MISSING_HISTORIES_CSV, replayBundleHistories } from '../../src/evidence/approvals';
import { BundleWriter } from '../../src/evidence/bundle';
import { exportEvidence } from '../../src/evidence/export';
import { verifyBundle } from '../../src/evidence/verify-bundle';
import { checkpointKeyFile } from '../integration/support/gateway';
import { generateKeyPairSync } from 'node:crypto';
import type { HistoryJson } from '../../src/evidence/history-json';
import type { ApprovalsSummary } from '../../src/evidence/summary';
import { EVENTS_PATH } from '../../slack-app';
import { buttonClick, denyReasonSubmission } from '../slack/support/payloads';
import { eventually } from '../integration/support/eventually';
import { startTestGateway, TEST_RULES, type TestGateway } from '../integration/support/gateway';
import { makeTestDecider } from '../support/decider';
import { testStack, tokenFor } from '../support/stack';
import { captureRuntimeLogs } from '../workflows/support/history';

const NO_EMBEDDING = null as unknown as undefined;
const TEAM = 'T0VECGATE';
const CHANNEL = 'C0EVIDENCE';
const BOT_TOKEN = 'xoxb-1111-2222-evidence';
const SIGNING_SECRET = 'evidence-signing-secret-0123456789abcdef';
const CAROL = { userId: 'U0CAROL', subject: 'u-1003-carol', email: 'carol@example.test', groups: ['data-stewards'] };
const DECIDER = makeTestDecider();
const NEVER_STARTED = `vecgate-${'0'.repeat(40)}`;

type Row = Record<string, string>;

/**
 * The approvals section of the evidence bundle from a real run: the gateway holds exports, the
 * worker (real Temporal dev server) asks a fake Slack, an approver clicks signed payloads. Then the
 * export lists the period's workflows, writes their histories and approvals.csv, and every
 * history replays against the workflow code.
 */
describe('approvals are exported as replayable histories and one csv row each', () => {
  let slack: FakeSlack;
  let office: BackOffice;
  let gw: TestGateway;
  let alice: string;
  let connection: Connection;
  let client: Client;
  let config: Config;
  let collectionId = '';
  const taskQueue = `evidence-${randomBytes(4).toString('hex')}`;
  const name = `docs-evidence-${randomBytes(3).toString('hex')}`;
  const started = new Date(Date.now() - 1000);
  // short deadlines: the expired path takes seconds, not an hour
  const rules = TEST_RULES.map((r) => (r.id === 'scientists-bulk-review' ? { ...r, approval: { approverGroups: ['data-stewards'], timeoutSeconds: 10, usableForSeconds: 30, reasonRequired: true } } : r));
  const masking = { rules: [{ id: 'contacts', connections: ['demo'], detectors: ['email'] }] };
  // gateway and worker write one audit store, as in production: the whole run's bundle is exported from it
  const auditDatabase = `vecgate_ev_${randomBytes(3).toString('hex')}`;
  const scratch = mkdtempSync(join(tmpdir(), 'vecgate-ev-run-'));
  const checkpoints = { keyFile: checkpointKeyFile(), dir: join(scratch, 'checkpoints'), everySeconds: 1 };
  const approvals = () => ({
    temporal: { address: testStack().temporalAddress, namespace: 'default', taskQueue },
    deciderPublicKeys: [DECIDER.publicKeyPem],
    holdSeconds: 3,
    slack: {
      mode: 'http',
      workspace: TEAM,
      channel: CHANNEL,
      channelName: '#evidence-approvals',
      apiUrl: slack.apiUrl,
      listen: { port: 0 },
      bindings: [{ userId: CAROL.userId, subject: CAROL.subject, email: CAROL.email, groups: CAROL.groups, verifiedAt: new Date().toISOString() }],
    },
  });

  beforeAll(async () => {
    captureRuntimeLogs();
    slack = await FakeSlack.start({ teamId: TEAM, botToken: BOT_TOKEN, channels: [CHANNEL], users: [{ id: CAROL.userId, teamId: TEAM, name: 'carol', email: CAROL.email }] });
    config = configSchema.parse({
      identity: { issuer: testStack().oidcIssuer, audience: 'vecgate' },
      connections: [{ name: 'demo', dialect: 'chroma', upstream: testStack().chromaUrl }],
      policy: { rules },
      audit: { mongodbUri: testStack().mongoUri, database: auditDatabase, spool: { dir: mkdtempSync(join(tmpdir(), 'vecgate-ev-office-')) }, leaseSeconds: 3, checkpoints },
      masking,
      approvals: approvals(),
    });
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: APPROVAL_WORKFLOWS_PATH, logger: captureRuntimeLogs().logger });
    office = await startBackOffice({ config, secrets: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, decisionSigningKey: DECIDER.privateKeyPem }, clock: systemClock, logger: pino({ level: 'silent' }), workflowBundle });
    gw = await startTestGateway({ policy: rules, approvals: approvals(), masking, database: auditDatabase, audit: { checkpoints } });
    alice = await tokenFor('alice');
    connection = await Connection.connect({ address: testStack().temporalAddress });
    client = new Client({ connection, namespace: 'default' });
    const carol = new ChromaClient({ host: gw.host, port: gw.port, headers: { authorization: `Bearer ${await tokenFor('carol')}` } });
    const c = await carol.createCollection({ name, embeddingFunction: NO_EMBEDDING });
    await c.add({ ids: ['e1', 'e2'], embeddings: [[1, 0], [0, 1]], documents: ['one', 'write to jane.doe@corp.example'] });
    collectionId = c.id;
  }, 120_000);

  let stopped = false;
  afterAll(async () => {
    await connection?.close();
    if (!stopped) {
      await gw?.close();
      await office?.stop();
    }
    await slack?.stop();
  });

  const rawExport = (reason: string, body: string) =>
    fetch(`${gw.url}/api/v2/tenants/default_tenant/databases/default_database/collections/${collectionId}/get`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json', 'x-vecgate-reason': reason },
      body,
    });
  const postedFor = (reason: string) => eventually(`the Slack message asking about "${reason}"`, 10_000, () => slack.messages(CHANNEL).find((m) => JSON.stringify(m.blocks).includes(reason.replace(/@.*/, ''))), 50);
  const click = (kind: 'approve' | 'deny', approvalId: string, ts: string) =>
    postSigned(`${office.slackUrl}${EVENTS_PATH}`, {
      signingSecret: SIGNING_SECRET,
      body: interactiveBody(buttonClick(kind, { teamId: TEAM, userId: CAROL.userId, approvalId, channel: CHANNEL, messageTs: ts, actionTs: `${Date.now() / 1000}`, responseUrl: slack.newResponseUrl(), triggerId: slack.newTriggerId() })),
    });
  const statusOf = (approvalId: string, status: string, timeoutMs: number) =>
    eventually(`approval ${approvalId} ${status}`, timeoutMs, async () => {
      const s = await state(client.workflow.getHandle(approvalId));
      return s.status === status && s.closedAt !== undefined ? s : undefined;
    }).then(() => client.workflow.getHandle(approvalId).result());

  const ids = { executed: '', denied: '', expired: '', malformed: `vecgate-malformed-${randomBytes(4).toString('hex')}` };
  let executedSha = '';
  let exported: { dir: string; summary: ApprovalsSummary; rows: Row[]; files: string[] };
  const rowOf = (id: string): Row => {
    const row = exported.rows.find((r) => r.workflow_id === id);
    if (!row) throw new Error(`no row for ${id} in approvals.csv`);
    return row;
  };
  const historyFilesOf = (id: string) => exported.files.filter((f) => f.startsWith(`approvals/histories/${id}__`));

  beforeAll(async () => {
    // held, approved in Slack while held, executed: the response the client got is what the workflow records
    const held = rawExport('evidence sample for jane.doe@corp.example', '{"limit": 2}');
    const approvedMessage = await postedFor('evidence sample for jane.doe');
    ids.executed = String(approvedMessage.metadata?.event_payload.approval_id);
    expect((await click('approve', ids.executed, approvedMessage.ts)).status).toBe(200);
    const res = await held;
    expect(res.status).toBe(200);
    executedSha = createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex');

    // denied by the approver, with a reason
    const deniedCall = rawExport('evidence deny me', '{"limit": 1}');
    const deniedMessage = await postedFor('evidence deny me');
    ids.denied = String(deniedMessage.metadata?.event_payload.approval_id);
    const opened = slack.views.length;
    await click('deny', ids.denied, deniedMessage.ts);
    const view = await eventually('the deny modal', 5_000, () => (slack.views.length > opened ? (slack.views.at(-1) as { id: string; view: { private_metadata?: string } }) : undefined), 30);
    const submitted = await postSigned(`${office.slackUrl}${EVENTS_PATH}`, {
      signingSecret: SIGNING_SECRET,
      body: interactiveBody(denyReasonSubmission({ teamId: TEAM, userId: CAROL.userId, viewId: view.id, privateMetadata: view.view.private_metadata ?? '', reason: 'not for this quarter', triggerId: slack.newTriggerId() } as never)),
    });
    expect(submitted.status).toBe(200);
    expect((await deniedCall).headers.get('x-vecgate-error')).toBe('APPROVAL_DENIED');

    // nobody decides: expired after the rule's 10 seconds (its shortest)
    const expiring = await rawExport('evidence let it expire', '{"limit": 3}');
    expect(expiring.headers.get('x-vecgate-error')).toBe('APPROVAL_PENDING');
    ids.expired = String((await postedFor('evidence let it expire')).metadata?.event_payload.approval_id);

    // what anyone who reaches Temporal can start: the workflow refuses it and fails
    const malformed = await client.workflow.start(APPROVAL_WORKFLOW_TYPE, { taskQueue, workflowId: ids.malformed, args: [{ approvalId: ids.malformed }] });
    await expect(malformed.result()).rejects.toThrow();

    await statusOf(ids.executed, 'executed', 10_000);
    await statusOf(ids.denied, 'denied', 10_000);
    await statusOf(ids.expired, 'expired', 20_000);

    const dir = join(mkdtempSync(join(tmpdir(), 'vecgate-evidence-')), 'bundle');
    const writer = new BundleWriter(dir);
    const summary = await exportApprovals(
      { config, temporal: { client, namespace: 'default' }, from: started, to: new Date(), expectedApprovalIds: new Set([ids.executed, ids.denied, ids.expired, NEVER_STARTED]), unmasked: false },
      writer,
    );
    const rows = parse(readFileSync(join(dir, APPROVALS_CSV)), { columns: true, bom: true }) as Row[];
    exported = { dir, summary, rows, files: writer.files().map((f) => f.path) };
  }, 90_000);

  test('the held, approved and executed request: approver, decision time and the sha256 of what the client received', () => {
    const row = rowOf(ids.executed);
    expect(row).toMatchObject({ status: 'executed', requester: 'u-1001-alice', operation: 'export', collections: name, approvers: `${CAROL.email} (${CAROL.subject})`, execution_status: '200', execution_sha256: executedSha });
    expect(row.decisions).toMatch(new RegExp(`^\\S+Z approve by ${CAROL.email} \\(${CAROL.subject}\\) via slack, signed by key ${DECIDER.publicKey.slice(0, 16)}$`));
    expect(Number(row.execution_bytes)).toBeGreaterThan(0);
    expect(row.grant_claimed_at).toMatch(/Z$/);
    expect(exported.summary.rows.find((r) => r.approvalId === ids.executed)).toMatchObject({ status: 'executed', decisions: [{ approver: CAROL.email, decision: 'approve' }], execution: { status: 200, sha256: executedSha } });
  });

  test('the denial names the approver and their reason; the expired approval has no decision', () => {
    expect(rowOf(ids.denied)).toMatchObject({ status: 'denied', approvers: `${CAROL.email} (${CAROL.subject})`, execution_status: '' });
    expect(rowOf(ids.denied).decisions).toMatch(/ deny by carol@example\.test .*: not for this quarter$/);
    expect(rowOf(ids.expired)).toMatchObject({ status: 'expired', approvers: '', decisions: '', grant_issued_at: '', execution_status: '' });
  });

  test('a workflow started with a malformed request is listed as failed, with the reason', () => {
    expect(rowOf(ids.malformed)).toMatchObject({ status: 'failed', workflow_outcome: 'failed', requester: '', close_reason: expect.stringContaining('malformed') });
  });

  test('personal data in the request is masked in the csv and the history; who approved is not', () => {
    expect(rowOf(ids.executed).reason).toBe('evidence sample for [EMAIL]');
    const [file] = historyFilesOf(ids.executed);
    const history = JSON.parse(readFileSync(join(exported.dir, file as string), 'utf8')) as HistoryJson;
    const payloads: unknown[] = [];
    const visit = (node: unknown): void => {
      if (typeof node !== 'object' || node === null) return;
      const value = decodePayload(node);
      if (value !== undefined) payloads.push(value);
      else Object.values(node).forEach(visit);
    };
    visit(history.events);
    const text = JSON.stringify(payloads);
    expect(text).not.toContain('jane.doe@corp.example');
    expect(text).toContain(CAROL.email);
    expect(exported.summary.valuesMasked).toBeGreaterThan(0);
  });

  test('with --unmasked the request\'s values are exported as recorded', async () => {
    const writer = new BundleWriter(join(mkdtempSync(join(tmpdir(), 'vecgate-evidence-')), 'bundle'));
    const summary = await exportApprovals({ config, temporal: { client, namespace: 'default' }, from: started, to: new Date(), expectedApprovalIds: new Set([ids.executed]), unmasked: true }, writer);
    const rows = parse(readFileSync(join(writer.dir, APPROVALS_CSV)), { columns: true, bom: true }) as Row[];
    expect(rows.find((r) => r.workflow_id === ids.executed)?.reason).toBe('evidence sample for jane.doe@corp.example');
    expect(summary.valuesMasked).toBe(0);
  });

  test('one history per run, named by workflow id and run id; an approval without a workflow is reported missing', () => {
    for (const id of Object.values(ids)) expect(historyFilesOf(id)).toEqual([expect.stringMatching(new RegExp(`^approvals/histories/${id}__[0-9a-f-]{36}\\.json$`))]);
    expect(exported.summary).toMatchObject({ temporalReached: true, missingHistories: [NEVER_STARTED] });
    expect(exported.summary.total).toBe(exported.rows.length);
    expect(parse(readFileSync(join(exported.dir, MISSING_HISTORIES_CSV)), { columns: true, bom: true })).toEqual([{ approval_id: NEVER_STARTED, reason: expect.stringContaining('retention expired') }]);
  });

  test('every exported history of the run replays against the workflow code', async () => {
    const mine = Object.values(ids).flatMap(historyFilesOf);
    expect(await replayBundleHistories(exported.dir, mine)).toEqual(mine.map((path) => ({ path, ok: true })));
  }, 60_000);

  test('a history whose decision was changed fails replay, and one whose result was changed is found inconsistent', async () => {
    const [file] = historyFilesOf(ids.denied);
    const original = readFileSync(join(exported.dir, file as string), 'utf8');
    const tampered = mkdtempSync(join(tmpdir(), 'vecgate-tampered-'));
    mkdirSync(join(tampered, 'approvals', 'histories'), { recursive: true });

    const flipped = JSON.parse(original) as HistoryJson;
    for (const event of flipped.events) {
      const accepted = event.workflowExecutionUpdateAcceptedEventAttributes as { acceptedRequest: { input: { name: string; args: { payloads: Array<{ data: string }> } } } } | undefined;
      if (accepted?.acceptedRequest.input.name !== 'decide') continue;
      const payload = accepted.acceptedRequest.input.args.payloads[0] as { data: string };
      const decision = decodePayload(payload) as { decision: string };
      decision.decision = 'approve';
      payload.data = Buffer.from(JSON.stringify(decision)).toString('base64');
    }
    writeFileSync(join(tampered, 'approvals/histories/flipped.json'), JSON.stringify(flipped));

    const rewritten = JSON.parse(original) as HistoryJson;
    const completed = rewritten.events.at(-1)?.workflowExecutionCompletedEventAttributes as { result: { payloads: Array<{ data: string }> } };
    const result = completed.result.payloads[0] as { data: string };
    const final = decodePayload(result) as { decisions: Array<{ reason?: string }> };
    (final.decisions[0] as { reason?: string }).reason = 'approved after all';
    result.data = Buffer.from(JSON.stringify(final)).toString('base64');
    writeFileSync(join(tampered, 'approvals/histories/rewritten.json'), JSON.stringify(rewritten));

    expect(readdirSync(join(tampered, 'approvals', 'histories')).sort()).toEqual(['flipped.json', 'rewritten.json']);
    expect(await replayBundleHistories(tampered, ['approvals/histories/flipped.json', 'approvals/histories/rewritten.json'])).toEqual([
      { path: 'approvals/histories/flipped.json', ok: false, error: expect.stringMatching(/^DeterminismViolationError: \[TMPRL1100\] Nondeterminism error/) },
      { path: 'approvals/histories/rewritten.json', ok: false, error: expect.stringMatching(/^inconsistent history: decision .* differs from the decide update/) },
    ]);
  }, 60_000);

  test('without Temporal, approvals are not evidenced and every approval the trail names is missing', async () => {
    const writer = new BundleWriter(join(mkdtempSync(join(tmpdir(), 'vecgate-evidence-')), 'bundle'));
    const summary = await exportApprovals({ config, temporal: undefined, from: started, to: new Date(), expectedApprovalIds: new Set([ids.executed, NEVER_STARTED]), unmasked: false }, writer);
    expect(summary).toMatchObject({ temporalReached: false, total: 0, rows: [], missingHistories: [ids.executed, NEVER_STARTED].sort() });
    expect(writer.files().map((f) => f.path)).toEqual([APPROVALS_CSV, MISSING_HISTORIES_CSV]);
    expect(readFileSync(join(writer.dir, APPROVALS_CSV), 'utf8').trimEnd().split('\n')).toEqual([expect.stringMatching(/^\ufeffworkflow_id,run_id,status,/)]);
  });

  test('Temporal not answering: approvals are not evidenced, and the reason names it', async () => {
    // no retries, so the test does not wait out the client's backoff
    const unreachable = Connection.lazy({ address: '127.0.0.1:1', interceptors: [] });
    try {
      const writer = new BundleWriter(join(mkdtempSync(join(tmpdir(), 'vecgate-evidence-')), 'bundle'));
      const summary = await exportApprovals({ config, temporal: { client: new Client({ connection: unreachable, namespace: 'default' }), namespace: 'default' }, from: started, to: new Date(), expectedApprovalIds: new Set([ids.denied]), unmasked: false }, writer);
      expect(summary).toMatchObject({ temporalReached: false, total: 0, missingHistories: [ids.denied] });
      expect(parse(readFileSync(join(writer.dir, MISSING_HISTORIES_CSV)), { columns: true, bom: true })).toEqual([{ approval_id: ids.denied, reason: expect.stringMatching(/^Temporal was not reached \(.+\)/) }]);
    } finally {
      await unreachable.close();
    }
  });

  test('the whole run exports as one bundle that verifies: allowed, denied, masked, approved and executed, denied by the approver, expired', async () => {
    const alice = new ChromaClient({ host: gw.host, port: gw.port, headers: { authorization: `Bearer ${await tokenFor('alice')}` } });
    const docs = await alice.getCollection({ name, embeddingFunction: NO_EMBEDDING });
    const read = await docs.get({ ids: ['e1', 'e2'], include: ['documents'] as never });
    expect(read.documents).toEqual(['one', 'write to [EMAIL]']);
    await expect(alice.createCollection({ name: `secret-${randomBytes(3).toString('hex')}`, embeddingFunction: NO_EMBEDDING })).rejects.toThrow();
    // refused before any workflow starts (no reason given): its event names an approval id Temporal never held
    const noReason = await fetch(`${gw.url}/api/v2/tenants/default_tenant/databases/default_database/collections/${collectionId}/get`, { method: 'POST', headers: { authorization: `Bearer ${await tokenFor('alice')}`, 'content-type': 'application/json' }, body: '{"limit": 4}' });
    expect(noReason.headers.get('x-vecgate-error')).toBe('APPROVAL_REASON_REQUIRED');
    // stopped, both write their last checkpoint: the export needs only MongoDB and Temporal
    stopped = true;
    await gw.close();
    await office.stop();

    const evidenceKey = join(scratch, 'evidence.pem');
    writeFileSync(evidenceKey, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const out = join(scratch, 'bundle');
    const result = await exportEvidence({ config: { ...config, evidence: { keyFile: evidenceKey, keyName: 'test/evidence' } }, from: started, to: new Date(Date.now() + 1000), out, clock: systemClock });

    const { trail, approvals: held } = result.summary;
    expect(trail.verdict).toBe('ok');
    expect(trail.instances).toHaveLength(2); // the gateway's chain and the worker's (approvers' clicks)
    expect(trail.byDecision).toEqual(expect.arrayContaining([{ key: 'allow', count: expect.any(Number) }, { key: 'deny', count: expect.any(Number) }, { key: 'review', count: expect.any(Number) }]));
    expect(trail.denials).toEqual(expect.arrayContaining([expect.objectContaining({ principal: 'u-1001-alice', ruleId: 'no-secrets-for-scientists', code: 'POLICY_DENIED' })]));
    expect(trail.masking.valuesMasked).toBeGreaterThan(0);
    expect(held.temporalReached).toBe(true);
    expect(held.missingHistories).toEqual([]);
    const statusOfRow = (id: string) => held.rows.find((r) => r.approvalId === id)?.status;
    expect([statusOfRow(ids.executed), statusOfRow(ids.denied), statusOfRow(ids.expired)]).toEqual(['executed', 'denied', 'expired']);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain(ids.executed);

    const verdict = await verifyBundle(out, { key: result.manifest.signature.fingerprint });
    expect(verdict.problems).toEqual([]);
    expect(verdict.ok).toBe(true);
  }, 180_000);
});

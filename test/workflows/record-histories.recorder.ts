import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, NativeConnection, type Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { claim, decide as sendDecision, report, startOrGetApproval, state } from '../../src/approval/temporal-client';
import { APPROVAL_WORKFLOWS_PATH, createApprovalWorker } from '../../src/approval/worker';
import { APPROVAL_WORKFLOW_TYPE, decideUpdate, reportExecutionUpdate, type ApprovalPolicy, type ApprovalRequest, type DecisionInput } from '../../workflows/approval-contract';
import { makeTestDecider } from '../support/decider';
import { testStack } from '../support/stack';
import { claimFor, decisionBy, executionOf, HOUR, makeRequest, MINUTE, people, RecordingNotifier, signedFor } from './support/fixtures';
import { captureRuntimeLogs } from './support/history';
import { historyToJson } from './support/history-json';

/**
 * Regenerates test/workflows/histories/*.json, one history per path of the approval workflow,
 * which replay.test.ts replays on every run. Run it when a path is added or after a deliberate,
 * versioned (patched) change:
 *
 *   npm run record-histories   (jest on this file alone; the normal test run does not pick it up)
 *
 * Histories come from the real dev server (short real timeouts), except the one path whose timer is
 * an hour long, recorded on the time-skipping test server.
 *
 * An existing history is never overwritten (it is the evidence that approvals recorded by an older
 * version still replay): record a new path alone (`npm run record-histories -- -t NAME`), or set
 * RECORD_HISTORIES_OVERWRITE=1 after a deliberate, versioned change. The histories recorded before
 * the signed-decisions patch hold unsigned decisions; the scenarios below now sign theirs.
 */
const HISTORIES = join(__dirname, 'histories');

describe('record approval histories', () => {
  const namespace = 'default';
  const taskQueue = `approvals-record-${randomUUID()}`;
  const notifier = new RecordingNotifier();
  let workflowBundle: WorkflowBundleWithSourceMap;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;

  beforeAll(async () => {
    const { logger } = captureRuntimeLogs();
    workflowBundle = await bundleWorkflowCode({ workflowsPath: APPROVAL_WORKFLOWS_PATH, logger });
    const address = testStack().temporalAddress;
    connection = await Connection.connect({ address });
    nativeConnection = await NativeConnection.connect({ address });
    client = new Client({ connection, namespace });
    worker = await createApprovalWorker({ connection: nativeConnection, namespace, taskQueue, notifier, workflowBundle });
    running = worker.run();
    mkdirSync(HISTORIES, { recursive: true });
  });

  afterAll(async () => {
    if (worker) {
      worker.shutdown();
      await running;
    }
    await nativeConnection?.close();
    await connection?.close();
  });

  async function save(name: string, handle: WorkflowHandle): Promise<void> {
    await handle.result();
    const history = await handle.fetchHistory();
    // written whole, then renamed: a replay test running alongside never reads half a file
    const file = join(HISTORIES, `${name}.json`);
    if (existsSync(file) && process.env.RECORD_HISTORIES_OVERWRITE !== '1') throw new Error(`${file} exists: older histories are kept (set RECORD_HISTORIES_OVERWRITE=1 to replace it)`);
    writeFileSync(`${file}.tmp`, historyToJson(history));
    renameSync(`${file}.tmp`, file);
  }

  /** A decision as the Slack app sends it: signed for the approval's request. */
  const decide = async (handle: WorkflowHandle, input: DecisionInput, at = Date.now()) => {
    const { request } = await state(handle);
    return sendDecision(handle, signedFor(request, input, at));
  };

  const start = async (policy: Partial<ApprovalPolicy> = {}) => {
    const request = makeRequest(Date.now(), policy);
    return { request, handle: await startOrGetApproval(client, taskQueue, request) };
  };
  const granted = async (handle: WorkflowHandle, request: ApprovalRequest) => {
    const result = await claim(handle, claimFor(request));
    if (!result.granted) throw new Error(`claim refused: ${result.refusal}`);
    return result.grantId;
  };

  test('approved-executed: a claim waits for the approval, then the execution is reported', async () => {
    const { request, handle } = await start();
    const waiting = claim(handle, claimFor(request, { waitMs: 10_000 }));
    await decide(handle, decisionBy(people.bob, 'approve', Date.now()));
    const won = await waiting;
    if (!won.granted) throw new Error(`claim refused: ${won.refusal}`);
    await report(handle, executionOf(won.grantId));
    await save('approved-executed', handle);
  });

  test('denied', async () => {
    const { handle } = await start();
    await decide(handle, decisionBy(people.carol, 'deny', Date.now(), { reason: 'not in the audit scope' }));
    await save('denied', handle);
  });

  test('denied-unindexed: started without search attributes', async () => {
    const request = makeRequest(Date.now());
    const handle = await client.workflow.start(APPROVAL_WORKFLOW_TYPE, { taskQueue, workflowId: request.approvalId, args: [request] });
    await decide(handle, decisionBy(people.carol, 'deny', Date.now(), { reason: 'no ticket' }));
    await save('denied-unindexed', handle);
  });

  test('expired', async () => {
    const { handle } = await start({ timeoutMs: 1500 });
    await save('expired', handle);
  });

  test('grant-expired', async () => {
    const { handle } = await start({ usableForMs: 1500 });
    await decide(handle, decisionBy(people.bob, 'approve', Date.now()));
    await save('grant-expired', handle);
  });

  test('refused-attempts: every refusal, then approved, used once and executed', async () => {
    const { request, handle } = await start({ maxGroupAgeMs: 5 * MINUTE });
    const now = Date.now();
    await decide(handle, decisionBy(people.alice, 'approve', now)); // SELF_APPROVAL
    await decide(handle, decisionBy(people.erin, 'approve', now)); // NOT_AN_APPROVER
    await decide(handle, decisionBy(people.dave, 'approve', now - 10 * MINUTE)); // STALE_GROUPS
    await decide(handle, decisionBy(people.carol, 'deny', now)); // REASON_REQUIRED
    const counted = decisionBy(people.bob, 'approve', now);
    await decide(handle, counted);
    await decide(handle, counted); // DUPLICATE
    await decide(handle, decisionBy(people.carol, 'deny', now, { reason: 'late' })); // CLOSED
    await claim(handle, claimFor(request, { fingerprint: 'f'.repeat(64) })); // FINGERPRINT_MISMATCH
    await claim(handle, claimFor(request, { subject: people.bob.subject })); // WRONG_PRINCIPAL
    const grantId = await granted(handle, request);
    await claim(handle, claimFor(request, { gatewayInstance: 'gw-test-2' })); // ALREADY_USED
    await handle.executeUpdate(reportExecutionUpdate, { args: [executionOf('not-the-grant')] }).catch(() => undefined); // GRANT_MISMATCH
    await report(handle, executionOf(grantId));
    await save('refused-attempts', handle);
  });

  test('n-of-m: a claim waits in vain (PENDING), then two of three approve', async () => {
    const { request, handle } = await start({ required: 2 });
    await claim(handle, claimFor(request, { waitMs: 300 }));
    const now = Date.now();
    await decide(handle, decisionBy(people.bob, 'approve', now));
    await decide(handle, decisionBy(people.carol, 'approve', now));
    await report(handle, executionOf(await granted(handle, request)));
    await save('n-of-m', handle);
  });

  test('signed-decisions: unsigned, rogue-signed, stale and self (by e-mail) attempts refused, then a signed approval runs', async () => {
    const { request, handle } = await start();
    const now = Date.now();
    const mallory = { subject: 'mallory', groups: ['vec-approvers'], via: 'api' as const, groupsVerifiedAt: now };
    await handle.executeUpdate(decideUpdate, { args: [{ decisionId: 'forged-1', approver: mallory, decision: 'approve' }] }); // UNSIGNED
    await sendDecision(handle, makeTestDecider().signer.sign(request.approvalId, request.fingerprint, decisionBy(people.dave, 'approve', now), now)); // BAD_SIGNATURE
    await decide(handle, decisionBy(people.dave, 'approve', now), now - 10 * MINUTE); // STALE_SIGNATURE
    await decide(handle, decisionBy({ ...people.dave, subject: 'user-alice-2', email: 'ALICE@example.test' }, 'approve', now)); // SELF_APPROVAL (e-mail)
    await decide(handle, decisionBy(people.bob, 'approve', now));
    await report(handle, executionOf(await granted(handle, request)));
    await save('signed-decisions', handle);
  });

  test('step-up: a decision without a recent sign-in refused, then one after a sign-in runs', async () => {
    const { request, handle } = await start({ maxAuthAgeMs: 5 * MINUTE });
    const now = Date.now();
    const bob = decisionBy(people.bob, 'approve', now);
    await decide(handle, { ...bob, approver: { ...bob.approver, authTime: now - 10 * MINUTE } }); // STEP_UP_REQUIRED
    const again = decisionBy(people.bob, 'approve', now);
    await decide(handle, { ...again, approver: { ...again.approver, authTime: now } });
    await report(handle, executionOf(await granted(handle, request)));
    await save('step-up', handle);
  });

  test('message-failed: the chat refuses the post, the approval goes on', async () => {
    const request = makeRequest(Date.now());
    notifier.rejecting.add(request.approvalId);
    const handle = await startOrGetApproval(client, taskQueue, request);
    await decide(handle, decisionBy(people.bob, 'approve', Date.now()));
    await report(handle, executionOf(await granted(handle, request)));
    await save('message-failed', handle);
  });

  test('claimed-unreported: a claimed grant whose execution is never reported (time-skipping server)', async () => {
    const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testStack().temporalTestServerPath } } });
    try {
      const skippingQueue = `${taskQueue}-skipping`;
      const skippingWorker = await createApprovalWorker({ connection: env.nativeConnection, namespace, taskQueue: skippingQueue, notifier, workflowBundle });
      await skippingWorker.runUntil(async () => {
        const request = makeRequest(await env.currentTimeMs(), { timeoutMs: HOUR });
        const handle = await startOrGetApproval(env.client, skippingQueue, request);
        await decide(handle, decisionBy(people.bob, 'approve', await env.currentTimeMs()), await env.currentTimeMs());
        await granted(handle, request);
        await save('claimed-unreported', handle);
      });
    } finally {
      await env.teardown();
    }
  });
});

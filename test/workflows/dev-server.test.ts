import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { claim, decide, report, startOrGetApproval } from '../../src/approval/temporal-client';
import { ensureSearchAttributes } from '../../src/approval/temporal-setup';
import { APPROVAL_WORKFLOWS_PATH, createApprovalWorker } from '../../src/approval/worker';
import { SEARCH_ATTRIBUTES } from '../../workflows/approval-contract';
import { testStack } from '../support/stack';
import { claimFor, decisionBy, executionOf, makeRequest, people, RecordingNotifier, signedFor } from './support/fixtures';
import { captureRuntimeLogs } from './support/history';

/** The approval on the real dev server: search attributes registered, listed by outcome. */
describe('approvals on the Temporal dev server', () => {
  const namespace = 'default';
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let client: Client;

  beforeAll(async () => {
    captureRuntimeLogs();
    const address = testStack().temporalAddress;
    connection = await Connection.connect({ address });
    nativeConnection = await NativeConnection.connect({ address });
    client = new Client({ connection, namespace });
  });

  afterAll(async () => {
    await nativeConnection?.close();
    await connection?.close();
  });

  test('ensureSearchAttributes registers the five attributes once and is idempotent', async () => {
    await ensureSearchAttributes(connection, namespace);
    expect(await ensureSearchAttributes(nativeConnection, namespace)).toEqual({ added: [] });
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    for (const name of Object.values(SEARCH_ATTRIBUTES)) expect(listed.customAttributes).toHaveProperty(name);
  });

  test('an approval runs to executed through the client helpers and is listed by VecgateOutcome', async () => {
    const taskQueue = `approvals-dev-${randomUUID()}`;
    const notifier = new RecordingNotifier();
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: APPROVAL_WORKFLOWS_PATH, logger: captureRuntimeLogs().logger });
    const worker = await createApprovalWorker({ connection: nativeConnection, namespace, taskQueue, notifier, workflowBundle });
    const request = makeRequest(Date.now());

    await worker.runUntil(async () => {
      const handle = await startOrGetApproval(client, taskQueue, request);
      const decided = await decide(handle, signedFor(request, decisionBy(people.bob, 'approve', Date.now()), Date.now()));
      expect(decided).toMatchObject({ counted: true, state: { status: 'approved' } });
      const claimed = await claim(handle, claimFor(request));
      if (!claimed.granted) throw new Error(`claim refused: ${claimed.refusal}`);
      await report(handle, executionOf(claimed.grantId));
      expect(await handle.result()).toMatchObject({ status: 'executed' });

      const query = `${SEARCH_ATTRIBUTES.outcome} = "executed" AND ${SEARCH_ATTRIBUTES.requester} = "${people.alice.subject}" AND ${SEARCH_ATTRIBUTES.collection} = "invoices" AND WorkflowId = "${request.approvalId}"`;
      const listed = await poll(async () => {
        const ids: string[] = [];
        for await (const execution of client.workflow.list({ query })) ids.push(execution.workflowId);
        return ids.length > 0 ? ids : undefined;
      });
      expect(listed).toEqual([request.approvalId]);

      // once closed, the server takes no update: the helper answers CLOSED with the final state
      expect(await decide(handle, decisionBy(people.carol, 'approve', Date.now()))).toMatchObject({ counted: false, refusal: 'CLOSED', state: { status: 'executed' } });
      // and the same request may ask for a new approval (a new run under the same id)
      const again = await startOrGetApproval(client, taskQueue, { ...request, requestedAt: Date.now() });
      expect(again.workflowId).toBe(handle.workflowId);
      expect(again.firstExecutionRunId).not.toBe(handle.firstExecutionRunId);
      await again.terminate('test done');
    });
    expect(notifier.updatesOf(request.approvalId)).toEqual(['approved', 'executed']);
  });
});

async function poll<T>(read: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('visibility did not show the approval in time');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

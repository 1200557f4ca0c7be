import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type Worker } from '@temporalio/worker';
import { createApprovalWorker, APPROVAL_WORKFLOWS_PATH } from '../../src/approval/worker';
import { claim, decide as sendDecision, report, startOrGetApproval, state, type ApprovalHandle, type StartedApprovalHandle } from '../../src/approval/temporal-client';
import { ensureSearchAttributes } from '../../src/approval/temporal-setup';
import {
  APPROVAL_WORKFLOW_TYPE,
  decideUpdate,
  reportExecutionUpdate,
  type ApprovalPolicy,
  type ApprovalRequest,
  type DecisionInput,
  type DecisionResult,
} from '../../workflows/approval-contract';
import { APPROVAL_SEARCH_KEYS } from '../../workflows/search-attributes';
import { testStack } from '../support/stack';
import { makeTestDecider } from '../support/decider';
import { claimFor, decisionBy, executionOf, HOUR, makeRequest, MINUTE, people, RecordingNotifier, signedFor } from './support/fixtures';
import { captureRuntimeLogs, updatesInHistory, type CapturedLog } from './support/history';

/**
 * The approval workflow on the time-skipping test server: one server, one bundle and one worker
 * for the file; each test has its own approval. Timeouts (decision deadline, grant validity,
 * claim waits) are reached by skipping server time, not by waiting. Approvals a test leaves open
 * are not terminated: the test server (1.40) keeps time locked after a workflow is terminated while
 * one of its activities runs; later time skips simply expire them.
 */
describe('the approval workflow', () => {
  const namespace = 'default';
  const taskQueue = `approvals-${randomUUID()}`;
  const notifier = new RecordingNotifier();
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let logs: CapturedLog[];

  beforeAll(async () => {
    const captured = captureRuntimeLogs();
    const logger = captured.logger;
    logs = captured.logs;
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: testStack().temporalTestServerPath } },
    });
    await ensureSearchAttributes(env.connection, namespace);
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: APPROVAL_WORKFLOWS_PATH, logger });
    worker = await createApprovalWorker({ connection: env.nativeConnection, namespace, taskQueue, notifier, workflowBundle });
    running = worker.run();
  });

  afterAll(async () => {
    if (worker) {
      worker.shutdown();
      await running;
    }
    await env?.teardown();
  });

  /** The server's clock: the workflow's clock, which time skipping moves. */
  const now = () => env.currentTimeMs();

  async function startApproval(policy: Partial<ApprovalPolicy> = {}): Promise<{ request: ApprovalRequest; handle: StartedApprovalHandle }> {
    const request = makeRequest(await now(), policy);
    const handle = await startOrGetApproval(env.client, taskQueue, request);
    return { request, handle };
  }

  /** A decision as the Slack app sends it: signed for the approval's request, now (the server's clock). */
  async function decide(handle: ApprovalHandle, input: DecisionInput): Promise<DecisionResult> {
    const { request } = await state(handle);
    return sendDecision(handle, signedFor(request, input, await now()));
  }

  async function decisionsInHistory(handle: ApprovalHandle) {
    return (await updatesInHistory(handle)).filter((u) => u.name === decideUpdate.name).map((u) => u.result as DecisionResult);
  }

  test('one approval of one approves: a single-use grant bound to the request is issued and its execution recorded', async () => {
    const { request, handle } = await startApproval();
    const t = await now();

    const decided = await decide(handle, decisionBy(people.bob, 'approve', t));
    expect(decided).toMatchObject({ counted: true, state: { status: 'approved' } });
    const grant = decided.state.grant!;
    expect(grant.expiresAt - grant.issuedAt).toBe(request.policy.usableForMs);

    const claimed = await claim(handle, claimFor(request));
    expect(claimed).toMatchObject({ granted: true, grantId: grant.grantId });

    const execution = executionOf(grant.grantId);
    const reported = await report(handle, execution);
    expect(reported.status).toBe('executed');
    expect(reported.execution).toMatchObject(execution);

    const final = await handle.result();
    expect(final).toMatchObject({ status: 'executed', decisions: [{ approver: { subject: people.bob.subject }, decision: 'approve' }], refusals: [] });
    expect(final.grant).toMatchObject({ grantId: grant.grantId, claimId: expect.any(String), gatewayInstance: 'gw-test-1' });
    expect(final.closedAt).toBeGreaterThanOrEqual(final.execution!.at);

    expect(notifier.postCalls.get(request.approvalId)).toBe(1);
    expect(final.message).toEqual(notifier.posts.get(request.approvalId)?.ref);
    expect(notifier.updatesOf(request.approvalId)).toEqual(['approved', 'executed']);
    expect(notifier.editedOnlyThePost(request.approvalId)).toBe(true);
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(APPROVAL_SEARCH_KEYS.outcome)).toBe('executed');
    expect(described.typedSearchAttributes.get(APPROVAL_SEARCH_KEYS.requester)).toBe(people.alice.subject);
    expect(described.typedSearchAttributes.get(APPROVAL_SEARCH_KEYS.collection)).toEqual(['customers', 'invoices']);
  });

  test('THREATS 35: a decision sent straight to Temporal by an invented approver is a refused attempt (UNSIGNED); the claim stays PENDING', async () => {
    const { request, handle } = await startApproval();
    const mallory = { subject: 'mallory', email: 'mallory@example.test', groups: ['vec-approvers'], via: 'api' as const, groupsVerifiedAt: await now() };
    // what `temporal workflow update execute --name decide` sends: well-formed, fresh groups, no signature
    const forged = await handle.executeUpdate(decideUpdate, { args: [{ decisionId: 'forged-1', approver: mallory, decision: 'approve' }] });
    expect(forged).toMatchObject({ counted: false, refusal: 'UNSIGNED', state: { status: 'pending', decisions: [] } });
    expect(forged.message).toMatch(/not signed by the vecgate Slack app/);

    expect(await claim(handle, claimFor(request))).toMatchObject({ granted: false, refusal: 'PENDING' });
    const current = await state(handle);
    expect(current.grant).toBeUndefined();
    expect(current.refusals).toMatchObject([{ decisionId: 'forged-1', approver: { subject: 'mallory' }, refusal: 'UNSIGNED' }]);
    // an accepted, completed update whose result says refused: evidence in the history
    expect((await updatesInHistory(handle)).map((u) => [u.name, (u.result as { refusal?: string }).refusal])).toEqual([
      ['decide', 'UNSIGNED'],
      ['claimGrant', 'PENDING'],
    ]);
  });

  test('a decision signed by an untrusted key, for another approval, altered after signing, or signed too long ago does not count', async () => {
    const { request, handle } = await startApproval({ required: 1 });
    const t = await now();
    const rogue = makeTestDecider();
    const bob = (id: string) => decisionBy(people.bob, 'approve', t, { decisionId: id });

    const untrusted = rogue.signer.sign(request.approvalId, request.fingerprint, bob('rogue-key'), t);
    const otherApproval = signedFor({ approvalId: 'approval-other', fingerprint: request.fingerprint }, bob('other-approval'), t);
    const otherRequest = signedFor({ approvalId: request.approvalId, fingerprint: 'e'.repeat(64) }, bob('other-request'), t);
    const signedCarol = signedFor(request, decisionBy(people.carol, 'approve', t, { decisionId: 'altered' }), t);
    const altered = { ...signedCarol, approver: { ...signedCarol.approver, subject: people.bob.subject } };
    const old = signedFor(request, bob('old'), t - 6 * MINUTE);
    const garbage = { ...bob('garbage'), signature: { publicKey: 'zz', signedAt: t, value: 'not hex' } };
    const results = [];
    for (const input of [untrusted, otherApproval, otherRequest, altered, old, garbage]) results.push(await sendDecision(handle, input));
    expect(results.map((r) => r.refusal)).toEqual(['BAD_SIGNATURE', 'BAD_SIGNATURE', 'BAD_SIGNATURE', 'BAD_SIGNATURE', 'STALE_SIGNATURE', 'BAD_SIGNATURE']);
    expect(results.every((r) => !r.counted && r.state.status === 'pending')).toBe(true);

    const good = await sendDecision(handle, signedFor(request, bob('good'), t));
    expect(good).toMatchObject({ counted: true, state: { status: 'approved' } });
    expect(good.state.decisions[0]?.signature).toEqual({ publicKey: request.deciderKeys![0], signedAt: t, value: expect.stringMatching(/^[0-9a-f]{128}$/) });
  });

  test('an approval started without trusted decider keys refuses every decision UNSIGNED, signed or not', async () => {
    const request = makeRequest(await now(), {}, { deciderKeys: [] });
    const handle = await startOrGetApproval(env.client, taskQueue, request);
    const refused = await sendDecision(handle, signedFor(request, decisionBy(people.bob, 'approve', await now()), await now()));
    expect(refused).toMatchObject({ counted: false, refusal: 'UNSIGNED', state: { status: 'pending' } });
  });

  test('a deny with a reason denies at once, and a claim waiting for the decision hears DENIED', async () => {
    const { request, handle } = await startApproval();
    const waiting = claim(handle, claimFor(request, { waitMs: 10 * MINUTE }));

    const denied = await decide(handle, decisionBy(people.carol, 'deny', await now(), { reason: 'export not covered by the audit scope' }));
    expect(denied).toMatchObject({ counted: true, state: { status: 'denied' } });
    expect(await waiting).toMatchObject({ granted: false, refusal: 'DENIED' });

    const final = await handle.result();
    expect(final).toMatchObject({ status: 'denied', decisions: [{ decision: 'deny', reason: 'export not covered by the audit scope' }] });
    expect(final.grant).toBeUndefined();
    expect(final.execution).toBeUndefined();
    expect(notifier.updatesOf(request.approvalId)).toEqual(['denied']);
  });

  test('two of three approvers (N of M): the first approval leaves it pending, the second approves', async () => {
    const { request, handle } = await startApproval({ required: 2 });
    const t = await now();

    const first = await decide(handle, decisionBy(people.bob, 'approve', t));
    expect(first).toMatchObject({ counted: true, state: { status: 'pending' } });
    expect(first.message).toMatch(/1 of 2/);
    expect(first.state.grant).toBeUndefined();
    const second = await decide(handle, decisionBy(people.carol, 'approve', t));
    expect(second).toMatchObject({ counted: true, state: { status: 'approved' } });
    expect(second.state.grant).toBeDefined();
    const late = await decide(handle, decisionBy(people.dave, 'deny', t, { reason: 'too late' }));
    expect(late).toMatchObject({ counted: false, refusal: 'CLOSED' });

    expect(await waitForUpdates(request.approvalId, 2)).toEqual(['pending', 'approved']);
    const current = await state(handle);
    expect(current.decisions.map((d) => d.approver.subject)).toEqual([people.bob.subject, people.carol.subject]);
    expect(current.refusals).toMatchObject([{ approver: { subject: people.dave.subject }, refusal: 'CLOSED' }]);
  });

  test('one counted deny ends an N-of-M approval at once, whatever approvals came before', async () => {
    const { handle } = await startApproval({ required: 2 });
    const t = await now();
    await decide(handle, decisionBy(people.bob, 'approve', t));
    const deny = await decide(handle, decisionBy(people.dave, 'deny', t, { reason: 'wrong quarter' }));
    expect(deny).toMatchObject({ counted: true, state: { status: 'denied' } });
    expect((await handle.result()).status).toBe('denied');
  });

  test('the requester cannot decide, even as a member of the approver group; the refusals are in the state and the history', async () => {
    const { request, handle } = await startApproval();
    const t = await now();
    const selfApprove = await decide(handle, decisionBy(people.alice, 'approve', t));
    const selfDeny = await decide(handle, decisionBy(people.alice, 'deny', t, { reason: 'changed my mind' }));
    for (const result of [selfApprove, selfDeny]) {
      expect(result).toMatchObject({ counted: false, refusal: 'SELF_APPROVAL', state: { status: 'pending' } });
    }

    const current = await state(handle);
    expect(current.decisions).toEqual([]);
    expect(current.refusals).toMatchObject([
      { approver: { subject: request.requester.subject }, decision: 'approve', refusal: 'SELF_APPROVAL' },
      { approver: { subject: request.requester.subject }, decision: 'deny', refusal: 'SELF_APPROVAL' },
    ]);
    const recorded = await updatesInHistory(handle);
    expect(recorded.map((u) => [u.name, (u.input[0] as { decisionId: string }).decisionId, (u.result as DecisionResult).refusal])).toEqual([
      ['decide', current.refusals[0]!.decisionId, 'SELF_APPROVAL'],
      ['decide', current.refusals[1]!.decisionId, 'SELF_APPROVAL'],
    ]);
  });

  test('someone outside the approver groups is refused NOT_AN_APPROVER', async () => {
    const { handle } = await startApproval();
    const refused = await decide(handle, decisionBy(people.erin, 'approve', await now()));
    expect(refused).toMatchObject({ counted: false, refusal: 'NOT_AN_APPROVER', state: { status: 'pending', decisions: [] } });
    expect(refused.message).toMatch(/vec-approvers/);
    expect((await decisionsInHistory(handle)).map((d) => d.refusal)).toEqual(['NOT_AN_APPROVER']);
  });

  test('a replayed decision (same decisionId) is answered DUPLICATE and counts once', async () => {
    const { request, handle } = await startApproval({ required: 2 });
    const click = decisionBy(people.bob, 'approve', await now());
    expect(await decide(handle, click)).toMatchObject({ counted: true });
    const again = await decide(handle, click);
    expect(again).toMatchObject({ counted: false, refusal: 'DUPLICATE', state: { status: 'pending' } });
    expect(again.message).toMatch(/already received and it was counted/);
    expect(again.state.decisions).toHaveLength(1);
    expect((await decisionsInHistory(handle)).map((d) => d.refusal ?? 'counted')).toEqual(['counted', 'DUPLICATE']);
    expect(await waitForUpdates(request.approvalId, 1)).toEqual(['pending']);
  });

  test('an approver decides once: a second decision (another click) is refused ALREADY_DECIDED', async () => {
    const { handle } = await startApproval({ required: 2 });
    const t = await now();
    await decide(handle, decisionBy(people.bob, 'approve', t));
    const second = await decide(handle, decisionBy(people.bob, 'approve', t));
    const turned = await decide(handle, decisionBy(people.bob, 'deny', t, { reason: 'second thoughts' }));
    expect([second.refusal, turned.refusal]).toEqual(['ALREADY_DECIDED', 'ALREADY_DECIDED']);
    expect(turned.state).toMatchObject({ status: 'pending', decisions: [{ decision: 'approve' }] });
  });

  test('decisions after the approval closed are refused CLOSED, also once the workflow has ended', async () => {
    const { handle } = await startApproval();
    const t = await now();
    await decide(handle, decisionBy(people.bob, 'approve', t));
    const afterApproval = await decide(handle, decisionBy(people.carol, 'deny', t, { reason: 'late' }));
    expect(afterApproval).toMatchObject({ counted: false, refusal: 'CLOSED', state: { status: 'approved' } });
    expect((await decisionsInHistory(handle)).map((d) => d.refusal ?? 'counted')).toEqual(['counted', 'CLOSED']);

    // let the grant expire: the workflow ends, and a decision then is answered CLOSED by the client helper
    expect((await handle.result()).status).toBe('grant_expired');
    const afterEnd = await decide(handle, decisionBy(people.dave, 'approve', await now()));
    expect(afterEnd).toMatchObject({ counted: false, refusal: 'CLOSED', state: { status: 'grant_expired' } });
  });

  test('approver groups confirmed longer ago than policy.maxGroupAgeMs (or never) are refused STALE_GROUPS', async () => {
    const { request, handle } = await startApproval({ maxGroupAgeMs: 5 * MINUTE });
    const t = await now();
    const stale = await decide(handle, decisionBy(people.bob, 'approve', t - 6 * MINUTE));
    const unknown = await decide(handle, { ...decisionBy(people.carol, 'approve', t), approver: { ...people.carol, via: 'api' } });
    expect([stale.refusal, unknown.refusal]).toEqual(['STALE_GROUPS', 'STALE_GROUPS']);
    const fresh = await decide(handle, decisionBy(people.bob, 'approve', t - MINUTE));
    expect(fresh).toMatchObject({ counted: true, state: { status: 'approved' } });
    expect((await state(handle)).refusals.map((r) => r.refusal)).toEqual(['STALE_GROUPS', 'STALE_GROUPS']);
    expect(request.policy.maxGroupAgeMs).toBe(5 * MINUTE);
  });

  test('step-up: with policy.maxAuthAgeMs, an approver who signed in longer ago is refused STEP_UP_REQUIRED; after a fresh sign-in it counts', async () => {
    const { handle } = await startApproval({ maxAuthAgeMs: 5 * MINUTE });
    const t = await now();
    const old = decisionBy(people.bob, 'approve', t);
    const refused = await decide(handle, { ...old, approver: { ...old.approver, authTime: t - 6 * MINUTE } });
    expect(refused).toMatchObject({ counted: false, refusal: 'STEP_UP_REQUIRED', state: { status: 'pending' } });
    expect(refused.message).toMatch(/signed in within the last 5 minutes/);
    const fresh = decisionBy(people.bob, 'approve', t);
    expect(await decide(handle, { ...fresh, approver: { ...fresh.approver, authTime: t - MINUTE } })).toMatchObject({ counted: true, state: { status: 'approved' } });
  });

  test('a deny without a reason is refused REASON_REQUIRED and does not count', async () => {
    const { handle } = await startApproval();
    const t = await now();
    const blank = await decide(handle, decisionBy(people.bob, 'deny', t, { reason: '  ' }));
    expect(blank).toMatchObject({ counted: false, refusal: 'REASON_REQUIRED', state: { status: 'pending' } });
    const withReason = await decide(handle, decisionBy(people.bob, 'deny', t, { reason: 'no ticket' }));
    expect(withReason).toMatchObject({ counted: true, state: { status: 'denied' } });
    await handle.result();
  });

  test('no decision before the deadline: expired in test time, message updated, nothing granted', async () => {
    const { request, handle } = await startApproval({ timeoutMs: 2 * HOUR });
    const before = await now();
    const startedReal = Date.now();
    const final = await handle.result();
    expect(final).toMatchObject({ status: 'expired', decisions: [] });
    expect(final.grant).toBeUndefined();
    expect(final.execution).toBeUndefined();
    expect(final.closedAt).toBeGreaterThanOrEqual(request.requestedAt + 2 * HOUR);
    expect((await now()) - before).toBeGreaterThanOrEqual(2 * HOUR - 1000);
    expect(Date.now() - startedReal).toBeLessThan(20_000);
    expect(notifier.postCalls.get(request.approvalId)).toBe(1);
    expect(notifier.updatesOf(request.approvalId)).toEqual(['expired']);
    expect((await handle.describe()).typedSearchAttributes.get(APPROVAL_SEARCH_KEYS.outcome)).toBe('expired');
  });

  test('a grant is used once: a second claim is ALREADY_USED, a retried claim (same claimId) gets the same grant', async () => {
    const { request, handle } = await startApproval();
    await decide(handle, decisionBy(people.bob, 'approve', await now()));
    const first = claimFor(request);
    const won = await claim(handle, first);
    expect(won.granted).toBe(true);
    expect(await claim(handle, first)).toEqual(won);
    // a second gateway instance retrying the same claimId directly, past the update-id dedupe
    expect(await handle.executeUpdate('claimGrant', { args: [first] })).toMatchObject({ granted: true, grantId: won.granted && won.grantId });
    const second = await claim(handle, claimFor(request, { gatewayInstance: 'gw-test-2' }));
    expect(second).toMatchObject({ granted: false, refusal: 'ALREADY_USED' });
    expect(second.granted || second.message).toMatch(/once/);
  });

  test('a claim for another request or by another principal is refused at once, even while pending', async () => {
    const { request, handle } = await startApproval();
    const started = Date.now();
    const otherRequest = await claim(handle, claimFor(request, { fingerprint: 'f'.repeat(64), waitMs: HOUR }));
    const otherPrincipal = await claim(handle, claimFor(request, { subject: people.bob.subject, waitMs: HOUR }));
    expect(otherRequest).toMatchObject({ granted: false, refusal: 'FINGERPRINT_MISMATCH' });
    expect(otherPrincipal).toMatchObject({ granted: false, refusal: 'WRONG_PRINCIPAL' });
    expect(Date.now() - started).toBeLessThan(10_000);

    await decide(handle, decisionBy(people.bob, 'approve', await now()));
    expect(await claim(handle, claimFor(request, { subject: people.bob.subject }))).toMatchObject({ refusal: 'WRONG_PRINCIPAL' });
    expect(await claim(handle, claimFor(request, { fingerprint: 'e'.repeat(64) }))).toMatchObject({ refusal: 'FINGERPRINT_MISMATCH' });
    expect(await claim(handle, claimFor(request))).toMatchObject({ granted: true });
    const claims = (await updatesInHistory(handle)).filter((u) => u.name === 'claimGrant');
    expect(claims.map((u) => (u.result as { refusal?: string }).refusal ?? 'granted')).toEqual([
      'FINGERPRINT_MISMATCH',
      'WRONG_PRINCIPAL',
      'WRONG_PRINCIPAL',
      'FINGERPRINT_MISMATCH',
      'granted',
    ]);
  });

  test('an unused grant expires (grant_expired) and can no longer be claimed', async () => {
    const { request, handle } = await startApproval({ usableForMs: 30 * MINUTE });
    await decide(handle, decisionBy(people.bob, 'approve', await now()));
    const final = await handle.result();
    expect(final.status).toBe('grant_expired');
    expect(final.execution).toBeUndefined();
    expect(final.closedAt).toBeGreaterThanOrEqual(final.grant!.expiresAt);
    expect(final.grant!.claimedAt).toBeUndefined();
    expect(notifier.updatesOf(request.approvalId)).toEqual(['approved', 'grant_expired']);
  });

  test('a claim may wait (waitMs) for a pending approval and wins once it is approved', async () => {
    const { request, handle } = await startApproval();
    const waiting = claim(handle, claimFor(request, { waitMs: 30 * MINUTE }));
    await waitFor(async () => (await updatesInHistory(handle)).length === 1);
    await decide(handle, decisionBy(people.bob, 'approve', await now()));
    const claimed = await waiting;
    expect(claimed).toMatchObject({ granted: true, state: { status: 'approved' } });
    await report(handle, executionOf(claimed.granted ? claimed.grantId : ''));
    expect((await handle.result()).status).toBe('executed');
  });

  test('a claim that waits in vain answers PENDING after waitMs of test time', async () => {
    const { request, handle } = await startApproval({ timeoutMs: 2 * HOUR });
    const waiting = claim(handle, claimFor(request, { waitMs: 5 * MINUTE }));
    await waitFor(async () => (await updatesInHistory(handle)).length === 1);
    await env.sleep(5 * MINUTE);
    expect(await waiting).toMatchObject({ granted: false, refusal: 'PENDING', state: { status: 'pending' } });
  });

  test('an execution report must name the claimed grant', async () => {
    const { request, handle } = await startApproval();
    const approved = await decide(handle, decisionBy(people.bob, 'approve', await now()));
    const grantId = approved.state.grant!.grantId;
    await expect(report(handle, executionOf(grantId))).rejects.toThrow(WorkflowUpdateFailedError);
    await claim(handle, claimFor(request));
    await expect(handle.executeUpdate(reportExecutionUpdate, { args: [executionOf('not-the-grant')] })).rejects.toMatchObject({ cause: { type: 'GRANT_MISMATCH' } });
    const failures = (await updatesInHistory(handle)).filter((u) => u.failure).map((u) => u.failure);
    expect(failures).toEqual([expect.stringMatching(/NOT_CLAIMED/), expect.stringMatching(/GRANT_MISMATCH/)]);
    expect((await report(handle, executionOf(grantId))).status).toBe('executed');
    expect((await handle.result()).status).toBe('executed');
  });

  test('malformed input is rejected by the validators and leaves no trace in the history', async () => {
    const { handle } = await startApproval();
    await expect(handle.executeUpdate(decideUpdate, { args: [{ decisionId: '', approver: people.bob, decision: 'approve' } as never] })).rejects.toThrow(WorkflowUpdateFailedError);
    await expect(handle.executeUpdate('claimGrant', { args: [{ claimId: 'c' }] })).rejects.toThrow(WorkflowUpdateFailedError);
    expect(await updatesInHistory(handle)).toEqual([]);
  });

  test('a chat outage does not stop the approval: decisions through the API still count', async () => {
    const request = makeRequest(await now());
    notifier.failing.add(request.approvalId);
    const handle = await startOrGetApproval(env.client, taskQueue, request);
    const approved = await decide(handle, { ...decisionBy(people.bob, 'approve', await now()), approver: { ...people.bob, via: 'api', groupsVerifiedAt: await now() } });
    expect(approved.state.status).toBe('approved');
    const claimed = await claim(handle, claimFor(request));
    await report(handle, executionOf(claimed.granted ? claimed.grantId : ''));
    const final = await handle.result();
    expect(final.status).toBe('executed');
    expect(final.message).toBeUndefined();
    expect(notifier.postCalls.get(request.approvalId)).toBe(8);
    expect(notifier.updatesOf(request.approvalId)).toEqual([]);
    // the runtime hands logs over after ~100 ms (it sorts them by time first)
    await waitFor(async () => logs.some((l) => l.level === 'ERROR' && /could not be posted/.test(l.message) && l.meta?.approvalId === request.approvalId));
  });

  test('a repeated start joins the running approval; started without search attributes it still runs', async () => {
    const { request, handle } = await startApproval();
    const again = await startOrGetApproval(env.client, taskQueue, { ...request, requestedAt: request.requestedAt + 1000 });
    expect(again.firstExecutionRunId).toBe(handle.firstExecutionRunId);

    const bare = makeRequest(await now());
    const unindexed = await env.client.workflow.start(APPROVAL_WORKFLOW_TYPE, { taskQueue, workflowId: bare.approvalId, args: [bare] });
    await decide(unindexed, decisionBy(people.bob, 'deny', await now(), { reason: 'no' }));
    expect(await unindexed.result()).toMatchObject({ status: 'denied' });
    expect((await unindexed.describe()).typedSearchAttributes.get(APPROVAL_SEARCH_KEYS.outcome)).toBeUndefined();
  });

  /** The message edits of an approval that is still running (activities complete asynchronously). */
  async function waitForUpdates(approvalId: string, count: number): Promise<string[]> {
    await waitFor(async () => notifier.updatesOf(approvalId).length >= count);
    return notifier.updatesOf(approvalId);
  }
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

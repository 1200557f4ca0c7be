import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import {
  APPROVALS_CSV_COLUMNS,
  approvalCsvRow,
  approvalRecordOf,
  decodePayload,
  historyFileName,
  historyFindings,
  maskHistory,
  type MaskText,
} from '../../src/evidence/approval-history';
import { approvalsCsvLine, replayBundleHistories } from '../../src/evidence/approvals';
import type { HistoryJson } from '../../src/evidence/history-json';
import { compileMasking, maskingRuleSchema } from '../../src/masking';
import type { ApprovalRequest, ApprovalState } from '../../workflows/approval-contract';
import { captureRuntimeLogs } from '../workflows/support/history';

/**
 * approvals.csv and the checks of an exported history are pure functions of the history JSON:
 * tested here on the histories recorded from the real workflow (test/workflows/histories/).
 */
const HISTORIES = join(__dirname, '..', 'workflows', 'histories');
const recorded = (name: string): HistoryJson => JSON.parse(readFileSync(join(HISTORIES, `${name}.json`), 'utf8')) as HistoryJson;

type Attributes = Record<string, unknown>;
const attributes = (h: HistoryJson, key: string): Attributes[] => h.events.map((e) => e[key] as Attributes | undefined).filter((a): a is Attributes => a !== undefined);
const payloadAt = (container: unknown): { payloads: Array<{ data: string }> } => container as { payloads: Array<{ data: string }> };
/** Edits the JSON value of a payload list's first payload. */
function edit<T>(container: unknown, change: (value: T) => void): void {
  const payload = payloadAt(container).payloads[0] as { data: string };
  const value = decodePayload(payload) as T;
  change(value);
  payload.data = Buffer.from(JSON.stringify(value)).toString('base64');
}
const input = (h: HistoryJson) => attributes(h, 'workflowExecutionStartedEventAttributes')[0]?.input;
const result = (h: HistoryJson) => attributes(h, 'workflowExecutionCompletedEventAttributes')[0]?.result;
const decideInputs = (h: HistoryJson) =>
  attributes(h, 'workflowExecutionUpdateAcceptedEventAttributes')
    .map((a) => (a.acceptedRequest as { input: { name: string; args: unknown } }).input)
    .filter((i) => i.name === 'decide')
    .map((i) => i.args);
/** Every JSON payload of the history, decoded, as one text to search. */
const allPayloadText = (h: HistoryJson): string => {
  const found: unknown[] = [];
  const visit = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    const value = decodePayload(node);
    if (value !== undefined) found.push(value);
    else Object.values(node).forEach(visit);
  };
  visit(h.events);
  return JSON.stringify(found);
};

describe('an approval row is derived from the history alone', () => {
  test.each([
    // path, status, counted decisions, refused attempts, refused claims, claimed, executed
    ['approved-executed', 'executed', ['user-bob approve'], [], [], true, true],
    ['claimed-unreported', 'approved', ['user-bob approve'], [], [], true, false],
    ['denied', 'denied', ['user-carol deny'], [], [], false, false],
    ['denied-unindexed', 'denied', ['user-carol deny'], [], [], false, false],
    ['expired', 'expired', [], [], [], false, false],
    ['grant-expired', 'grant_expired', ['user-bob approve'], [], [], false, false],
    ['message-failed', 'executed', ['user-bob approve'], [], [], true, true],
    ['n-of-m', 'executed', ['user-bob approve', 'user-carol approve'], [], ['PENDING'], true, true],
    [
      'refused-attempts',
      'executed',
      ['user-bob approve'],
      ['user-alice SELF_APPROVAL', 'user-erin NOT_AN_APPROVER', 'user-dave STALE_GROUPS', 'user-carol REASON_REQUIRED', 'user-bob DUPLICATE', 'user-carol CLOSED'],
      ['FINGERPRINT_MISMATCH', 'WRONG_PRINCIPAL', 'ALREADY_USED'],
      true,
      true,
    ],
    ['signed-decisions', 'executed', ['user-bob approve'], ['mallory UNSIGNED', 'user-dave BAD_SIGNATURE', 'user-dave STALE_SIGNATURE', 'user-alice-2 SELF_APPROVAL'], [], true, true],
    ['step-up', 'executed', ['user-bob approve'], ['user-bob STEP_UP_REQUIRED'], [], true, true],
  ] as const)('%s: %s', (name, status, decisions, refusals, claimRefusals, claimed, executed) => {
    const history = recorded(name);
    const record = approvalRecordOf(history);
    const final = decodePayload(payloadAt(result(history)).payloads[0]) as ApprovalState;
    expect(record.status).toBe(status);
    expect(record.workflowId).toBe(final.approvalId);
    expect(record.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(record.decisions.map((d) => `${d.subject} ${d.decision}`)).toEqual(decisions);
    expect(record.refusals.map((r) => `${r.subject} ${r.refusal}`)).toEqual(refusals);
    expect(record.claimRefusals.map((r) => r.refusal)).toEqual(claimRefusals);
    expect(record.grant?.claimedAt !== undefined).toBe(claimed);
    expect(record.execution !== undefined).toBe(executed);
    if (executed) expect(record.execution).toMatchObject({ status: final.execution?.status, bytes: final.execution?.bytes, sha256: final.execution?.responseSha256 });
    expect(historyFindings(history)).toEqual([]);
  });

  test('the csv row names requester, reason, approvers with times, signatures and the execution', () => {
    const row = Object.fromEntries(APPROVALS_CSV_COLUMNS.map((c, i) => [c, approvalCsvRow(approvalRecordOf(recorded('signed-decisions')))[i]]));
    expect(row).toMatchObject({
      status: 'executed',
      requester: 'user-alice',
      requester_email: 'alice@example.test',
      reason: 'quarterly audit export',
      operation: 'bulk_export',
      collections: 'customers\ninvoices',
      approvers: 'bob@example.test (user-bob)',
      execution_status: '200',
      execution_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(row.decisions).toMatch(/^\d{4}-\d\d-\d\dT\S+Z approve by bob@example\.test \(user-bob\) via slack, signed by key [0-9a-f]{16}$/);
    expect(row.refused_attempts?.split('\n').map((l) => l.replace(/^\S+ /, ''))).toEqual([
      'approve by mallory refused UNSIGNED',
      expect.stringMatching(/by .*user-dave\) refused BAD_SIGNATURE$/),
      expect.stringMatching(/by .*user-dave\) refused STALE_SIGNATURE$/),
      expect.stringMatching(/user-alice-2\) refused SELF_APPROVAL$/),
    ]);
  });

  test('a running approval is read from its last recorded answer', () => {
    const history = recorded('n-of-m');
    // cut the history just after the first counted approval's answer
    const firstCounted = history.events.findIndex((e) => {
      const done = e.workflowExecutionUpdateCompletedEventAttributes as { outcome?: { success?: unknown } } | undefined;
      return (decodePayload(payloadAt(done?.outcome?.success)?.payloads?.[0]) as { counted?: boolean } | undefined)?.counted === true;
    });
    const running = { events: history.events.slice(0, firstCounted + 1) };
    const record = approvalRecordOf(running);
    expect(record).toMatchObject({ status: 'pending', workflowOutcome: 'running', decisions: [{ subject: 'user-bob', decision: 'approve' }] });
    expect(historyFindings(running)).toEqual([]);
  });

  test('a running approval that expired says so before it completes: the outcome it indexed', () => {
    const history = recorded('expired');
    const running = { events: history.events.slice(0, history.events.findIndex((e) => e.upsertWorkflowSearchAttributesEventAttributes) + 1) };
    expect(approvalRecordOf(running)).toMatchObject({ status: 'expired', workflowOutcome: 'running', decisions: [] });
    expect(approvalRecordOf({ events: running.events.slice(0, -1) })).toMatchObject({ status: 'pending', workflowOutcome: 'running' });
  });
});

describe('an edited history is found out by its own events', () => {
  test.each<[string, string, (h: HistoryJson) => void, RegExp]>([
    ['a decision added to the result', 'approved-executed', (h) => edit<ApprovalState>(result(h), (s) => s.decisions.push({ ...(s.decisions[0] as ApprovalState['decisions'][number]), decisionId: 'forged', approver: { subject: 'mallory', groups: ['vec-approvers'], via: 'slack' } })), /decisions in the result are not/],
    ['the approver of the result replaced', 'approved-executed', (h) => edit<ApprovalState>(result(h), (s) => Object.assign(s.decisions[0]?.approver ?? {}, { subject: 'user-erin', email: 'erin@example.test' })), /decisions in the result are not/],
    ['the execution sha256 changed in the result', 'approved-executed', (h) => edit<ApprovalState>(result(h), (s) => Object.assign(s.execution ?? {}, { responseSha256: '0'.repeat(64) })), /execution in the result differs/],
    ['the status changed to denied', 'approved-executed', (h) => edit<ApprovalState>(result(h), (s) => Object.assign(s, { status: 'denied' })), /says denied, but no denial/],
    ['the request reason changed in the result', 'denied', (h) => edit<ApprovalState>(result(h), (s) => Object.assign(s.request, { reason: 'something else' })), /request in the result differs/],
    ['a refused attempt removed', 'refused-attempts', (h) => edit<ApprovalState>(result(h), (s) => s.refusals.shift()), /refused attempts in the result/],
    ['the claim removed from the result', 'approved-executed', (h) => edit<ApprovalState>(result(h), (s) => s.grant && delete s.grant.claimedAt), /granted, but the result records no claim/],
    ['another workflow type', 'expired', (h) => Object.assign((h.events[0]?.workflowExecutionStartedEventAttributes as { workflowType: { name: string } }).workflowType, { name: 'otherWorkflow' }), /workflow type is otherWorkflow/],
  ])('%s', (_what, name, change, finding) => {
    const history = recorded(name);
    change(history);
    expect(historyFindings(history).join('\n')).toMatch(finding);
  });
});

describe('masking an exported history', () => {
  const rule = maskingRuleSchema.parse({ id: 'contacts', connections: ['chroma-main'], detectors: ['email', 'phone'] });
  const masker = compileMasking([rule], { tokenKey: undefined });
  const maskText: MaskText = (value, request) => {
    const plan = masker.planFor({ connection: request.connection, collections: request.collections, groups: [] });
    if (!plan) return { text: value, masked: 0 };
    const out = plan.maskText(value);
    return { text: out.text, masked: out.stats.valuesMasked };
  };
  /** a recorded history whose request carries personal data in its free text (which no rule reads) */
  const withPersonalData = (name: string, renderingText = 'POST /get\nwhere: {"email": "jane.doe@corp.example", "phone": "+44 20 7946 0958"}') => {
    const history = recorded(name);
    const add = (r: ApprovalRequest) => Object.assign(r, { reason: 'ticket from jane.doe@corp.example', summary: `${r.summary} for jane.doe@corp.example`, rendering: { text: renderingText, truncated: false } });
    edit<ApprovalRequest>(input(history), add);
    edit<ApprovalState>(result(history), (s) => add(s.request));
    for (const p of attributes(history, 'workflowExecutionUpdateCompletedEventAttributes')) {
      const success = (p.outcome as { success?: unknown }).success;
      if (success) edit<{ state?: ApprovalState } & ApprovalState>(success, (s) => add(s.state?.request ?? s.request));
    }
    return history;
  };

  test('the request\'s values are masked everywhere; identities and signed decisions are kept', () => {
    const history = withPersonalData('signed-decisions');
    expect(allPayloadText(history)).toContain('jane.doe@corp.example');
    const { valuesMasked } = maskHistory(history, maskText);
    const text = allPayloadText(history);
    expect(valuesMasked).toBeGreaterThan(10);
    expect(text).not.toContain('jane.doe@corp.example');
    expect(text).not.toContain('7946 0958');
    expect(text).toContain('ticket from [EMAIL]');
    // who asked and who decided is the evidence, and the workflow decides on it
    expect(text).toContain('alice@example.test');
    expect(text).toContain('bob@example.test');
    expect(historyFindings(history)).toEqual([]);
    const record = approvalRecordOf(history);
    expect(record.request?.rendering?.text).toBe('POST /get\nwhere: {"email": "[EMAIL]", "phone": "[PHONE]"}');
  });

  test('no rule for the approval\'s connection: nothing is masked', () => {
    const history = withPersonalData('denied');
    const other = compileMasking([maskingRuleSchema.parse({ id: 'x', connections: ['elsewhere'], detectors: ['email'] })], { tokenKey: undefined });
    const { valuesMasked } = maskHistory(history, (value, r) => {
      const plan = other.planFor({ connection: r.connection, collections: r.collections, groups: [] });
      return plan ? { text: plan.maskText(value).text, masked: 1 } : { text: value, masked: 0 };
    });
    expect(valuesMasked).toBe(0);
    expect(allPayloadText(history)).toContain('jane.doe@corp.example');
  });

  test('a rendering that masking lengthens past the limit is cut again, within it', () => {
    const emails = Array.from({ length: 10 }, () => 'a@b.io').join(' ');
    const rendering = `POST /get\n${'x'.repeat(3000 - 10 - emails.length)}${emails}`;
    expect(rendering).toHaveLength(3000);
    const history = withPersonalData('expired', rendering);
    maskHistory(history, maskText);
    const request = decodePayload(payloadAt(input(history)).payloads[0]) as ApprovalRequest;
    expect(request.rendering?.text.length).toBeLessThanOrEqual(3000);
    expect(request.rendering).toMatchObject({ truncated: true, text: expect.stringContaining('more characters not shown') });
  });

  describe('replay', () => {
    let dir: string;
    const file = (name: string) => `approvals/histories/${name}.json`;
    const put = (name: string, content: string | HistoryJson) => {
      mkdirSync(join(dir, 'approvals', 'histories'), { recursive: true });
      writeFileSync(join(dir, file(name)), typeof content === 'string' ? content : JSON.stringify(content));
    };

    beforeAll(() => {
      captureRuntimeLogs();
      dir = mkdtempSync(join(tmpdir(), 'vecgate-replay-'));
      for (const f of readdirSync(HISTORIES)) put(`recorded-${f.replace(/\.json$/, '')}`, readFileSync(join(HISTORIES, f), 'utf8'));
      for (const name of ['signed-decisions', 'refused-attempts', 'denied']) {
        const masked = withPersonalData(name);
        maskHistory(masked, maskText);
        put(`masked-${name}`, masked);
      }
      const flipped = recorded('signed-decisions');
      for (const args of decideInputs(flipped)) edit<{ decision: string; reason?: string }>(args, (d) => Object.assign(d, { decision: d.decision === 'approve' ? 'deny' : 'approve', reason: 'r' }));
      put('tampered-decision', flipped);
      const masksIdentity = recorded('signed-decisions');
      for (const args of decideInputs(masksIdentity)) edit<{ approver: { email?: string } }>(args, (d) => Object.assign(d.approver, { email: '[EMAIL]' }));
      put('masked-approver', masksIdentity);
      const forgedResult = recorded('approved-executed');
      edit<ApprovalState>(result(forgedResult), (s) => Object.assign(s.execution ?? {}, { bytes: 1 }));
      put('tampered-result', forgedResult);
      put('not-json', '{"events": [');
      put('not-history', '{"hello": "world"}');
    });

    test('recorded and masked histories replay; edited inputs, answers and broken files fail, each named', async () => {
      const names = readdirSync(join(dir, 'approvals', 'histories')).map((f) => f.replace(/\.json$/, '')).sort();
      const verdicts = await replayBundleHistories(dir, names.map(file));
      const byName = Object.fromEntries(verdicts.map((v) => [v.path.replace(/^approvals\/histories\/(.*)\.json$/, '$1'), v.ok ? 'ok' : v.error]));
      const expected: Record<string, unknown> = {
        'tampered-decision': expect.stringMatching(/^DeterminismViolationError: \[TMPRL1100\] Nondeterminism error/),
        // the signature covers the approver's e-mail: this is why identities are never masked
        'masked-approver': expect.stringMatching(/^DeterminismViolationError/),
        'tampered-result': expect.stringMatching(/^inconsistent history: the execution in the result differs/),
        'not-json': expect.stringMatching(/^not readable JSON/),
        'not-history': expect.stringMatching(/^not a workflow history/),
      };
      for (const name of names) if (!(name in expected)) expected[name] = 'ok';
      expect(byName).toEqual(expected);
      expect(names.filter((n) => byName[n] === 'ok')).toHaveLength(14);
    }, 120_000);
  });
});

describe('bundle names and csv cells', () => {
  const hex = (v: string) => Buffer.from(v).toString('hex').padEnd(64, '0');
  test.each([
    ['vecgate-0123abcd', '01a218a1-2fc8-7bf5-97d2-e296958305ab', 'approvals/histories/vecgate-0123abcd__01a218a1-2fc8-7bf5-97d2-e296958305ab.json'],
    ['approval_1', 'r1', 'approvals/histories/approval_1__r1.json'],
    ['a/../../etc', 'r1', `approvals/histories/sha256-${hex('a/../../etc').slice(0, 32)}__r1.json`],
    ['two__parts', 'r1', `approvals/histories/sha256-${hex('two__parts').slice(0, 32)}__r1.json`],
    ['.hidden', 'r1', `approvals/histories/sha256-${hex('.hidden').slice(0, 32)}__r1.json`],
  ])('%s / %s', (workflowId, runId, path) => {
    expect(historyFileName(workflowId, runId, hex)).toBe(path);
  });

  test('a cell that a spreadsheet would run as a formula is escaped; lists stay in one cell', () => {
    const line = approvalsCsvLine(['=HYPERLINK("http://x")', '+1', 'a,b', 'one\ntwo', 'plain']);
    expect(parse(line)).toEqual([["'=HYPERLINK(\"http://x\")", "'+1", 'a,b', 'one\ntwo', 'plain']]);
  });
});

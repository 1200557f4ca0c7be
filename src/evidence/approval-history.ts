import { isDeepStrictEqual } from 'node:util';
import { cut } from '../approval/rendering';
import {
  APPROVAL_WORKFLOW_TYPE,
  REQUEST_RENDERING_MAX_CHARS,
  SEARCH_ATTRIBUTES,
  type ApprovalRequest,
  type ApprovalState,
  type ClaimInput,
  type ClaimResult,
  type DecisionInput,
  type DecisionResult,
  type ExecutionReport,
} from '../../workflows/approval-contract';
import type { HistoryEventJson, HistoryJson } from './history-json';
import type { ApprovalRow } from './summary';

/**
 * What an approval workflow's history says, as pure functions of its JSON: the row of
 * approvals.csv, the masking of personal data in it, and the checks that its recorded answers agree
 * with its recorded inputs. Everything comes from the history alone (the workflow's input, the
 * accepted updates with their inputs and outcomes, the final result): no worker, no query.
 */

// ---------------------------------------------------------------------------------------------
// payloads

interface PayloadJson {
  metadata?: Record<string, string>;
  data?: string;
}

const JSON_PLAIN = 'json/plain';

function isPayload(value: unknown): value is PayloadJson {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as PayloadJson;
  return typeof p.metadata === 'object' && p.metadata !== null && typeof p.metadata.encoding === 'string';
}

const encodingOf = (p: PayloadJson): string => Buffer.from(p.metadata?.encoding ?? '', 'base64').toString('utf8');

/** A JSON payload's value; undefined for other encodings (binary/null, encrypted) or bad data. */
export function decodePayload(p: unknown): unknown {
  if (!isPayload(p) || encodingOf(p) !== JSON_PLAIN || typeof p.data !== 'string') return undefined;
  try {
    return JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function firstPayload(list: unknown): unknown {
  const payloads = (list as { payloads?: unknown[] } | undefined)?.payloads;
  return Array.isArray(payloads) ? decodePayload(payloads[0]) : undefined;
}

const get = (value: unknown, ...keys: string[]): unknown => {
  let at = value;
  for (const key of keys) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
};

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

// ---------------------------------------------------------------------------------------------
// the history read as an approval

export type WorkflowOutcome = 'running' | 'completed' | 'failed' | 'terminated' | 'canceled' | 'timed_out' | 'continued_as_new';

interface RecordedUpdateEvent {
  updateId: string;
  name: string;
  input: unknown;
  acceptedAt?: string;
  completedAt?: string;
  result?: unknown;
  failure?: string;
}

/** The parts of a history the approval is made of, in event order. */
export interface ReadHistory {
  workflowType?: string;
  workflowId?: string;
  runId?: string;
  startedAt?: string;
  request?: ApprovalRequest;
  updates: RecordedUpdateEvent[];
  outcome: WorkflowOutcome;
  closedAt?: string;
  /** the workflow's result (the final ApprovalState) when it completed */
  final?: ApprovalState;
  /** why it failed or was terminated, canceled or timed out */
  closeReason?: string;
  /** the last status the history records: an update's answer, or the outcome the workflow indexed (VecgateOutcome) */
  lastStatus?: string;
}

const CLOSE_EVENTS: Array<[string, WorkflowOutcome]> = [
  ['workflowExecutionCompletedEventAttributes', 'completed'],
  ['workflowExecutionFailedEventAttributes', 'failed'],
  ['workflowExecutionTerminatedEventAttributes', 'terminated'],
  ['workflowExecutionCanceledEventAttributes', 'canceled'],
  ['workflowExecutionTimedOutEventAttributes', 'timed_out'],
  ['workflowExecutionContinuedAsNewEventAttributes', 'continued_as_new'],
];

export function readHistory(history: HistoryJson): ReadHistory {
  const read: ReadHistory = { updates: [], outcome: 'running' };
  const byId = new Map<string, RecordedUpdateEvent>();
  for (const event of history.events ?? []) {
    const started = event.workflowExecutionStartedEventAttributes;
    if (started) {
      read.workflowType = text(get(started, 'workflowType', 'name'));
      read.workflowId = text(get(started, 'workflowId'));
      read.runId = text(get(started, 'originalExecutionRunId'));
      read.startedAt = event.eventTime;
      const request = firstPayload(get(started, 'input'));
      if (typeof request === 'object' && request !== null) read.request = request as ApprovalRequest;
      continue;
    }
    const accepted = event.workflowExecutionUpdateAcceptedEventAttributes;
    if (accepted) {
      const updateId = text(get(accepted, 'acceptedRequest', 'meta', 'updateId')) ?? '';
      const update: RecordedUpdateEvent = {
        updateId,
        name: text(get(accepted, 'acceptedRequest', 'input', 'name')) ?? '',
        input: firstPayload(get(accepted, 'acceptedRequest', 'input', 'args')),
        ...(event.eventTime ? { acceptedAt: event.eventTime } : {}),
      };
      byId.set(updateId, update);
      read.updates.push(update);
      continue;
    }
    const completed = event.workflowExecutionUpdateCompletedEventAttributes;
    if (completed) {
      const update = byId.get(text(get(completed, 'meta', 'updateId')) ?? '');
      if (!update) continue;
      if (event.eventTime) update.completedAt = event.eventTime;
      const success = get(completed, 'outcome', 'success');
      if (success) update.result = firstPayload(success);
      const status = text(get(update.result, 'state', 'status')) ?? text(get(update.result, 'status'));
      if (status) read.lastStatus = status;
      const failure = get(completed, 'outcome', 'failure');
      if (failure) update.failure = text(get(failure, 'message')) ?? 'failed';
      continue;
    }
    const upsert = event.upsertWorkflowSearchAttributesEventAttributes;
    if (upsert) {
      // a running approval that expired (or whose grant did) says so here before it completes
      const status = text(decodePayload(get(upsert, 'searchAttributes', 'indexedFields', SEARCH_ATTRIBUTES.outcome)));
      if (status) read.lastStatus = status;
      continue;
    }
    for (const [key, outcome] of CLOSE_EVENTS) {
      const attributes = event[key];
      if (!attributes) continue;
      read.outcome = outcome;
      read.closedAt = event.eventTime;
      if (outcome === 'completed') {
        const final = firstPayload(get(attributes, 'result'));
        if (typeof final === 'object' && final !== null) read.final = final as ApprovalState;
      } else {
        read.closeReason = text(get(attributes, 'failure', 'message')) ?? text(get(attributes, 'reason')) ?? outcome;
      }
    }
  }
  return read;
}

/** The approval state after the last thing the history records: the result, or the last update's answer. */
function latestState(read: ReadHistory): ApprovalState | undefined {
  if (read.final) return read.final;
  for (let i = read.updates.length - 1; i >= 0; i--) {
    const result = read.updates[i]?.result;
    const state = (get(result, 'state') ?? result) as ApprovalState | undefined;
    if (typeof state === 'object' && state !== null && typeof state.status === 'string' && Array.isArray(state.decisions)) return state;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// the approval as a row

export interface ApprovalRecord {
  workflowId: string;
  runId: string;
  /** the approval's status (pending ... executed); the workflow's outcome when it did not complete */
  status: string;
  workflowOutcome: WorkflowOutcome;
  closeReason?: string;
  startedAt?: string;
  closedAt?: string;
  request?: ApprovalRequest;
  decisions: Array<{ subject: string; email?: string; via?: string; decision: 'approve' | 'deny'; at: string; reason?: string; signedBy?: string }>;
  refusals: Array<{ subject: string; email?: string; decision: string; refusal: string; at: string }>;
  claimRefusals: Array<{ subject: string; refusal: string; at?: string }>;
  grant?: { grantId: string; issuedAt: string; expiresAt: string; claimedAt?: string; gatewayInstance?: string };
  execution?: { status: number; bytes: number; sha256: string; at: string; durationMs: number; error?: string };
}

const iso = (ms: unknown): string => (typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : '');

/** The approval a history records. `ids` name the run when the history's own events do not. */
export function approvalRecordOf(history: HistoryJson, ids: { workflowId?: string; runId?: string } = {}): ApprovalRecord {
  const read = readHistory(history);
  const state = latestState(read);
  const request = state?.request ?? read.request;
  const record: ApprovalRecord = {
    workflowId: read.workflowId ?? ids.workflowId ?? request?.approvalId ?? '',
    runId: read.runId ?? ids.runId ?? '',
    status: read.outcome === 'completed' ? (state?.status ?? 'pending') : read.outcome === 'running' ? (read.lastStatus ?? state?.status ?? 'pending') : read.outcome,
    workflowOutcome: read.outcome,
    ...(read.closeReason ? { closeReason: read.closeReason } : {}),
    ...(read.startedAt ? { startedAt: read.startedAt } : {}),
    ...(read.closedAt ? { closedAt: read.closedAt } : {}),
    ...(request ? { request } : {}),
    decisions: (state?.decisions ?? []).map((d) => ({
      subject: d.approver.subject,
      ...(d.approver.email ? { email: d.approver.email } : {}),
      via: d.approver.via,
      decision: d.decision,
      at: iso(d.at),
      ...(d.reason ? { reason: d.reason } : {}),
      ...(d.signature ? { signedBy: d.signature.publicKey } : {}),
    })),
    refusals: (state?.refusals ?? []).map((r) => ({ subject: r.approver.subject, ...(r.approver.email ? { email: r.approver.email } : {}), decision: r.decision, refusal: r.refusal, at: iso(r.at) })),
    claimRefusals: read.updates
      .filter((u) => u.name === 'claimGrant' && get(u.result, 'granted') === false)
      .map((u) => ({ subject: text(get(u.input, 'subject')) ?? '', refusal: text(get(u.result, 'refusal')) ?? '', ...(u.completedAt ? { at: u.completedAt } : {}) })),
  };
  const grant = state?.grant;
  if (grant) {
    record.grant = {
      grantId: grant.grantId,
      issuedAt: iso(grant.issuedAt),
      expiresAt: iso(grant.expiresAt),
      ...(grant.claimedAt !== undefined ? { claimedAt: iso(grant.claimedAt) } : {}),
      ...(grant.gatewayInstance ? { gatewayInstance: grant.gatewayInstance } : {}),
    };
  }
  const execution = state?.execution;
  if (execution) {
    record.execution = { status: execution.status, bytes: execution.bytes, sha256: execution.responseSha256, at: iso(execution.at), durationMs: execution.durationMs, ...(execution.error ? { error: execution.error } : {}) };
  }
  return record;
}

export const APPROVALS_CSV_COLUMNS = [
  'workflow_id',
  'run_id',
  'status',
  'workflow_outcome',
  'requested_at',
  'closed_at',
  'requester',
  'requester_email',
  'reason',
  'connection',
  'operation',
  'collections',
  'rule_id',
  'summary',
  'rendering',
  'rendering_truncated',
  'approvals_required',
  'approver_groups',
  'approvers',
  'decisions',
  'refused_attempts',
  'claim_refusals',
  'grant_issued_at',
  'grant_expires_at',
  'grant_claimed_at',
  'grant_claimed_by',
  'execution_status',
  'execution_bytes',
  'execution_sha256',
  'executed_at',
  'execution_error',
  'body_sha256',
  'fingerprint',
  'close_reason',
] as const;

const who = (p: { subject: string; email?: string }): string => (p.email ? `${p.email} (${p.subject})` : p.subject);

/** One line of approvals.csv; lists in a cell are one entry per line. */
export function approvalCsvRow(record: ApprovalRecord): string[] {
  const r = record.request;
  const cells: Record<(typeof APPROVALS_CSV_COLUMNS)[number], string> = {
    workflow_id: record.workflowId,
    run_id: record.runId,
    status: record.status,
    workflow_outcome: record.workflowOutcome,
    requested_at: r ? iso(r.requestedAt) : (record.startedAt ?? ''),
    closed_at: record.closedAt ?? '',
    requester: r?.requester?.subject ?? '',
    requester_email: r?.requester?.email ?? '',
    reason: r?.reason ?? '',
    connection: r?.connection ?? '',
    operation: r?.operation ?? '',
    collections: (r?.collections ?? []).join('\n'),
    rule_id: r?.ruleId ?? '',
    summary: r?.summary ?? '',
    rendering: r?.rendering?.text ?? '',
    rendering_truncated: r?.rendering ? String(r.rendering.truncated) : '',
    approvals_required: r?.policy ? String(r.policy.required) : '',
    approver_groups: (r?.policy?.approverGroups ?? []).join('\n'),
    approvers: [...new Set(record.decisions.map((d) => who(d)))].join('\n'),
    decisions: record.decisions.map((d) => `${d.at} ${d.decision} by ${who(d)}${d.via ? ` via ${d.via}` : ''}${d.signedBy ? `, signed by key ${d.signedBy.slice(0, 16)}` : ', unsigned'}${d.reason ? `: ${d.reason}` : ''}`).join('\n'),
    refused_attempts: record.refusals.map((x) => `${x.at} ${x.decision} by ${who(x)} refused ${x.refusal}`).join('\n'),
    claim_refusals: record.claimRefusals.map((x) => `${x.at ?? ''} claim by ${x.subject} refused ${x.refusal}`.trim()).join('\n'),
    grant_issued_at: record.grant?.issuedAt ?? '',
    grant_expires_at: record.grant?.expiresAt ?? '',
    grant_claimed_at: record.grant?.claimedAt ?? '',
    grant_claimed_by: record.grant?.claimedAt ? (record.grant.gatewayInstance ?? '') : '',
    execution_status: record.execution ? String(record.execution.status) : '',
    execution_bytes: record.execution ? String(record.execution.bytes) : '',
    execution_sha256: record.execution?.sha256 ?? '',
    executed_at: record.execution?.at ?? '',
    execution_error: record.execution?.error ?? '',
    body_sha256: r?.bodySha256 ?? '',
    fingerprint: r?.fingerprint ?? '',
    close_reason: record.closeReason ?? '',
  };
  return APPROVALS_CSV_COLUMNS.map((c) => cells[c]);
}

/** The record as the summary (and so the report) shows it. */
export function approvalRowOf(record: ApprovalRecord): ApprovalRow {
  const r = record.request;
  return {
    approvalId: record.workflowId,
    runId: record.runId,
    requester: r?.requester?.email ?? r?.requester?.subject ?? '',
    reason: r?.reason ?? '',
    operation: r?.operation ?? '',
    collections: r?.collections ?? [],
    status: record.status,
    requestedAt: r ? iso(r.requestedAt) : (record.startedAt ?? ''),
    decisions: record.decisions.map((d) => ({ approver: d.email ?? d.subject, decision: d.decision, at: d.at, ...(d.reason ? { reason: d.reason } : {}) })),
    refusals: record.refusals.length + record.claimRefusals.length,
    ...(record.grant?.claimedAt ? { grantClaimedAt: record.grant.claimedAt } : {}),
    ...(record.execution ? { execution: { status: record.execution.status, bytes: record.execution.bytes, sha256: record.execution.sha256, at: record.execution.at } } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// masking

/** Masks one text by the rules of the approval's connection and collections; counts what it changed. */
export type MaskText = (value: string, request: Pick<ApprovalRequest, 'connection' | 'collections'>) => { text: string; masked: number };

/*
 * What is masked, and why not everything. Replay re-runs the workflow on the inputs the history
 * holds, and the workflow decides on some of them: it verifies each decision's Ed25519 signature
 * over the approver's identity and reason, and matches approvers against the requester's subject
 * and e-mail. Masking any of those changes the path replay takes (a signature no longer verifies,
 * the decision is refused, the timer is not cancelled) and replay fails with nondeterminism; that
 * was checked on the recorded histories. Replay does not compare answers (update results, activity
 * inputs, the workflow's result), nor the request's free text, which no rule reads.
 *
 * So: the values a request carries (the rendering approvers saw, the summary, the caller's reason,
 * the path) and an execution's error text are masked wherever they appear: in the workflow's input
 * and in every recorded state. Identities (subjects, e-mails, groups, Slack ids) and the approver's
 * signed reason stay as recorded: they are what the workflow decided on, they are the evidence of
 * who approved (ISO 27001 5.18, 8.2), and masking them would break the replay that proves the
 * history genuine. A rendering that masking lengthens past its limit is cut again, because the
 * workflow refuses longer ones.
 */
function maskRequest(request: Record<string, unknown>, maskText: MaskText): number {
  const scope = request as unknown as ApprovalRequest;
  let masked = 0;
  const apply = (value: string): string => {
    const out = maskText(value, scope);
    masked += out.masked;
    return out.text;
  };
  for (const key of ['reason', 'summary', 'path'] as const) {
    if (typeof request[key] === 'string') request[key] = apply(request[key]);
  }
  const rendering = request.rendering as { text?: unknown; truncated?: unknown } | undefined;
  if (rendering && typeof rendering.text === 'string') {
    const out = apply(rendering.text);
    if (out.length > REQUEST_RENDERING_MAX_CHARS) {
      const again = cut(out, REQUEST_RENDERING_MAX_CHARS, typeof scope.bodySha256 === 'string' ? scope.bodySha256 : '');
      rendering.text = again.text;
      rendering.truncated = true;
    } else rendering.text = out;
  }
  return masked;
}

const looksLikeRequest = (o: Record<string, unknown>): boolean => typeof o.fingerprint === 'string' && typeof o.requester === 'object' && typeof o.policy === 'object' && typeof o.connection === 'string';
const looksLikeExecution = (o: Record<string, unknown>): boolean => typeof o.grantId === 'string' && typeof o.responseSha256 === 'string';

/** Masks the approval values in one decoded payload, in place; the number of values changed. */
export function maskApprovalValues(value: unknown, maskText: MaskText, scope?: Pick<ApprovalRequest, 'connection' | 'collections'>): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + maskApprovalValues(v, maskText, scope), 0);
  const o = value as Record<string, unknown>;
  let masked = 0;
  // a request holds nothing else to mask: the rest is identities, policy, hashes
  if (looksLikeRequest(o)) return maskRequest(o, maskText);
  const request = o.request as Record<string, unknown> | undefined;
  const inner = typeof request === 'object' && request !== null && looksLikeRequest(request) ? (request as unknown as ApprovalRequest) : scope;
  if (looksLikeExecution(o) && typeof o.error === 'string' && inner) {
    const out = maskText(o.error, inner);
    o.error = out.text;
    masked += out.masked;
  }
  for (const child of Object.values(o)) masked += maskApprovalValues(child, maskText, inner);
  return masked;
}

/**
 * Masks every JSON payload of the history in place (see above for what and why); payloads that do
 * not change keep their exact bytes. The scope of an execution report's error is the workflow's
 * request, which the first event holds.
 */
export function maskHistory(history: HistoryJson, maskText: MaskText): { valuesMasked: number } {
  const scope = readHistory({ events: (history.events ?? []).slice(0, 1) }).request;
  let valuesMasked = 0;
  const visit = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (isPayload(node)) {
      const value = decodePayload(node);
      if (value === undefined) return;
      const n = maskApprovalValues(value, maskText, scope);
      if (n > 0) {
        node.data = Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
        valuesMasked += n;
      }
      return;
    }
    Object.values(node).forEach(visit);
  };
  (history.events ?? []).forEach((event: HistoryEventJson) => visit(event));
  return { valuesMasked };
}

// ---------------------------------------------------------------------------------------------
// the history checked against itself

const same = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a, b);

/**
 * Where the history's recorded answers disagree with its recorded inputs. Replay re-runs the
 * workflow on the inputs and fails when its commands differ, but it does not compare what the
 * workflow answered (update results, its result): an edit there (a decision added to the final
 * state, an execution's sha256 changed in the result) is found here instead. Empty: consistent.
 */
export function historyFindings(history: HistoryJson): string[] {
  const read = readHistory(history);
  const findings: string[] = [];
  if (read.workflowType !== APPROVAL_WORKFLOW_TYPE) findings.push(`the workflow type is ${read.workflowType ?? 'missing'}, not ${APPROVAL_WORKFLOW_TYPE}`);
  const final = read.final;
  // a workflow started with a malformed request fails at once and has nothing to compare
  if (!read.request && final) findings.push('the workflow input (the approval request) is missing or not JSON');
  if (read.outcome === 'completed' && !final) findings.push('the workflow completed without a readable result');
  if (!final || !read.request) return findings;

  if (!same(final.request, read.request)) findings.push('the request in the result differs from the workflow input');
  if (final.approvalId !== read.request.approvalId) findings.push('the result names another approval than the workflow input');

  const decides = read.updates.filter((u) => u.name === 'decide');
  const counted = decides.filter((u) => get(u.result, 'counted') === true).map((u) => u.input as DecisionInput);
  const refused = decides.filter((u) => get(u.result, 'counted') === false).map((u) => ({ input: u.input as DecisionInput, refusal: get(u.result, 'refusal') }));
  const decisionKey = (d: { decisionId?: string; approver?: { subject?: string }; decision?: string }) => [d.decisionId, d.approver?.subject, d.decision];
  if (!same(final.decisions.map(decisionKey), counted.map(decisionKey))) findings.push('the decisions in the result are not the decide updates the workflow counted');
  for (const [i, d] of final.decisions.entries()) {
    const input = counted[i];
    if (input && (d.reason !== input.reason || !same(d.approver, input.approver))) findings.push(`decision ${d.decisionId} in the result differs from the decide update that made it`);
  }
  const refusalKey = (r: { decisionId?: string; refusal?: unknown }) => [r.decisionId, r.refusal];
  if (!same(final.refusals.map(refusalKey), refused.map((r) => refusalKey({ decisionId: r.input?.decisionId, refusal: r.refusal })))) {
    findings.push('the refused attempts in the result are not the decide updates the workflow refused');
  }
  for (const u of decides) {
    const outcome = u.result as DecisionResult | undefined;
    if (outcome?.counted && outcome.refusal !== undefined) findings.push(`decide update ${u.updateId} is answered as both counted and refused`);
  }

  const deniedBy = final.decisions.find((d) => d.decision === 'deny');
  if (deniedBy && final.status !== 'denied') findings.push(`a counted denial, but the result says ${final.status}`);
  if (!deniedBy && final.status === 'denied') findings.push('the result says denied, but no denial was counted');

  const claims = read.updates.filter((u) => u.name === 'claimGrant');
  const granted = claims.filter((u) => get(u.result, 'granted') === true).map((u) => ({ input: u.input as ClaimInput, result: u.result as ClaimResult }));
  if (final.grant?.claimedAt !== undefined) {
    if (!granted.some((g) => g.input?.claimId === final.grant?.claimId)) findings.push('the result records a claim of the grant that no granted claimGrant update made');
  } else if (granted.length > 0) findings.push('a claimGrant update was granted, but the result records no claim');

  const reports = read.updates.filter((u) => u.name === 'reportExecution' && u.failure === undefined).map((u) => u.input as ExecutionReport);
  const first = reports[0];
  if (final.execution) {
    const e = final.execution;
    if (!first) findings.push('the result records an execution that no reportExecution update reported');
    else if (e.grantId !== first.grantId || e.status !== first.status || e.bytes !== first.bytes || e.responseSha256 !== first.responseSha256) {
      findings.push('the execution in the result differs from the reportExecution update that reported it');
    }
    if (final.status !== 'executed') findings.push(`an execution is recorded, but the result says ${final.status}`);
  } else if (first) findings.push('a reportExecution update was accepted, but the result records no execution');
  return findings;
}

// ---------------------------------------------------------------------------------------------
// file names

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$/;

/**
 * `approvals/histories/<workflowId>__<runId>.json`. Ids the bundle cannot hold as a plain name
 * (other characters, `__`, too long) are named by a hash of the id; the history and the csv row
 * still carry the id itself.
 */
export function historyFileName(workflowId: string, runId: string, sha256Hex: (value: string) => string): string {
  const safe = (id: string) => (SAFE_ID.test(id) && !id.includes('__') ? id : `sha256-${sha256Hex(id).slice(0, 32)}`);
  return `approvals/histories/${safe(workflowId)}__${safe(runId)}.json`;
}

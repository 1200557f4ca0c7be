import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { approvalIdOf, type ApprovalGate, type Grant, type HeldRequest } from '../approval/gate';
import type { AuditLog, AuditRecord, MaskingEvidence } from '../audit/event';
import type { Clock } from '../clock';
import type { ApprovalSettings, GatewayConfig } from '../config/schema';
import type { Classification } from '../dialect/types';
import { asVecgateError, VecgateError } from '../errors';
import { upstreamRequestHeaders } from '../forward/headers';
import { extractToken } from '../identity/extract';
import type { Principal, TokenVerifier } from '../identity/types';
import { emptyStats, type Masker, type MaskPlan, type MaskStats } from '../masking';
import { decide, type Decision, type Policy } from '../policy/evaluate';
import { FILTER_ON_MASKED_RULE, judgeFilters } from '../policy/masked-filters';
import { volumeExportReason, type UsageKey, type VolumeControl } from '../volume';
import { parseJsonBody, readBody } from './body';
import type { ConnectionRuntime } from './connections';
import { errorResponse } from './error-response';
import { filteredListing } from './filtered-listing';
import { checkFraming } from './framing';
import type { GatewayMetrics } from './metrics';
import { mustReadResponse, respond, type Sent } from './respond';
import { routeRequest, type RoutedRequest } from './routing';

export interface HandlerDeps {
  gateway: GatewayConfig;
  connections: ReadonlyMap<string, ConnectionRuntime>;
  verifier: TokenVerifier;
  policy: Policy;
  /** approval settings of each review rule, by rule id */
  reviewRules: ReadonlyMap<string, ApprovalSettings>;
  /** absent: approvals are not configured and review rules answer APPROVAL_REQUIRED */
  approvals?: ApprovalGate;
  audit: AuditLog;
  metrics: GatewayMetrics;
  masker: Masker;
  maskingMaxBodyBytes: number;
  /** record limits and the shared counts behind them (src/volume/) */
  volume: VolumeControl;
  clock: Clock;
  logger: Logger;
}

/**
 * What the gateway learnt about one request so far, written as each step finishes and read only
 * to build the request's one audit event (auditRecord): a request can stop at any step, so every
 * field but the first few is optional here. The steps hand each other typed results (Identified,
 * Admitted), never this record.
 */
interface Trace {
  requestId: string;
  arrived: number;
  started: number;
  path: string;
  collections: string[];
  bytesIn: number;
  sent: Sent;
  connection?: ConnectionRuntime;
  principal?: Principal;
  classification?: Classification;
  decision?: Decision;
  approval?: { approvalId: string; runId?: string; grantId?: string };
  upstreamStatus?: number;
  upstreamLatencyMs?: number;
  error?: VecgateError;
  masking?: MaskStats;
  /** a listing the gateway answered: how many collections policy hid from the caller */
  listing?: { hidden: number };
  /** records the request asked for and the answer held */
  records?: AuditRecord['records'];
  /** the query string and the body's sha256, so an auditor can tell exactly what ran */
  query?: string;
  bodySha256?: string;
  /** the audit event, once committed (durable) */
  recorded?: Promise<void>;
}

/** Step 1's result: whose request it is, for which connection and path. */
interface Identified {
  conn: ConnectionRuntime;
  route: RoutedRequest;
  principal: Principal;
}

/** Step 2's result: a request policy let through (allowed, or to be reviewed), as it will run. */
interface Admitted extends Identified {
  body: Buffer;
  /** the body parsed, or undefined when it is empty or not JSON */
  json: unknown;
  /** as it runs: a search or read past its volume limits is re-classed as export here */
  classification: Classification;
  collections: string[];
  decision: Decision;
  /** a plan that masks; undefined when nothing is masked for this caller */
  masking: MaskPlan | undefined;
  /** the usage window this read counts in */
  usageKey: UsageKey | undefined;
}

/** The gateway's own API on every data listener, under a prefix no database uses. */
const APPROVALS_API = ['vecgate', 'approvals'];
const REASON_HEADER = 'x-vecgate-reason';

/**
 * The request's story: identify (route, token) -> admit (body, dialect, collections, policy,
 * masked filters, volume) -> (approval) -> forward -> (masking), and in every case exactly one
 * audit event at the end. `dedicated` is the connection of a per-connection listener.
 */
export function createRequestHandler(deps: HandlerDeps, dedicated?: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const trace: Trace = {
      requestId: randomUUID(),
      arrived: deps.clock.now(),
      started: performance.now(),
      path: (req.url ?? '').slice(0, 2048),
      collections: [],
      bytesIn: 0,
      sent: { bytes: 0 },
    };
    res.setHeader('x-vecgate-request-id', trace.requestId);
    serve(deps, dedicated, req, res, trace)
      .catch((err: unknown) => fail(deps, req, res, trace, asVecgateError(err)))
      .finally(() => finish(deps, req, res, trace))
      .catch((err: unknown) => deps.logger.error({ err, requestId: trace.requestId }, 'the audit event of a request could not be made durable'));
  };
}

async function serve(deps: HandlerDeps, dedicated: string | undefined, req: IncomingMessage, res: ServerResponse, trace: Trace): Promise<void> {
  const who = await identify(deps, dedicated, req, trace);
  if (APPROVALS_API.every((s, i) => who.route.segments[i] === s)) return approvalsApi(deps, req, res, who, trace);
  const admitted = await admit(deps, req, who, trace);
  const grant = admitted.decision.effect === 'review' ? await holdForApproval(deps, req, admitted, trace) : undefined;
  await forward(deps, req, res, admitted, grant, trace);
}

/** Routes the request and verifies its token. */
async function identify(deps: HandlerDeps, dedicated: string | undefined, req: IncomingMessage, trace: Trace): Promise<Identified> {
  if (!deps.audit.accepting()) {
    throw new VecgateError('AUDIT_UNAVAILABLE', 'The audit trail cannot take more events right now (its spool is full or its disk failed), so vecgate refuses requests rather than serve them unaudited. Retry shortly.');
  }
  checkFraming(req.rawHeaders);
  const route = routeRequest(req.url ?? '', dedicated);
  const conn = deps.connections.get(route.connection);
  if (!conn) throw new VecgateError('UNKNOWN_CONNECTION', `There is no connection named "${route.connection.slice(0, 64)}" on this gateway.`);
  trace.connection = conn;
  trace.path = route.path;
  const query = route.query.toString();
  if (query) trace.query = query.slice(0, 2048);

  const token = extractToken(req.headersDistinct, conn.dialect.tokenHeaders);
  if (!token) {
    throw new VecgateError('TOKEN_MISSING', 'No token: send your identity-provider access token as "Authorization: Bearer <token>" (or in the database client\'s API-key header).');
  }
  const principal = await deps.verifier.verify(token);
  trace.principal = principal;
  return { conn, route, principal };
}

/** Reads and classifies the body, resolves collections and decides: throws for every refusal. */
async function admit(deps: HandlerDeps, req: IncomingMessage, who: Identified, trace: Trace): Promise<Admitted> {
  const { conn, route, principal } = who;
  const g = deps.gateway;
  const body = await readBody(req, { maxBytes: g.maxBodyBytes, timeoutMs: g.bodyTimeoutMs });
  trace.bytesIn = body.length;
  if (body.length > 0) trace.bodySha256 = createHash('sha256').update(body).digest('hex');
  const json = parseJsonBody(body, req.headers['content-type'], g.maxJsonDepth);

  const result = conn.dialect.classify({ method: (req.method ?? 'GET').toUpperCase(), path: route.path, segments: route.segments, query: route.query, body: json });
  if (!result.known) throw new VecgateError('UNKNOWN_ENDPOINT', result.reason);
  let classification = result.classification;
  trace.classification = classification;
  const collections = await conn.directory.resolve(classification.collections, principal.subject);
  trace.collections = collections;

  if (classification.requested !== undefined) trace.records = { requested: classification.requested };
  const question = { subject: principal.subject, groups: principal.groups, connection: conn.name, operation: classification.operation, collections, ...classification.scope };
  let decision = decide(deps.policy, question);
  trace.decision = decision;
  if (decision.effect === 'deny') throw new VecgateError('POLICY_DENIED', `Forbidden: ${decision.explanation}`);

  const plan = deps.masker.planFor({ connection: conn.name, collections, groups: principal.groups });
  if (plan) trace.masking = emptyStats(plan.rulesApplied, plan.rulesExempted);
  const masking = plan?.masks ? plan : undefined;
  // filters on masked data, then volume: either can turn an allowed read into an export (THREATS 31, 32)
  const filters = judgeFilters(classification.filters, masking?.guarded);
  if (filters.verdict === 'refuse') {
    trace.decision = { ...decision, effect: 'deny', ruleId: FILTER_ON_MASKED_RULE, explanation: filters.reason };
    throw new VecgateError('FILTER_ON_MASKED', filters.reason);
  }
  const usageKey = collections[0] !== undefined ? { principal: principal.subject, connection: conn.name, collection: collections[0] } : undefined;
  const exportReason = filters.verdict === 'review' && decision.effect === 'allow' ? filters.reason : await volumeExportReason(deps.volume, { connection: conn.name, decision, classification, key: usageKey });
  if (exportReason) {
    const why = exportReason.replace(/\.$/, '');
    classification = { ...classification, operation: 'export', bulk: true, reason: `${classification.reason} It counts as export: ${why}.` };
    trace.classification = classification;
    const again = decide(deps.policy, { ...question, operation: 'export' });
    decision = { ...again, explanation: `${again.explanation} The ${question.operation} counts as export: ${why}.` };
    trace.decision = decision;
    if (decision.effect === 'deny') throw new VecgateError('POLICY_DENIED', `Forbidden: ${decision.explanation}`);
  }
  return { ...who, body, json, classification, collections, decision, masking, usageKey };
}

/** Sends the admitted request upstream and its answer to the caller, the audit event durable before the answer ends. */
async function forward(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse, a: Admitted, grant: Grant | undefined, trace: Trace): Promise<void> {
  const { conn, classification, masking } = a;
  const headers = upstreamRequestHeaders(req.headers, { credentialHeaders: conn.callerCredentialHeaders, credential: conn.credential, host: conn.upstream.host, bodyLength: a.body.length });
  // an answer the gateway must read (to mask it, to learn collection ids or to count its records) is asked for plain
  if (mustReadResponse({ conn, classification, masking }) || classification.requested !== undefined) headers['accept-encoding'] = 'identity';
  // a change or an export leaves a durable intent first: were the gateway to die after forwarding,
  // the attempt would still be on record (THREATS 29)
  if (grant || INTENT_OPERATIONS.has(classification.operation)) await deps.audit.intend(auditRecord(req, res, trace, 0));
  const upstreamStart = performance.now();
  const beforeEnd = async (): Promise<void> => {
    if (trace.sent.masking) trace.masking = trace.sent.masking;
    if (trace.upstreamStatus !== undefined && trace.upstreamStatus >= 200 && trace.upstreamStatus < 300 && classification.requested !== undefined) countReturned(deps, a, trace);
    await auditNow(deps, req, res, trace);
  };
  try {
    // listings are answered from the full listing, filtered by policy (THREATS 33)
    const listed = classification.listing
      ? await filteredListing(conn, deps.policy, { subject: a.principal.subject, groups: a.principal.groups, connection: conn.name }, { ...classification, listing: classification.listing })
      : undefined;
    if (listed) trace.listing = { hidden: listed.hidden };
    const upstream = listed?.response ?? (await conn.upstream.request({ method: req.method ?? 'GET', target: a.route.upstreamTarget, headers, body: a.body }));
    trace.upstreamStatus = upstream.status;
    trace.upstreamLatencyMs = performance.now() - upstreamStart;
    const keepBodyBytes = classification.requested !== undefined ? Math.min(deps.maskingMaxBodyBytes, MAX_COUNTED_BYTES) : undefined;
    await respond(upstream, res, { conn, classification, masking, maskingMaxBodyBytes: deps.maskingMaxBodyBytes, hash: grant !== undefined, logger: deps.logger, requestId: trace.requestId, keepBodyBytes, beforeEnd }, trace.sent);
  } finally {
    if (trace.sent.masking) trace.masking = trace.sent.masking;
    grant?.report({ status: trace.upstreamStatus ?? 0, bytes: trace.sent.bytes, durationMs: Math.round(performance.now() - upstreamStart), responseSha256: trace.sent.sha256 ?? '' });
  }
}

/**
 * Records the answer held, for the audit event and the usage window. An answer too large to keep
 * or not JSON counts as what was asked for (and an unbounded ask as a very large answer).
 */
function countReturned(deps: HandlerDeps, a: Admitted, trace: Trace): void {
  let returned: number | undefined;
  try {
    if (trace.sent.body) returned = a.conn.dialect.recordsInResponse(a.classification, JSON.parse(trace.sent.body.toString('utf8')));
  } catch {
    returned = undefined;
  }
  trace.sent.body = undefined;
  if (returned !== undefined) trace.records = { ...trace.records, returned };
  const requested = a.classification.requested;
  if (a.usageKey) deps.volume.usage?.add(a.usageKey, returned ?? (typeof requested === 'number' ? requested : UNCOUNTED_ANSWER));
}

/** Answers larger than this are not kept to be counted: they count as what was asked for. */
const MAX_COUNTED_BYTES = 8 * 1024 * 1024;

/** An unbounded answer that could not be counted: far past any sensible window, so further reads need review. */
const UNCOUNTED_ANSWER = 1_000_000;

/** A review decision: the request runs only with a single-use grant from its approval workflow. */
async function holdForApproval(deps: HandlerDeps, req: IncomingMessage, a: Admitted, trace: Trace): Promise<Grant> {
  const settings = deps.reviewRules.get(a.decision.ruleId);
  if (!deps.approvals || !settings) {
    throw new VecgateError('APPROVAL_REQUIRED', `Approval required: ${a.decision.explanation} Approvals are not configured on this gateway, so the request was not run.`);
  }
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  const reason = req.headersDistinct[REASON_HEADER]?.[0]?.replace(/[\u0000-\u001f\u007f]/g, ' ').trim().slice(0, 500);
  const held: HeldRequest = {
    requestId: trace.requestId,
    principal: a.principal,
    connection: a.conn.name,
    classification: a.classification,
    collections: a.collections,
    decision: a.decision,
    approval: settings,
    method: req.method ?? 'GET',
    target: a.route.upstreamTarget,
    body: a.body,
    // what approvers are shown (THREATS 34); a body that is not JSON is shown by its size alone
    details: a.json === undefined && a.body.length > 0 ? undefined : a.conn.dialect.describeRequest(a.classification, a.json),
    ...(reason ? { reason } : {}),
  };
  trace.approval = { approvalId: approvalIdOf(held) };
  // the run the request joined is noted even when it is refused (pending, denied), for the evidence
  const grant = await deps.approvals.acquire(held, trace.approval);
  trace.approval.grantId = grant.grantId;
  return grant;
}

/** GET /vecgate/approvals/{id}: the state of an approval, for its requester or an approver. */
async function approvalsApi(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse, { route, principal }: Identified, trace: Trace): Promise<void> {
  const id = route.segments[2];
  if (req.method !== 'GET' || id === undefined || route.segments.length !== 3) {
    throw new VecgateError('UNKNOWN_ENDPOINT', 'The gateway API answers GET /vecgate/approvals/{approvalId} only.');
  }
  if (!deps.approvals) throw new VecgateError('APPROVAL_NOT_FOUND', 'Approvals are not configured on this gateway.');
  const body = Buffer.from(JSON.stringify(await deps.approvals.status(id, principal)));
  res.statusCode = 200;
  trace.sent.bytes = body.length;
  await auditNow(deps, req, res, trace);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length), 'cache-control': 'no-store' });
  res.end(body);
}

async function fail(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse, trace: Trace, err: VecgateError): Promise<void> {
  const level = err.status >= 500 ? 'warn' : 'info';
  deps.logger[level]({ requestId: trace.requestId, code: err.code, err: err.cause ?? undefined, connection: trace.connection?.name }, err.message);
  trace.error = err;
  if (res.headersSent) {
    // The response already started: the only honest signal left is to cut the connection.
    res.destroy();
    return;
  }
  const { status, headers, body } = errorResponse(err, trace.connection?.dialect);
  // A body we did not read must not be taken as the next request on this connection.
  if (!req.complete) headers.connection = 'close';
  res.statusCode = status;
  trace.sent.bytes = body.length;
  try {
    await auditNow(deps, req, res, trace);
  } catch (auditErr) {
    res.destroy();
    throw auditErr;
  }
  res.writeHead(status, headers);
  res.end(body);
}

/** After the request, whatever happened: its event, if nothing committed it yet (a cut connection). */
async function finish(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse, trace: Trace): Promise<void> {
  await auditNow(deps, req, res, trace);
}

/** Commits the request's one audit event (once) and counts it in the metrics. */
function auditNow(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse, trace: Trace): Promise<void> {
  if (trace.recorded) return trace.recorded;
  const record = auditRecord(req, res, trace);
  const sealed = performance.now();
  trace.recorded = deps.audit.commit(record);
  const m = deps.metrics;
  void trace.recorded.then(() => m.steps.observe({ step: 'audit' }, (performance.now() - sealed) / 1000), () => undefined);
  const labels = { connection: record.connection ?? '', operation: record.operation ?? '' };
  m.requests.inc({ ...labels, effect: record.decision.effect, status: String(record.status) });
  m.duration.observe(labels, record.latencyMs / 1000);
  if (trace.upstreamLatencyMs !== undefined) m.steps.observe({ step: 'upstream' }, trace.upstreamLatencyMs / 1000);
  return trace.recorded;
}

/** What the gateway learnt about the request, as the audit event keeps it; `status` overrides (0: not yet answered). */
function auditRecord(req: IncomingMessage, res: ServerResponse, trace: Trace, status?: number): AuditRecord {
  const error = trace.error;
  const c = trace.classification;
  return {
    requestId: trace.requestId,
    time: new Date(trace.arrived),
    principal: trace.principal ? { subject: trace.principal.subject, email: trace.principal.email, groups: trace.principal.groups, issuer: trace.principal.issuer } : null,
    client: { ip: req.socket.remoteAddress ?? '', userAgent: req.headers['user-agent']?.slice(0, 256) },
    connection: trace.connection?.name ?? null,
    dialect: trace.connection?.dialect.name ?? null,
    request: { method: (req.method ?? '').slice(0, 16), path: trace.path, ...(trace.query ? { query: trace.query } : {}), endpoint: c?.endpoint ?? null, ...(trace.bodySha256 ? { bodySha256: trace.bodySha256 } : {}) },
    operation: c?.operation ?? null,
    collections: trace.collections,
    bulk: c?.bulk ?? false,
    decision: trace.decision
      ? { effect: trace.decision.effect, ruleId: trace.decision.ruleId, explanation: trace.decision.explanation }
      : { effect: 'none', ruleId: null, explanation: error ? `Refused before a policy decision: ${error.code}.` : 'No decision.' },
    status: status ?? (error ? (res.headersSent && trace.upstreamStatus ? trace.upstreamStatus : error.status) : res.statusCode),
    ...(error ? { error: { code: error.code, message: error.message } } : {}),
    ...(trace.approval ? { approval: trace.approval } : {}),
    ...(trace.upstreamStatus !== undefined ? { upstream: { status: trace.upstreamStatus, latencyMs: round(trace.upstreamLatencyMs ?? 0) } } : {}),
    ...(trace.masking ? { masking: maskingEvidence(trace.masking) } : {}),
    ...(trace.listing ? { listing: trace.listing } : {}),
    ...(trace.records ? { records: trace.records } : {}),
    latencyMs: round(performance.now() - trace.started),
    bytesIn: trace.bytesIn,
    bytesOut: trace.sent.bytes,
  };
}

/** Changes and exports: an intent is durable before they are forwarded. */
const INTENT_OPERATIONS: ReadonlySet<string> = new Set(['write', 'delete', 'schema', 'snapshot', 'admin', 'export']);

function maskingEvidence(s: MaskStats): MaskingEvidence {
  return {
    rulesApplied: s.rulesApplied,
    rulesExempted: s.rulesExempted,
    detectorsFired: Object.entries(s.detectorsFired).map(([detector, count]) => ({ detector, count })),
    fieldsMasked: Object.entries(s.fieldsMasked).map(([field, count]) => ({ field, count })),
    valuesMasked: s.valuesMasked,
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

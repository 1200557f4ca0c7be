import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { AuditLog, AuditRecord, MaskingEvidence } from '../audit/event';
import type { Clock } from '../clock';
import type { GatewayConfig } from '../config/schema';
import type { Classification } from '../dialect/types';
import { asVecgateError, VecgateError } from '../errors';
import { downstreamResponseHeaders, upstreamRequestHeaders } from '../forward/headers';
import { extractToken } from '../identity/extract';
import type { Principal, TokenVerifier } from '../identity/types';
import { decide, type Decision, type Policy } from '../policy/evaluate';
import { parseJsonBody, readBody } from './body';
import type { ConnectionRuntime } from './connections';
import { emptyStats, maskHttpResponse, type Masker, type MaskStats } from '../masking';
import type { UpstreamResponse } from '../forward/upstream';
import { errorResponse } from './error-response';
import { checkFraming } from './framing';
import type { GatewayMetrics } from './metrics';
import { routeRequest } from './routing';

export interface HandlerDeps {
  gateway: GatewayConfig;
  connections: ReadonlyMap<string, ConnectionRuntime>;
  verifier: TokenVerifier;
  policy: Policy;
  audit: AuditLog;
  metrics: GatewayMetrics;
  masker: Masker;
  maskingMaxBodyBytes: number;
  clock: Clock;
  logger: Logger;
}

/** What the gateway learnt about one request so far; it becomes the audit event. */
interface Trace {
  requestId: string;
  arrived: number;
  started: number;
  connection?: ConnectionRuntime;
  principal?: Principal;
  path: string;
  classification?: Classification;
  collections: string[];
  decision?: Decision;
  bytesIn: number;
  bytesOut: number;
  upstreamStatus?: number;
  upstreamLatencyMs?: number;
  error?: VecgateError;
  masking?: MaskStats;
}

/** Largest response read whole only to learn collection ids from it (create, get, list). */
const MAX_LEARN_BYTES = 8 * 1024 * 1024;

/**
 * The request's story: route -> identity -> body -> dialect -> collections -> policy -> forward,
 * and in every case exactly one audit event at the end. `dedicated` is the connection of a
 * per-connection listener.
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
      bytesOut: 0,
    };
    res.setHeader('x-vecgate-request-id', trace.requestId);
    serve(deps, dedicated, req, res, trace)
      .catch((err: unknown) => fail(deps, req, res, trace, asVecgateError(err)))
      .finally(() => finish(deps, req, res, trace));
  };
}

async function serve(deps: HandlerDeps, dedicated: string | undefined, req: IncomingMessage, res: ServerResponse, trace: Trace): Promise<void> {
  if (!deps.audit.accepting()) {
    throw new VecgateError('AUDIT_UNAVAILABLE', 'The audit store cannot keep up, so vecgate is refusing requests rather than serving them unaudited. Retry shortly.');
  }
  checkFraming(req.rawHeaders);
  const route = routeRequest(req.url ?? '', dedicated);
  const conn = deps.connections.get(route.connection);
  if (!conn) throw new VecgateError('UNKNOWN_CONNECTION', `There is no connection named "${route.connection.slice(0, 64)}" on this gateway.`);
  trace.connection = conn;
  trace.path = route.path;

  const token = extractToken(req.headersDistinct, conn.dialect.tokenHeaders);
  if (!token) {
    throw new VecgateError('TOKEN_MISSING', 'No token: send your identity-provider access token as "Authorization: Bearer <token>" (or in the database client\'s API-key header).');
  }
  trace.principal = await deps.verifier.verify(token);

  const g = deps.gateway;
  const body = await readBody(req, { maxBytes: g.maxBodyBytes, timeoutMs: g.bodyTimeoutMs, maxJsonDepth: g.maxJsonDepth });
  trace.bytesIn = body.length;
  const json = parseJsonBody(body, req.headers['content-type'], g.maxJsonDepth);

  const result = conn.dialect.classify({ method: (req.method ?? 'GET').toUpperCase(), path: route.path, segments: route.segments, query: route.query, body: json });
  if (!result.known) throw new VecgateError('UNKNOWN_ENDPOINT', result.reason);
  const classification = result.classification;
  trace.classification = classification;
  trace.collections = await conn.directory.resolve(classification.collections);

  const decision = decide(deps.policy, {
    subject: trace.principal.subject,
    groups: trace.principal.groups,
    connection: conn.name,
    operation: classification.operation,
    collections: trace.collections,
  });
  trace.decision = decision;
  if (decision.effect === 'deny') throw new VecgateError('POLICY_DENIED', `Forbidden: ${decision.explanation}`);
  if (decision.effect === 'review') {
    throw new VecgateError('APPROVAL_REQUIRED', `Approval required: ${decision.explanation} Approvals are not enabled on this gateway yet, so the request was not run.`);
  }

  const plan = deps.masker.planFor({ connection: conn.name, collections: trace.collections, groups: trace.principal.groups });
  if (plan) trace.masking = emptyStats(plan.rulesApplied, plan.rulesExempted);
  const masking = plan?.masks ? plan : undefined;
  const learning = conn.dialect.revealsCollections(classification);

  const headers = upstreamRequestHeaders(req.headers, { credentialHeaders: conn.callerCredentialHeaders, credential: conn.credential, host: conn.upstream.host, bodyLength: body.length });
  // A response the gateway must read (to mask it or to learn collection ids) is asked for plain.
  if (masking || learning) headers['accept-encoding'] = 'identity';
  const upstreamStart = performance.now();
  const upstream = await conn.upstream.request({ method: req.method ?? 'GET', target: route.upstreamTarget, headers, body });
  trace.upstreamStatus = upstream.status;
  trace.upstreamLatencyMs = performance.now() - upstreamStart;
  const ok = upstream.status >= 200 && upstream.status < 300;
  if (ok && classification.operation === 'schema') for (const ref of classification.collections) conn.directory.forget(ref);

  if (!masking && !(learning && ok)) return streamThrough(upstream, res, trace);

  const limit = masking ? deps.maskingMaxBodyBytes : MAX_LEARN_BYTES;
  const read = await readUpTo(upstream.body, limit);
  if (!read.complete) {
    if (masking) {
      upstream.body.destroy();
      throw new VecgateError('MASKING_FAILED', `The response was withheld: it is larger than ${limit} bytes, the masking limit. Ask for fewer records at a time.`);
    }
    return streamThrough({ ...upstream, body: Readable.from(prepend(read.chunks, upstream.body)) }, res, trace);
  }
  const raw = Buffer.concat(read.chunks);
  if (learning && ok) learnCollections(deps, conn, classification, upstream.headers, raw, trace.requestId);
  if (!masking) return send(res, upstream.status, downstreamResponseHeaders(upstream.headers), raw, trace);

  const masked = maskHttpResponse(
    { status: upstream.status, headers: upstream.headers, body: raw },
    { plan: masking, records: (json) => conn.dialect.maskableRecords(classification, json), maxBodyBytes: deps.maskingMaxBodyBytes },
  );
  trace.masking = masked.stats;
  // what a caller may see depends on who asks: no shared cache may keep it
  send(res, upstream.status, { ...downstreamResponseHeaders(masked.headers), 'cache-control': 'private, no-store' }, masked.body, trace);
}

async function streamThrough(upstream: UpstreamResponse, res: ServerResponse, trace: Trace): Promise<void> {
  res.writeHead(upstream.status, downstreamResponseHeaders(upstream.headers));
  upstream.body.on('data', (c: Buffer) => (trace.bytesOut += c.length));
  await pipeline(upstream.body, res);
}

function send(res: ServerResponse, status: number, headers: Record<string, string | string[]>, body: Buffer, trace: Trace): void {
  res.writeHead(status, { ...headers, 'content-length': String(body.length) });
  res.end(body);
  trace.bytesOut = body.length;
}

/** Reads until the end or until more than `limit` bytes arrived, whichever comes first. */
async function readUpTo(body: Readable, limit: number): Promise<{ chunks: Buffer[]; complete: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > limit) return { chunks, complete: false };
  }
  return { chunks, complete: true };
}

async function* prepend(first: Buffer[], rest: Readable): AsyncGenerator<Buffer> {
  yield* first;
  for await (const chunk of rest) yield chunk as Buffer;
}

function learnCollections(deps: HandlerDeps, conn: ConnectionRuntime, classification: Classification, headers: UpstreamResponse['headers'], raw: Buffer, requestId: string): void {
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') return; // asked for identity; an upstream that compresses anyway is looked up later
  try {
    conn.directory.learn(conn.dialect.collectionsInResponse(classification, JSON.parse(raw.toString('utf8'))));
  } catch (err) {
    deps.logger.warn({ err, requestId }, 'could not learn collections from the upstream response');
  }
}

function fail(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse, trace: Trace, err: VecgateError): void {
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
  res.writeHead(status, headers);
  res.end(body);
  trace.bytesOut = body.length;
}

function finish(deps: HandlerDeps, req: IncomingMessage, res: ServerResponse, trace: Trace): void {
  const error = trace.error;
  const latencyMs = performance.now() - trace.started;
  const c = trace.classification;
  const record: AuditRecord = {
    requestId: trace.requestId,
    time: new Date(trace.arrived),
    principal: trace.principal ? { subject: trace.principal.subject, email: trace.principal.email, groups: trace.principal.groups, issuer: trace.principal.issuer } : null,
    client: { ip: req.socket.remoteAddress ?? '', userAgent: req.headers['user-agent']?.slice(0, 256) },
    connection: trace.connection?.name ?? null,
    dialect: trace.connection?.dialect.name ?? null,
    request: { method: (req.method ?? '').slice(0, 16), path: trace.path, endpoint: c?.endpoint ?? null },
    operation: c?.operation ?? null,
    collections: trace.collections,
    bulk: c?.bulk ?? false,
    decision: trace.decision
      ? { effect: trace.decision.effect, ruleId: trace.decision.ruleId, explanation: trace.decision.explanation }
      : { effect: 'none', ruleId: null, explanation: error ? `Refused before a policy decision: ${error.code}.` : 'No decision.' },
    status: error ? (res.headersSent && trace.upstreamStatus ? trace.upstreamStatus : error.status) : res.statusCode,
    ...(error ? { error: { code: error.code, message: error.message } } : {}),
    ...(trace.upstreamStatus !== undefined ? { upstream: { status: trace.upstreamStatus, latencyMs: round(trace.upstreamLatencyMs ?? 0) } } : {}),
    ...(trace.masking ? { masking: maskingEvidence(trace.masking) } : {}),
    latencyMs: round(latencyMs),
    bytesIn: trace.bytesIn,
    bytesOut: trace.bytesOut,
  };
  deps.audit.record(record);
  const labels = { connection: record.connection ?? '', operation: record.operation ?? '' };
  deps.metrics.requests.inc({ ...labels, effect: record.decision.effect, status: String(record.status) });
  deps.metrics.duration.observe(labels, latencyMs / 1000);
}

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

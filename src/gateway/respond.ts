import { createHash, type Hash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { Classification } from '../dialect/types';
import { VecgateError } from '../errors';
import { downstreamResponseHeaders } from '../forward/headers';
import type { BodyRead, UpstreamResponse } from '../forward/upstream';
import { maskHttpResponse, type MaskPlan, type MaskStats } from '../masking';
import type { ConnectionRuntime } from './connections';

/** Largest response read whole only to learn collection ids from it (create, get, list). */
const MAX_LEARN_BYTES = 8 * 1024 * 1024;

/** Answers up to this size that nothing needs to read are still sent in one write rather than streamed. */
const SMALL_ANSWER_BYTES = 64 * 1024;

/** What the caller was sent, for the audit event and an approval's execution report. */
export interface Sent {
  bytes: number;
  /** sha256 of the body as sent, when asked for */
  sha256?: string;
  masking?: MaskStats;
  /** a copy of the body as sent, when asked for (keepBodyBytes) and no larger than that */
  body?: Buffer;
}

export interface RespondOptions {
  /** called once the body is known and before the response ends: the audit event is made durable here */
  beforeEnd: () => Promise<void>;
  conn: ConnectionRuntime;
  classification: Classification;
  /** a plan that masks; undefined when nothing is masked for this caller */
  masking: MaskPlan | undefined;
  maskingMaxBodyBytes: number;
  /** hash the body as sent (an approved request reports it) */
  hash: boolean;
  logger: Logger;
  requestId: string;
  /** keep a copy of the body as sent, up to this many bytes, to count the records it holds */
  keepBodyBytes?: number;
}

/** True when the gateway must read the answer (to mask it or to learn collection ids). */
export function mustReadResponse(o: Pick<RespondOptions, 'conn' | 'classification' | 'masking'>): boolean {
  return o.masking !== undefined || o.conn.dialect.revealsCollections(o.classification);
}

/**
 * Sends the upstream's answer to the caller: streamed as it comes when nothing needs reading,
 * otherwise read whole (bounded), ids learnt, personal data masked (or the answer withheld).
 */
export async function respond(upstream: UpstreamResponse, res: ServerResponse, o: RespondOptions, sent: Sent): Promise<void> {
  const ok = upstream.status >= 200 && upstream.status < 300;
  if (ok && o.classification.operation === 'schema') for (const ref of o.classification.collections) o.conn.directory.forget(ref);
  const learning = ok && o.conn.dialect.revealsCollections(o.classification);
  const hash = o.hash ? createHash('sha256') : undefined;
  // only answers that may hold personal data are masked: a heartbeat streams even for a masked caller
  const masking = o.masking && o.conn.dialect.mayHoldPersonalData(o.classification, upstream.status) ? o.masking : undefined;
  if (!masking && !learning) {
    // a small answer of known length is read whole and written with its headers in one go: the
    // stream plumbing costs more than the bytes for most requests (docs/performance.md)
    const length = Number(upstream.headers['content-length'] ?? Infinity);
    if (length > SMALL_ANSWER_BYTES) return streamThrough(upstream, res, sent, hash, o.beforeEnd, o.keepBodyBytes);
    const read = await readUpTo(upstream, SMALL_ANSWER_BYTES);
    if (!read.complete) return streamThrough({ ...upstream, body: Readable.from(prepend(read.chunks, upstream.body)) }, res, sent, hash, o.beforeEnd, o.keepBodyBytes);
    const raw = read.chunks.length === 1 ? (read.chunks[0] as Buffer) : Buffer.concat(read.chunks);
    if (o.keepBodyBytes !== undefined && raw.length <= o.keepBodyBytes) sent.body = raw;
    // the upstream's content-length stays as it was (a HEAD answer announces a body it does not carry)
    return send(res, upstream.status, downstreamResponseHeaders(upstream.headers), raw, sent, hash, o.beforeEnd, false);
  }

  const limit = masking ? o.maskingMaxBodyBytes : MAX_LEARN_BYTES;
  const read = await readUpTo(upstream, limit);
  if (!read.complete) {
    if (masking) {
      upstream.body.destroy();
      throw new VecgateError('MASKING_FAILED', `The response was withheld: it is larger than ${limit} bytes, the masking limit. Ask for fewer records at a time.`);
    }
    return streamThrough({ ...upstream, body: Readable.from(prepend(read.chunks, upstream.body)) }, res, sent, hash, o.beforeEnd, o.keepBodyBytes);
  }
  const raw = Buffer.concat(read.chunks);
  if (learning) learnCollections(o, upstream.headers, raw);
  if (!masking && o.keepBodyBytes !== undefined && raw.length <= o.keepBodyBytes) sent.body = raw;
  if (!masking) return send(res, upstream.status, downstreamResponseHeaders(upstream.headers), raw, sent, hash, o.beforeEnd);

  const masked = maskHttpResponse(
    { status: upstream.status, headers: upstream.headers, body: raw },
    {
      plan: masking,
      records: (json) => o.conn.dialect.maskableRecords(o.classification, json),
      errorRecords: (json) => o.conn.dialect.maskableErrorRecords(json),
      maxBodyBytes: o.maskingMaxBodyBytes,
    },
  );
  sent.masking = masked.stats;
  if (o.keepBodyBytes !== undefined && masked.body.length <= o.keepBodyBytes) sent.body = masked.body;
  // what a caller may see depends on who asks: no shared cache may keep it
  await send(res, upstream.status, { ...downstreamResponseHeaders(masked.headers), 'cache-control': 'private, no-store' }, masked.body, sent, hash, o.beforeEnd);
}

async function streamThrough(upstream: UpstreamResponse, res: ServerResponse, sent: Sent, hash: Hash | undefined, beforeEnd: () => Promise<void>, keepBodyBytes?: number): Promise<void> {
  res.writeHead(upstream.status, downstreamResponseHeaders(upstream.headers));
  let kept: Buffer[] | undefined = keepBodyBytes === undefined ? undefined : [];
  upstream.body.on('data', (c: Buffer) => {
    sent.bytes += c.length;
    hash?.update(c);
    if (kept && sent.bytes <= (keepBodyBytes as number)) kept.push(c);
    else kept = undefined;
  });
  await pipeline(upstream.body, res, { end: false });
  if (hash) sent.sha256 = hash.digest('hex');
  if (kept) sent.body = Buffer.concat(kept);
  await beforeEnd();
  res.end();
}

async function send(res: ServerResponse, status: number, headers: Record<string, string | string[]>, body: Buffer, sent: Sent, hash: Hash | undefined, beforeEnd: () => Promise<void>, setLength = true): Promise<void> {
  res.statusCode = status;
  sent.bytes = body.length;
  if (hash) sent.sha256 = hash.update(body).digest('hex');
  await beforeEnd();
  if (setLength) headers['content-length'] = String(body.length);
  res.writeHead(status, headers);
  res.end(body);
}

/** Reads until the end or until more than `limit` bytes arrived, whichever comes first. */
function readUpTo(upstream: UpstreamResponse, limit: number): Promise<BodyRead> {
  // an upstream answer reads without a stream (docs/performance.md)
  return upstream.readUpTo ? upstream.readUpTo(limit) : readStreamUpTo(upstream.body, limit);
}

async function readStreamUpTo(body: Readable, limit: number): Promise<BodyRead> {
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

function learnCollections(o: RespondOptions, headers: UpstreamResponse['headers'], raw: Buffer): void {
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') return; // asked for identity; an id seen later is looked up then
  try {
    o.conn.directory.learn(o.conn.dialect.collectionsInResponse(o.classification, JSON.parse(raw.toString('utf8'))));
  } catch (err) {
    o.logger.warn({ err, requestId: o.requestId }, 'could not learn collections from the upstream response');
  }
}

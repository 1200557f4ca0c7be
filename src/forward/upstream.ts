import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import { Readable } from 'node:stream';
import { VecgateError } from '../errors';

export interface UpstreamLimits {
  connections: number;
  connectTimeoutMs: number;
  timeoutMs: number;
}

/** What was read of a body: everything (complete) or the first chunks past a limit. */
export interface BodyRead {
  chunks: Buffer[];
  complete: boolean;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** the body as a stream; an upstream answer makes it only when asked, and it carries on after readUpTo */
  readonly body: Readable;
  /**
   * Reads until the end or until more than `limit` bytes arrived, whichever comes first, without
   * a stream; what is returned is not in `body` any more. Upstream answers have it; answers the
   * gateway makes itself need not.
   */
  readUpTo?(limit: number): Promise<BodyRead>;
}

export interface Upstream {
  readonly origin: string;
  /** host header value for the upstream */
  readonly host: string;
  request(req: { method: string; target: string; headers: Record<string, string | string[]>; body: Buffer }): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

/**
 * Pooled keep-alive connections to one database. Requests are sent once: nothing is retried, so a
 * write can never run twice because of the gateway.
 */
export function createUpstream(baseUrl: string, limits: UpstreamLimits): Upstream {
  const url = new URL(baseUrl);
  const pool = new Pool(url.origin, {
    connections: limits.connections,
    connectTimeout: limits.connectTimeoutMs,
    headersTimeout: limits.timeoutMs,
    bodyTimeout: limits.timeoutMs,
    keepAliveTimeout: 30_000,
  });
  const prefix = url.pathname.replace(/\/+$/, '');
  return {
    origin: url.origin,
    host: url.host,
    request(req) {
      return new Promise<UpstreamResponse>((resolve, reject) => {
        // dispatch, not pool.request: most answers are small, and collecting their chunks costs far
        // less than a stream per response, which is made only for an answer that is streamed on
        pool.dispatch(
          { method: req.method as Dispatcher.HttpMethod, path: prefix + req.target, headers: req.headers, body: req.body.length > 0 ? req.body : null },
          new UpstreamCall(resolve, (err) => reject(upstreamError(err))),
        );
      });
    },
    close: () => pool.close(),
  };
}

/** Bytes collected while nobody reads yet, before the upstream connection is paused (a stream's usual buffer). */
const COLLECT_BYTES = 64 * 1024;

interface Waiter {
  limit: number;
  resolve: (read: BodyRead) => void;
  reject: (err: Error) => void;
}

/**
 * One request's answer as undici delivers it. Chunks are collected until someone reads them with
 * readUpTo or asks for the body as a stream; the upstream connection is paused whenever nobody takes
 * what arrives (past COLLECT_BYTES, a readUpTo limit, or a stream's buffer), so memory stays bounded
 * and a slow client slows the upstream down, as with a stream.
 */
class UpstreamCall implements Dispatcher.DispatchHandler, UpstreamResponse {
  status = 0;
  headers: Record<string, string | string[] | undefined> = {};
  private controller: Dispatcher.DispatchController | undefined;
  private chunks: Buffer[] = [];
  private size = 0;
  private ended = false;
  private error: Error | undefined;
  private waiter: Waiter | undefined;
  private stream: Readable | undefined;

  constructor(
    private onResponse: ((res: UpstreamResponse) => void) | undefined,
    private onFailure: (err: Error) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // informational (100 Continue, 103): the answer follows
    this.status = statusCode;
    this.headers = headers;
    const onResponse = this.onResponse;
    this.onResponse = undefined;
    onResponse?.(this);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.stream) {
      if (!this.stream.push(chunk)) controller.pause();
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.waiter) {
      if (this.size > this.waiter.limit) {
        controller.pause();
        this.settle();
      }
    } else if (this.size >= COLLECT_BYTES) controller.pause();
  }

  onResponseEnd(): void {
    this.ended = true;
    if (this.stream) this.stream.push(null);
    else this.settle();
  }

  onResponseError(controller: Dispatcher.DispatchController, err: Error): void {
    if (this.onResponse) {
      this.onResponse = undefined;
      this.onFailure(err);
      return;
    }
    this.error = err;
    const stream = this.stream;
    // as undici's own body: callbacks already queued run before the stream errors
    if (stream) queueMicrotask(() => stream.destroy(err));
    else this.settle();
  }

  readUpTo(limit: number): Promise<BodyRead> {
    if (this.stream || this.waiter) return Promise.reject(new Error('the upstream body is already being read'));
    return new Promise<BodyRead>((resolve, reject) => {
      this.waiter = { limit, resolve, reject };
      this.settle();
      if (this.waiter) this.controller?.resume();
    });
  }

  get body(): Readable {
    if (this.stream) return this.stream;
    const stream = new Readable({
      highWaterMark: COLLECT_BYTES,
      read: () => this.controller?.resume(),
      destroy: (err, callback) => {
        // a body left before its end (a client gone, a limit) aborts the upstream request, as undici's does
        if (!this.ended && !this.error) this.controller?.abort(err ?? new undiciErrors.RequestAbortedError());
        callback(err);
      },
    });
    this.stream = stream;
    const chunks = this.chunks;
    this.chunks = [];
    this.size = 0;
    for (const chunk of chunks) stream.push(chunk);
    if (this.error) {
      const err = this.error;
      queueMicrotask(() => stream.destroy(err));
    } else if (this.ended) stream.push(null);
    return stream;
  }

  /** Answers a pending readUpTo once the body ended, failed or passed its limit. */
  private settle(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    if (this.error) {
      this.waiter = undefined;
      waiter.reject(this.error);
    } else if (this.ended || this.size > waiter.limit) {
      this.waiter = undefined;
      const { chunks, size } = this;
      this.chunks = [];
      this.size = 0;
      // past the limit is not complete even when it ended, as a reader of a stream stops there
      waiter.resolve({ chunks, complete: size <= waiter.limit });
    }
  }
}
/** refused -> 502, reset -> 502, slow -> 504, each with a message the client library shows. */
export function upstreamError(err: unknown): VecgateError {
  if (err instanceof VecgateError) return err;
  const code = (err as { code?: string }).code;
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || err instanceof undiciErrors.ConnectTimeoutError || code === 'ETIMEDOUT') {
    return new VecgateError('UPSTREAM_TIMEOUT', 'The vector database did not answer in time; the request may or may not have run there. Retry reads; check writes before retrying.', { cause: err });
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EAI_AGAIN') {
    return new VecgateError('UPSTREAM_UNREACHABLE', 'The vector database refused the connection or cannot be reached; nothing was executed. Try again later.', { cause: err });
  }
  return new VecgateError('UPSTREAM_RESET', 'The connection to the vector database broke before it answered; the request may or may not have run there.', { cause: err });
}

import { hostname } from 'node:os';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { Logger } from 'pino';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';
import type { SealedEvent } from './trail-types';

/**
 * Copies of the trail for the SOC: a JSON Lines file rotated by size and day, and syslog (RFC 5424
 * over TCP, optionally TLS, octet-counted framing of RFC 6587) to a SIEM. MongoDB stays the
 * system of record; a sink that falls behind keeps a bounded queue and counts what it dropped, and
 * says so in the stream once it catches up.
 */

export interface AuditSink {
  readonly name: string;
  /** events in seq order, after they are stored in MongoDB */
  send(events: readonly SealedEvent[]): void;
  close(): Promise<void>;
}

export interface JsonLinesSinkOptions {
  /** directory of the files */
  dir: string;
  /** file name prefix; files are <prefix>.jsonl, rotated to <prefix>-<date>-<n>.jsonl */
  prefix: string;
  /** e.g. "100M" */
  maxSize: string;
  maxFiles: number;
}

export function jsonLinesSink(options: JsonLinesSinkOptions, logger: Logger): AuditSink {
  const name = (time: Date | number | null, index?: number): string => {
    if (!time) return `${options.prefix}.jsonl`;
    const d = time instanceof Date ? time : new Date(time);
    return `${options.prefix}-${d.toISOString().slice(0, 10)}-${index ?? 0}.jsonl`;
  };
  const stream: RotatingFileStream = createStream(name, { path: options.dir, size: options.maxSize, interval: '1d', maxFiles: options.maxFiles });
  stream.on('error', (err) => logger.error({ err, sink: 'jsonl' }, 'the JSON Lines audit sink failed'));
  return {
    name: 'jsonl',
    send(events) {
      stream.write(events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    },
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}

export interface SyslogSinkOptions {
  host: string;
  port: number;
  tls?: { ca?: string; cert?: string; key?: string; serverName?: string; rejectUnauthorized: boolean };
  /** syslog facility number; 13 is "log audit" */
  facility: number;
  appName: string;
  /** SD-ID enterprise number; 32473 is the one RFC 5612 reserves for examples: set your own */
  enterpriseId: number;
  /** events kept while the SIEM is away; older ones are dropped and counted */
  maxQueue: number;
}

/** RFC 5424 severity of an event: denials and failures stand out in the SIEM. */
function severity(e: SealedEvent): number {
  if (e.status === 0 || e.interrupted || e.status >= 500) return 3; // error
  if (e.decision.effect === 'deny' || e.status >= 400) return 4; // warning
  if (e.decision.effect === 'review') return 5; // notice
  return 6; // informational
}

/** SD-PARAM values escape ", \ and ]. */
function sdValue(v: string): string {
  return v.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

/** One printable ASCII token (no spaces), or "-" for none, cut to the field's limit. */
function token(v: string | null | undefined, max: number): string {
  const t = (v ?? '').replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return t === '' ? '-' : t;
}

export function formatSyslog(e: SealedEvent, o: Pick<SyslogSinkOptions, 'facility' | 'appName' | 'enterpriseId'>, host: string): string {
  const pri = o.facility * 8 + severity(e);
  const time = new Date(e.time).toISOString();
  const sd =
    `[vecgate@${o.enterpriseId} instance="${sdValue(e.instanceId)}" seq="${e.seq}" hash="${e.hash}" requestId="${sdValue(e.requestId)}"` +
    ` subject="${sdValue(e.principal?.subject ?? '')}" effect="${e.decision.effect}" status="${e.status}"]`;
  return `<${pri}>1 ${time} ${token(host, 255)} ${token(o.appName, 48)} ${token(e.instanceId, 128)} ${token(e.operation ?? 'event', 32)} ${sd} \ufeff${JSON.stringify(e)}`;
}

export function syslogSink(options: SyslogSinkOptions, logger: Logger): AuditSink {
  const host = hostname();
  let socket: Socket | undefined;
  let connecting = false;
  let closed = false;
  let dropped = 0;
  let backoff = 100;
  const queue: string[] = [];

  const frame = (msg: string) => `${Buffer.byteLength(msg, 'utf8')} ${msg}`;
  const flush = () => {
    while (socket && queue.length > 0 && socket.writable) {
      if (!socket.write(queue.shift() as string)) break;
    }
  };
  const open = () => {
    if (connecting || closed || socket) return;
    connecting = true;
    const s = options.tls
      ? connectTls({ host: options.host, port: options.port, ca: options.tls.ca, cert: options.tls.cert, key: options.tls.key, servername: options.tls.serverName, rejectUnauthorized: options.tls.rejectUnauthorized })
      : connectTcp({ host: options.host, port: options.port });
    s.once(options.tls ? 'secureConnect' : 'connect', () => {
      connecting = false;
      socket = s;
      backoff = 100;
      if (dropped > 0) {
        queue.unshift(frame(`<${options.facility * 8 + 4}>1 ${new Date().toISOString()} ${token(host, 255)} ${token(options.appName, 48)} - dropped - \ufeff${dropped} audit events were dropped while the SIEM was unreachable; MongoDB holds them all`));
        dropped = 0;
      }
      flush();
    });
    s.on('drain', flush);
    s.on('error', (err) => logger.warn({ err, sink: 'syslog' }, 'the syslog audit sink lost its connection; retrying'));
    s.on('close', () => {
      connecting = false;
      socket = undefined;
      if (closed) return;
      setTimeout(open, backoff).unref();
      backoff = Math.min(backoff * 2, 10000);
    });
  };
  open();
  return {
    name: 'syslog',
    send(events) {
      for (const e of events) queue.push(frame(formatSyslog(e, options, host)));
      while (queue.length > options.maxQueue) {
        queue.shift();
        dropped += 1;
      }
      if (socket) flush();
      else open();
    },
    async close() {
      closed = true;
      const s = socket;
      if (!s) return;
      flush();
      await new Promise<void>((resolve) => {
        s.end(resolve);
        setTimeout(resolve, 2000).unref();
      });
    },
  };
}

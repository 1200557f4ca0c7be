import type { Collection, Db, IndexDescription } from 'mongodb';
import { ensureIndexes } from '../storage/indexes';
import type { Logger } from 'pino';
import type { AuditConfig } from '../config/schema';
import type { AuditEvent, AuditLog, AuditRecord } from './event';

const DUPLICATE_KEY = 11000;

/**
 * Audit events batched into MongoDB. Events wait in a bounded queue; while MongoDB is down they are
 * retried with backoff, and once the queue is full the gateway stops accepting requests.
 * (A durable on-disk spool replaces the in-memory queue in the audit-chain work.)
 */
export async function openMongoAuditLog(
  db: Db,
  config: AuditConfig,
  deps: { logger: Logger; instanceId: string },
): Promise<AuditLog> {
  const events = db.collection<AuditEvent>(config.collection);
  await ensureAuditIndexes(events);
  const last = await events.find({ instanceId: deps.instanceId }).sort({ seq: -1 }).limit(1).next();
  return new MongoAuditLog(events, config, deps.logger, deps.instanceId, last?.seq ?? 0);
}

const AUDIT_INDEXES: IndexDescription[] = [
  { key: { instanceId: 1, seq: 1 }, name: 'instance_seq', unique: true },
  { key: { time: 1 }, name: 'time' },
  { key: { 'principal.subject': 1, time: 1 }, name: 'principal_time' },
  { key: { connection: 1, collections: 1, time: 1 }, name: 'collection_time' },
  { key: { requestId: 1 }, name: 'request_id' },
];

export function ensureAuditIndexes(events: Collection<AuditEvent>): Promise<void> {
  return ensureIndexes(events, AUDIT_INDEXES);
}

class MongoAuditLog implements AuditLog {
  private readonly queue: AuditEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private failures = 0;
  private closed = false;
  private unrecordedRefusals = 0;
  private lastRefusal: AuditRecord | undefined;

  constructor(
    private readonly events: Collection<AuditEvent>,
    private readonly config: AuditConfig,
    private readonly logger: Logger,
    readonly instanceId: string,
    private seq: number,
  ) {}

  record(event: AuditRecord): void {
    // Refusals while the store is away are counted, not queued, so a flood cannot grow memory;
    // they are written as one summary event once the store is back. Served requests always queue.
    if (event.error?.code === 'AUDIT_UNAVAILABLE' && this.queue.length >= this.config.maxPending) {
      this.unrecordedRefusals += 1;
      this.lastRefusal = event;
      return;
    }
    this.append(event);
  }

  private append(event: AuditRecord): void {
    this.seq += 1;
    this.queue.push({ instanceId: this.instanceId, seq: this.seq, ...event });
    this.schedule(this.config.flushIntervalMs);
  }

  private summariseRefusals(): void {
    if (this.unrecordedRefusals === 0 || !this.lastRefusal || this.queue.length >= this.config.maxPending) return;
    const count = this.unrecordedRefusals;
    this.unrecordedRefusals = 0;
    this.append({
      ...this.lastRefusal,
      principal: null,
      requestId: `refusal-summary-${this.instanceId}-${this.seq + 1}`,
      decision: { effect: 'none', ruleId: null, explanation: `${count} requests were refused with 503 while the audit store was unavailable; they are summarised in this one event.` },
      refusedCount: count,
    });
  }

  accepting(): boolean {
    return !this.closed && this.queue.length < this.config.maxPending;
  }

  pending(): number {
    return this.queue.length;
  }

  async flush(timeoutMs = 10000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 || this.inFlight) {
      if (Date.now() > deadline) throw new Error(`audit flush timed out with ${this.queue.length} events pending`);
      await (this.inFlight ?? this.writeBatch());
      if (this.queue.length > 0 && this.failures > 0) await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    try {
      await this.flush();
    } finally {
      clearTimeout(this.timer);
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.inFlight) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writeBatch();
    }, delayMs);
    this.timer.unref();
  }

  private writeBatch(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const batch = this.queue.slice(0, this.config.batchSize);
    if (batch.length === 0) return Promise.resolve();
    this.inFlight = this.insert(batch)
      .then(() => {
        this.queue.splice(0, batch.length);
        this.failures = 0;
        this.summariseRefusals();
      })
      .catch((err: unknown) => {
        this.failures += 1;
        this.logger.warn({ err, pending: this.queue.length, attempt: this.failures }, 'audit events could not be written to MongoDB; retrying');
      })
      .finally(() => {
        this.inFlight = undefined;
        if (this.queue.length > 0) this.schedule(this.failures === 0 ? 0 : Math.min(5000, 50 * 2 ** this.failures));
      });
    return this.inFlight;
  }

  /**
   * Retried batches may hit events a previous attempt already stored: those duplicates are success.
   * An event the store refuses for its content would block the queue for ever: it is replaced by
   * its essentials (same seq, so the sequence keeps no gap) and the batch is tried again.
   */
  private async insert(batch: AuditEvent[]): Promise<void> {
    try {
      await this.events.insertMany(batch.map((e) => ({ ...e })), { ordered: false });
    } catch (err) {
      const writeErrors = (err as { writeErrors?: WriteError[] | WriteError }).writeErrors;
      const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
      if (list.length > 0 && list.every((w) => w.code === DUPLICATE_KEY)) return;
      for (const w of list) {
        const event = w.index === undefined || w.code === DUPLICATE_KEY ? undefined : batch[w.index];
        if (event) this.queue[w.index as number] = essentials(event, w.code);
      }
      throw err;
    }
  }
}

interface WriteError {
  code?: number;
  index?: number;
}

function essentials(e: AuditEvent, code: number | undefined): AuditEvent {
  return {
    instanceId: e.instanceId,
    seq: e.seq,
    requestId: e.requestId,
    time: e.time,
    principal: e.principal,
    client: { ip: e.client.ip },
    connection: e.connection,
    dialect: e.dialect,
    request: { method: e.request.method, path: e.request.path.slice(0, 512), endpoint: e.request.endpoint },
    operation: e.operation,
    collections: e.collections,
    bulk: e.bulk,
    decision: e.decision,
    status: e.status,
    error: e.error,
    latencyMs: e.latencyMs,
    bytesIn: e.bytesIn,
    bytesOut: e.bytesOut,
    storedPartially: `the store refused the full event (code ${code ?? 'unknown'}); its essentials are kept`,
  };
}

import type { Collection } from 'mongodb';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { CheckpointSink } from './checkpoint-store';
import type { AuditSink } from './sinks';
import { signCheckpoint } from './checkpoint-store';
import type { NoteSigner } from './checkpoint';
import type { InstanceLease } from './instance-lease';
import { appendLeaf } from './merkle';
import type { ChainHead } from './sequencer';
import type { Spool, SpoolCursor } from './spool';
import type { SealedEvent, SpoolFrame } from './trail-types';

const DUPLICATE_KEY = 11000;
/** bytes of spool read per batch */
const READ_BYTES = 1 << 20;

export interface ShipperOptions {
  batchSize: number;
  /** sign a checkpoint once this many events were shipped since the last one... */
  checkpointEvery: number;
  /** ...or this long passed with new events */
  checkpointMs: number;
  /** the instance lease is renewed (and the shipped head recorded) this often, busy or idle */
  renewEveryMs: number;
  /** while events trickle in, they gather this long between batches */
  shipIntervalMs: number;
}

export interface ShipperDeps {
  instanceId: string;
  spool: Spool<SpoolFrame>;
  events: Collection<SealedEvent>;
  lease: InstanceLease;
  sinks: readonly CheckpointSink[];
  /** copies of the events, fed after MongoDB stored them */
  copies: readonly AuditSink[];
  signer: NoteSigner | undefined;
  clock: Clock;
  logger: Logger;
  /** everything before this cursor is shipped */
  onShipped(cursor: SpoolCursor): void;
}

/**
 * Delivers the spool to MongoDB in seq order, at least once and idempotently by (instance, seq):
 * a duplicate with the same hash is a retry that already landed; one with another hash means two
 * writers claim the instance or the store was tampered with, and stops shipping (an alarm).
 * Retries with backoff for as long as MongoDB is away; the spool keeps the events meanwhile.
 */
export class Shipper {
  private cursor: SpoolCursor;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** ends any sleep, the gathering one too: only stop() calls it */
  private wakeForStop: (() => void) | undefined;
  private stopped = false;
  private failures = 0;
  private alarm: string | undefined;
  private lastCheckpoint: { size: number; at: number };
  private lastRenew: number;

  constructor(
    private readonly deps: ShipperDeps,
    private readonly options: ShipperOptions,
    /** the chain as MongoDB holds it */
    public shipped: ChainHead,
    start: SpoolCursor,
  ) {
    this.cursor = start;
    this.lastCheckpoint = { size: -1, at: deps.clock.now() };
    this.lastRenew = performance.now();
  }

  /** why shipping stopped for good, if it did */
  alarmed(): string | undefined {
    return this.alarm;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** new frames are durable in the spool */
  notify(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeForStop?.();
    await this.running;
  }

  /** Signs the shipped head now (at start and at stop), whatever the counters say. */
  async checkpoint(): Promise<void> {
    if (!this.deps.signer) return;
    const record = signCheckpoint(this.deps.signer, this.deps.instanceId, this.shipped, new Date(this.deps.clock.now()));
    for (const sink of this.deps.sinks) await sink.write(record);
    this.lastCheckpoint = { size: this.shipped.seq, at: this.deps.clock.now() };
  }

  private async loop(): Promise<void> {
    while (!this.stopped && !this.alarm) {
      let shipped = 0;
      try {
        shipped = await this.shipBatch();
        this.failures = 0;
        await this.maybeCheckpoint();
        if (performance.now() - this.lastRenew >= this.options.renewEveryMs) await this.persistHead();
      } catch (err) {
        this.failures += 1;
        this.deps.logger.warn({ err, attempt: this.failures, shippedSeq: this.shipped.seq }, 'audit events could not be shipped to MongoDB; they stay in the spool and are retried');
      }
      if (this.failures > 0) await this.sleep(Math.min(5000, 50 * 2 ** this.failures));
      // a full batch means a backlog: go on at once; otherwise let events gather for one interval,
      // so that a busy gateway writes few large batches rather than many small ones
      else if (shipped >= this.options.batchSize) continue;
      // (new events do not cut the gathering short: waking on each of them made a batch per event)
      else if (shipped > 0) await this.sleep(this.options.shipIntervalMs, false);
      else await this.sleep(Math.min(this.options.checkpointMs, this.options.renewEveryMs));
    }
  }

  /** `wakeOnNotify`: new events end the sleep (idle waits), or only stop() does (gathering) */
  private sleep(ms: number, wakeOnNotify = true): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = wakeOnNotify ? done : undefined;
      this.wakeForStop = done;
    });
  }

  /** Ships the next batch; how many events it stored. */
  private async shipBatch(): Promise<number> {
    const { values, next } = this.deps.spool.read(this.cursor, READ_BYTES);
    if (values.length === 0) return 0;
    const events = values.filter((f): f is Extract<SpoolFrame, { t: 'e' }> => f.t === 'e').map((f) => f.e).filter((e) => e.seq > this.shipped.seq);
    for (let i = 0; i < events.length; i += this.options.batchSize) {
      const batch = events.slice(i, i + this.options.batchSize);
      await this.insert(batch);
      for (const copy of this.deps.copies) copy.send(batch);
      for (const e of batch) {
        if (e.seq !== this.shipped.seq + 1 || e.prevHash !== this.shipped.hash) {
          this.raise(`the spool holds event ${e.seq} where ${this.shipped.seq + 1} linking to ${this.shipped.hash.slice(0, 12)} was expected`);
          return 0;
        }
        this.shipped = { seq: e.seq, hash: e.hash, tree: appendLeaf(this.shipped.tree, Buffer.from(e.hash, 'hex')) };
      }
      await this.maybeCheckpoint();
    }
    this.cursor = next;
    return events.length;
  }

  /**
   * Writes the shipped head into the instance document (renewing the lease), then lets the spool
   * drop what that head covers: a restart finds every event after the recorded head still in the
   * spool (the ones MongoDB already holds are shipped again and recognised by their hash).
   */
  private async persistHead(): Promise<void> {
    const cursor = this.cursor;
    if (await this.renew()) this.deps.onShipped(cursor);
  }

  private async renew(): Promise<boolean> {
    const held = await this.deps.lease.renew(this.shipped);
    this.lastRenew = performance.now();
    if (!held) this.raise(`another process took instance id ${this.deps.instanceId} while this one was running (its lease had run out)`);
    return held;
  }

  private async insert(batch: SealedEvent[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      await this.deps.events.insertMany(batch.map(revive), { ordered: false });
    } catch (err) {
      const list = writeErrorsOf(err);
      if (list.length === 0 || list.some((w) => w.code !== DUPLICATE_KEY)) throw err;
      // Retries land twice: each duplicate must be the very same event.
      const seqs = list.map((w) => (batch[w.index as number] as SealedEvent).seq);
      const stored = await this.deps.events.find({ instanceId: this.deps.instanceId, seq: { $in: seqs } }, { projection: { seq: 1, hash: 1 } }).toArray();
      const byseq = new Map(stored.map((s) => [s.seq, s.hash]));
      for (const seq of seqs) {
        const mine = batch.find((e) => e.seq === seq) as SealedEvent;
        if (byseq.get(seq) !== mine.hash) {
          this.raise(`MongoDB already holds event ${seq} of instance ${this.deps.instanceId} with another hash: two writers use this instance id, or the store was altered`);
          throw new Error(this.alarm);
        }
      }
    }
  }

  private async maybeCheckpoint(): Promise<void> {
    const since = this.shipped.seq - Math.max(this.lastCheckpoint.size, 0);
    const due = since >= this.options.checkpointEvery || (since > 0 && this.deps.clock.now() - this.lastCheckpoint.at >= this.options.checkpointMs);
    if (due) await this.checkpoint();
  }

  private raise(alarm: string): void {
    this.alarm ??= alarm;
    this.deps.logger.error({ alarm: true, instanceId: this.deps.instanceId }, alarm);
  }
}

interface WriteError {
  code?: number;
  index?: number;
}

function writeErrorsOf(err: unknown): WriteError[] {
  const w = (err as { writeErrors?: WriteError[] | WriteError }).writeErrors;
  return Array.isArray(w) ? w : w ? [w] : [];
}

/** Dates come back from the spool's JSON as strings; MongoDB keeps them as dates for time queries. */
function revive(e: SealedEvent): SealedEvent {
  return { ...e, time: new Date(e.time) };
}

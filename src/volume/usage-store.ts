import type { Collection, Db, IndexDescription } from 'mongodb';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { UsageConfig } from '../config/schema';
import { ensureIndexes } from '../storage/indexes';
import type { Usage } from './judge';

/**
 * Records returned per principal, connection and collection, kept in MongoDB so that a window
 * holds across every gateway instance (THREATS 31). FerretDB v1 has no TTL indexes and no
 * transactions, so the store only uses $inc upserts, find and deleteMany:
 * - writes: one document per key and time bucket, `$inc` upserts batched every flushIntervalMs;
 * - reads: a local view per key, read back every refreshIntervalMs while the key is in use, and
 *   read on demand (awaited) for a key not read within twice that interval;
 * - staleness: another instance's records show here within its flush interval plus this one's
 *   refresh interval (plus two round trips); this instance's own records count at once;
 * - old buckets are deleted by every instance once a minute (no TTL index on FerretDB).
 * While reads or writes fail, usage is reported untrusted and the unreachable allowance applies.
 */
export interface UsageKey {
  principal: string;
  connection: string;
  collection: string;
}

export interface UsageStore {
  /** records sent to `key` within the last `windowSeconds` (whole buckets), as far as this instance knows */
  usage(key: UsageKey, windowSeconds: number): Usage | Promise<Usage>;
  /** counts records just sent; written in the background */
  add(key: UsageKey, records: number): void;
  /** writes what is pending */
  flush(): Promise<void>;
  close(): Promise<void>;
}

interface UsageDocument {
  _id: string;
  key: string;
  principal: string;
  connection: string;
  collection: string;
  /** bucket start, ms since the epoch */
  bucket: number;
  records: number;
}

/** An increment this instance made; once a read started after its write was acknowledged, the read holds it. */
interface Increment {
  bucket: number;
  records: number;
  ackSeq?: number;
}

interface KeyState {
  id: string;
  key: UsageKey;
  stored: Map<number, number>;
  readAt?: number;
  failedAt?: number;
  local: Increment[];
  usedAt: number;
  reading?: Promise<boolean>;
}

interface Pending {
  state: KeyState;
  bucket: number;
  records: number;
  increments: Increment[];
}

const READ_TIMEOUT_MS = 1000;
const CLEANUP_INTERVAL_MS = 60_000;
const IN_FLIGHT_BATCH = 500;

const USAGE_INDEXES: IndexDescription[] = [
  { key: { key: 1, bucket: 1 }, name: 'key_bucket' },
  { key: { bucket: 1 }, name: 'bucket' },
];

export async function openUsageStore(db: Db, config: UsageConfig, deps: { clock: Clock; logger: Logger; longestWindowSeconds: number }): Promise<UsageStore> {
  const collection = db.collection<UsageDocument>(config.collection);
  // without its indexes the store is slower, not wrong; an unreachable store fails closed by itself
  await ensureIndexes(collection, USAGE_INDEXES).catch((err: unknown) => deps.logger.warn({ err }, 'usage store: could not create indexes'));
  return new MongoUsageStore(collection, config, deps.clock, deps.logger, deps.longestWindowSeconds * 1000);
}

class MongoUsageStore implements UsageStore {
  private readonly keys = new Map<string, KeyState>();
  private pending = new Map<string, Pending>();
  private readonly bucketMs: number;
  private readonly timers: NodeJS.Timeout[] = [];
  private acks = 0;
  private writeOk = true;
  private readOk = true;
  private flushing: Promise<void> | undefined;
  private turns: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly docs: Collection<UsageDocument>,
    private readonly config: UsageConfig,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly keepMs: number,
  ) {
    this.bucketMs = config.bucketSeconds * 1000;
    const every = (ms: number, job: () => Promise<unknown>) => {
      const t = setInterval(() => void job().catch(() => undefined), ms);
      t.unref();
      this.timers.push(t);
    };
    every(config.flushIntervalMs, () => this.flush());
    every(config.refreshIntervalMs, () => this.refreshActive());
    every(CLEANUP_INTERVAL_MS, () => this.cleanup());
  }

  usage(key: UsageKey, windowSeconds: number): Usage | Promise<Usage> {
    const state = this.stateOf(key);
    const now = this.clock.now();
    state.usedAt = now;
    const fresh = state.readAt !== undefined && now - state.readAt <= 2 * this.config.refreshIntervalMs;
    if (fresh) return this.count(state, windowSeconds, true);
    // while the store is down, one failed read per interval is enough: later requests do not wait for another
    if (state.failedAt !== undefined && now - state.failedAt <= this.config.refreshIntervalMs) return this.count(state, windowSeconds, false);
    return this.read([state]).then((ok) => this.count(state, windowSeconds, ok));
  }

  add(key: UsageKey, records: number): void {
    if (records <= 0) return;
    const state = this.stateOf(key);
    const bucket = Math.floor(this.clock.now() / this.bucketMs) * this.bucketMs;
    const increment: Increment = { bucket, records };
    state.local.push(increment);
    const id = `${state.id}|${bucket}`;
    const p = this.pending.get(id);
    if (p) {
      p.records += records;
      p.increments.push(increment);
    } else {
      this.pending.set(id, { state, bucket, records, increments: [increment] });
    }
  }

  flush(): Promise<void> {
    this.flushing ??= this.serial(() => this.write()).finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /**
   * Writes and reads take turns, so a read never races a write it might or might not see: every
   * increment is then either acknowledged before the read (in `stored`) or counted locally.
   */
  private serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.turns.then(job, job);
    this.turns = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.flush().catch(() => undefined);
  }

  private stateOf(key: UsageKey): KeyState {
    const id = JSON.stringify([key.principal, key.connection, key.collection]);
    let state = this.keys.get(id);
    if (!state) {
      state = { id, key, stored: new Map(), local: [], usedAt: this.clock.now() };
      this.keys.set(id, state);
    }
    return state;
  }

  /** Buckets overlapping the window: what the store held at the last read, plus this instance's later records. */
  private count(state: KeyState, windowSeconds: number, readOk: boolean): Usage {
    const from = this.clock.now() - windowSeconds * 1000 - this.bucketMs;
    let records = 0;
    for (const [bucket, n] of state.stored) if (bucket > from) records += n;
    for (const i of state.local) if (i.bucket > from) records += i.records;
    return { records, trusted: readOk && this.readOk && this.writeOk };
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.docs.bulkWrite(
        [...batch].map(([id, p]) => ({
          updateOne: {
            filter: { _id: id },
            update: { $inc: { records: p.records }, $setOnInsert: { key: p.state.id, ...p.state.key, bucket: p.bucket } },
            upsert: true,
          },
        })),
        { ordered: false },
      );
      const seq = ++this.acks;
      for (const p of batch.values()) for (const i of p.increments) i.ackSeq = seq;
      this.writeOk = true;
    } catch (err) {
      // kept for the next flush; an unordered batch may have applied some, which then count twice (the safe side)
      for (const [id, p] of batch) {
        const again = this.pending.get(id);
        if (again) {
          again.records += p.records;
          again.increments.push(...p.increments);
        } else {
          this.pending.set(id, p);
        }
      }
      if (this.writeOk) this.logger.warn({ err }, 'usage store: could not write record counts; reads past the unreachable allowance count as export');
      this.writeOk = false;
    }
  }

  /** Reads the stored buckets of these keys; true when the read succeeded in time. */
  private read(states: KeyState[]): Promise<boolean> {
    const todo = states.filter((s) => s.reading === undefined);
    const waits = states.filter((s) => s.reading !== undefined).map((s) => s.reading as Promise<boolean>);
    if (todo.length > 0) {
      const reading = this.serial(() => this.readNow(todo));
      for (const s of todo) {
        s.reading = reading.finally(() => {
          s.reading = undefined;
        });
      }
      waits.push(reading);
    }
    return Promise.all(waits).then((oks) => oks.every(Boolean));
  }

  private async readNow(states: KeyState[]): Promise<boolean> {
    const startedAt = this.clock.now();
    const ackedBefore = this.acks;
    let timer: NodeJS.Timeout | undefined;
    try {
      const docs = await Promise.race([
        this.docs
          .find({ key: { $in: states.map((s) => s.id) }, bucket: { $gt: startedAt - this.keepMs - this.bucketMs } }, { projection: { key: 1, bucket: 1, records: 1 } })
          .toArray(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${READ_TIMEOUT_MS} ms`)), READ_TIMEOUT_MS))),
      ]);
      const byKey = new Map(states.map((s) => [s.id, new Map<number, number>()]));
      for (const d of docs) {
        const m = byKey.get(d.key);
        if (m) m.set(d.bucket, (m.get(d.bucket) ?? 0) + d.records);
      }
      for (const s of states) {
        s.stored = byKey.get(s.id) as Map<number, number>;
        s.readAt = startedAt;
        // increments acknowledged before the read started are in `stored` now
        s.local = s.local.filter((i) => i.ackSeq === undefined || i.ackSeq > ackedBefore);
      }
      this.readOk = true;
      return true;
    } catch (err) {
      for (const s of states) s.failedAt = this.clock.now();
      if (this.readOk) this.logger.warn({ err }, 'usage store: could not read record counts; reads past the unreachable allowance count as export');
      this.readOk = false;
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Keeps the keys in use fresh without making a request wait; forgets keys idle past the longest window. */
  private async refreshActive(): Promise<void> {
    const now = this.clock.now();
    const active: KeyState[] = [];
    for (const [id, s] of this.keys) {
      if (now - s.usedAt <= 10 * this.config.refreshIntervalMs) active.push(s);
      else if (now - s.usedAt > this.keepMs + this.bucketMs && s.local.every((i) => i.ackSeq !== undefined)) this.keys.delete(id);
    }
    for (let i = 0; i < active.length; i += IN_FLIGHT_BATCH) await this.read(active.slice(i, i + IN_FLIGHT_BATCH));
  }

  private async cleanup(): Promise<void> {
    await this.docs.deleteMany({ bucket: { $lt: this.clock.now() - this.keepMs - 2 * this.bucketMs } });
  }
}

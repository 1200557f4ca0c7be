import type { Db, IndexDescription } from 'mongodb';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { ensureIndexes } from '../storage/indexes';
import type { NoteSigner } from './checkpoint';
import { BucketCheckpointSink, checkpointBucketClient, type CheckpointBucketSettings } from './checkpoint-bucket';
import { CheckpointOutbox, type OutboxStats } from './checkpoint-outbox';
import { DirectoryCheckpointSink, MongoCheckpointSink, type CheckpointRecord, type CheckpointSink } from './checkpoint-store';
import type { AuditLog, AuditRecord } from './event';
import type { AuditSink } from './sinks';
import { InstanceLease, type InstanceDoc } from './instance-lease';
import { appendLeaf } from './merkle';
import { GENESIS, sealJson, type ChainHead } from './sequencer';
import { Shipper } from './shipper';
import { SerializedFrame, Spool, type SpoolCursor } from './spool';
import type { SealedEvent, SpoolFrame } from './trail-types';

/**
 * The audit trail of one gateway instance: every event sealed into the instance's hash chain,
 * durable in the local spool before the caller is answered, shipped to MongoDB in order, and
 * signed in checkpoints kept in MongoDB and outside it. Changes and exports leave an intent in
 * the spool before they are forwarded; an intent without its event after a crash becomes an
 * event of its own ("interrupted"), so nothing the upstream ran goes unrecorded.
 */

export interface TrailSettings {
  spoolDir: string;
  spoolMaxBytes: number;
  segmentBytes: number;
  /** requests are refused while the spool has less room than this */
  spoolReserveBytes: number;
  spoolSync: boolean;
  batchSize: number;
  checkpointEvery: number;
  checkpointMs: number;
  leaseMs: number;
  /** the events collection; checkpoints and instance heads live beside it */
  collection: string;
  signer: NoteSigner | undefined;
  /** a directory on write-once storage for checkpoints */
  checkpointDir: string | undefined;
  /** an S3-compatible bucket with Object Lock for checkpoints, written in the background */
  checkpointBucket?: CheckpointBucketSettings;
}

export interface TrailDeps {
  instanceId: string;
  /** host and pid, shown to a second process that tries the same instance id */
  holderName: string;
  clock: Clock;
  logger: Logger;
  /** sha256 of the configuration in force, stamped on every event */
  configSha256?: string;
  /** copies of the trail (JSON Lines, syslog), fed in order after MongoDB stored each batch */
  sinks?: readonly AuditSink[];
}

/**
 * How long trickling events gather before a batch goes to MongoDB; bounds how far MongoDB lags
 * (every event is durable in the spool before its answer). 100 ms rather than 25: fewer, larger
 * inserts cost the gateway and the database less CPU (docs/performance.md).
 */
const SHIP_INTERVAL_MS = 100;

/** At stop, how long the last checkpoints may take to reach the bucket. */
const BUCKET_DRAIN_MS = 5000;

/** An event larger than this is kept as its essentials, decided before it is sealed, never after. */
const MAX_EVENT_BYTES = 64 * 1024;

const EVENT_INDEXES: IndexDescription[] = [
  { key: { instanceId: 1, seq: 1 }, name: 'instance_seq', unique: true },
  { key: { time: 1 }, name: 'time' },
  { key: { 'principal.subject': 1, time: 1 }, name: 'principal_time' },
  { key: { connection: 1, collections: 1, time: 1 }, name: 'collection_time' },
  { key: { requestId: 1 }, name: 'request_id' },
];

export async function openAuditTrail(db: Db, settings: TrailSettings, deps: TrailDeps): Promise<AuditTrail> {
  const events = db.collection<SealedEvent>(settings.collection);
  const checkpoints = db.collection<CheckpointRecord>(`${settings.collection}_checkpoints`);
  await ensureIndexes(events, EVENT_INDEXES);
  await ensureIndexes(checkpoints, [{ key: { instanceId: 1, size: 1 }, name: 'instance_size' }]);

  const lease = new InstanceLease(db.collection<InstanceDoc>(`${settings.collection}_instances`), deps.instanceId, deps.holderName, settings.leaseMs, deps.clock);
  const shipped = (await lease.claim(settings.leaseMs + 1000)) ?? GENESIS;
  const { spool, recovery } = Spool.open<SpoolFrame>({ dir: settings.spoolDir, maxBytes: settings.spoolMaxBytes, segmentBytes: settings.segmentBytes, sync: settings.spoolSync });

  // The sealing head continues from what MongoDB holds, through the events only the spool holds.
  let head = shipped;
  const open = new Map<string, { segment: number; record: AuditRecord }>();
  for (const { segment, value } of recovery.entries) {
    if (value.t === 'i') {
      open.set(value.requestId, { segment, record: value.r });
      continue;
    }
    open.delete(value.e.requestId);
    if (value.e.seq <= shipped.seq) continue;
    if (value.e.seq !== head.seq + 1 || value.e.prevHash !== head.hash) {
      await lease.release();
      throw new Error(
        `The audit spool in ${settings.spoolDir} does not continue the chain MongoDB holds for instance ${deps.instanceId} ` +
          `(spool event ${value.e.seq}, expected ${head.seq + 1}). Was the spool directory copied from another instance? Move it aside and run \`vecgate audit verify\`.`,
      );
    }
    head = sealFrom(head, value.e);
  }

  const sinks: CheckpointSink[] = [new MongoCheckpointSink(checkpoints)];
  if (settings.checkpointDir) sinks.push(new DirectoryCheckpointSink(settings.checkpointDir));
  // the bucket is across the network: a slow or absent store must not hold up shipping to MongoDB
  const outboxes = settings.checkpointBucket
    ? [new CheckpointOutbox(new BucketCheckpointSink(checkpointBucketClient(settings.checkpointBucket), settings.checkpointBucket, deps.clock), deps.logger)]
    : [];
  sinks.push(...outboxes);
  const trail = new AuditTrail(settings, deps, spool, lease, head, open, outboxes);
  const shipper = new Shipper(
    { instanceId: deps.instanceId, spool, events, lease, sinks, copies: deps.sinks ?? [], signer: settings.signer, clock: deps.clock, logger: deps.logger, onShipped: (c) => trail.shippedUpTo(c) },
    { batchSize: settings.batchSize, checkpointEvery: settings.checkpointEvery, checkpointMs: settings.checkpointMs, renewEveryMs: Math.max(100, Math.floor(settings.leaseMs / 3)), shipIntervalMs: SHIP_INTERVAL_MS },
    shipped,
    { segment: recovery.entries[0]?.segment ?? spool.currentSegment(), offset: 0 },
  );
  trail.attach(shipper);
  if (recovery.cut) {
    deps.logger.error({ alarm: true, ...recovery.cut }, 'the audit spool had a torn or corrupt tail, which was cut off');
    trail.recordSystem('audit.spool_tail_cut', `The audit spool's tail was cut at byte ${recovery.cut.atByte} of ${recovery.cut.segment} (${recovery.cut.droppedBytes} bytes, ${recovery.cut.reason}); events in them had not been acknowledged to any caller.`);
  }
  for (const [requestId, intent] of open) trail.recordInterrupted(requestId, intent.record);
  await shipper.checkpoint().catch((err: unknown) => deps.logger.warn({ err }, 'could not write the start checkpoint'));
  shipper.start();
  return trail;
}

export class AuditTrail implements AuditLog {
  private shipper: Shipper | undefined;
  private closed = false;
  private unrecordedRefusals = 0;
  private lastRefusal: AuditRecord | undefined;

  constructor(
    private readonly settings: TrailSettings,
    private readonly deps: TrailDeps,
    private readonly spool: Spool<SpoolFrame>,
    private readonly lease: InstanceLease,
    private head: ChainHead,
    /** intents whose event has not been written yet, with the segment that holds them */
    private readonly openIntents: Map<string, { segment: number; record: AuditRecord }>,
    /** checkpoint sinks written in the background */
    private readonly outboxes: readonly CheckpointOutbox[] = [],
  ) {}

  get instanceId(): string {
    return this.deps.instanceId;
  }

  attach(shipper: Shipper): void {
    this.shipper = shipper;
  }

  accepting(): boolean {
    return !this.closed && this.spool.hasRoom(this.settings.spoolReserveBytes) && !this.shipper?.alarmed();
  }

  /** checkpoints waiting for the bucket, and its failures so far */
  checkpointBacklog(): OutboxStats[] {
    return this.outboxes.map((o) => o.stats());
  }

  /** events sealed but not yet in MongoDB */
  pending(): number {
    return this.head.seq - (this.shipper?.shipped.seq ?? 0);
  }

  /** Seals the event and resolves once it is durable in the spool. */
  commit(record: AuditRecord): Promise<void> {
    // While the spool is full, refusals are counted and later written as one summary event.
    if (record.error?.code === 'AUDIT_UNAVAILABLE' && !this.spool.hasRoom(this.settings.spoolReserveBytes)) {
      this.unrecordedRefusals += 1;
      this.lastRefusal = record;
      return Promise.resolve();
    }
    const frames: SerializedFrame[] = [];
    const summary = this.refusalSummary();
    if (summary) frames.push(this.sealNext(summary));
    frames.push(this.sealNext(record));
    this.openIntents.delete(record.requestId);
    return this.append(frames);
  }

  /** For events no response waits on (the gateway's own): failures are logged. */
  private record(record: AuditRecord): void {
    this.commit(record).catch((err: unknown) => this.deps.logger.error({ err, requestId: record.requestId }, 'an audit event could not be made durable'));
  }

  /** Makes the intent durable; the request may be forwarded once this resolves. */
  intend(record: AuditRecord): Promise<void> {
    this.openIntents.set(record.requestId, { segment: this.spool.currentSegment(), record });
    return this.append([{ t: 'i', requestId: record.requestId, r: record }]);
  }

  recordInterrupted(requestId: string, record: AuditRecord): void {
    this.record({
      ...record,
      requestId,
      status: 0,
      interrupted: 'The gateway stopped after this request was forwarded and before its outcome was recorded: the database may have run it.',
    });
  }

  /** An event of the gateway itself (its configuration, a cut spool tail), not of a request. */
  recordSystem(endpoint: string, explanation: string, extra: Partial<AuditRecord> = {}): void {
    this.record({
      requestId: `${this.deps.instanceId}-${endpoint}-${this.head.seq + 1}`,
      time: new Date(this.deps.clock.now()),
      principal: null,
      client: { ip: '' },
      connection: null,
      dialect: null,
      request: { method: '', path: '', endpoint },
      operation: null,
      collections: [],
      bulk: false,
      decision: { effect: 'none', ruleId: null, explanation },
      status: 0,
      latencyMs: 0,
      bytesIn: 0,
      bytesOut: 0,
      system: true,
      ...extra,
    });
  }

  /** The shipper delivered everything before `cursor`: segments with nothing open can go. */
  shippedUpTo(cursor: SpoolCursor): void {
    let keep = cursor.segment;
    for (const intent of this.openIntents.values()) keep = Math.min(keep, intent.segment);
    this.spool.release(keep);
    // room again: the refusals made while the spool was full become their summary event now
    const summary = this.spool.hasRoom(this.settings.spoolReserveBytes) ? this.refusalSummary() : undefined;
    if (summary) this.append([this.sealNext(summary)]).catch((err: unknown) => this.deps.logger.error({ err }, 'the refusal summary could not be made durable'));
  }

  async flush(timeoutMs = 10000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const target = this.head.seq;
    while ((this.shipper?.shipped.seq ?? target) < target) {
      if (this.shipper?.alarmed()) throw new Error(this.shipper.alarmed());
      if (performance.now() > deadline) throw new Error(`audit flush timed out with ${target - (this.shipper?.shipped.seq ?? 0)} events not yet in MongoDB (they are safe in the spool)`);
      this.shipper?.notify();
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
      await this.shipper?.checkpoint();
    } finally {
      await this.shipper?.stop();
      for (const outbox of this.outboxes) {
        await outbox.drain(BUCKET_DRAIN_MS);
        await outbox.stop();
      }
      await this.spool.close();
      await this.lease.release(this.shipper?.shipped);
    }
  }

  /** The event sealed into the chain, as its spool frame ({t:'e', e}) serialised once. */
  private sealNext(record: AuditRecord): SerializedFrame {
    const stamped = this.deps.configSha256 ? { ...record, configSha256: this.deps.configSha256 } : record;
    let sealed = sealJson(this.head, this.deps.instanceId, stamped);
    // sized by the canonical form it was sealed as: an event too large for the store keeps its essentials, hashed as such
    if (sealed.bytes > MAX_EVENT_BYTES) sealed = sealJson(this.head, this.deps.instanceId, essentials(stamped, sealed.bytes));
    this.head = sealed.head;
    return new SerializedFrame(`{"t":"e","e":${sealed.json}}`);
  }

  private async append(frames: Array<SpoolFrame | SerializedFrame>): Promise<void> {
    await this.spool.append(frames);
    this.shipper?.notify();
  }

  private refusalSummary(): AuditRecord | undefined {
    if (this.unrecordedRefusals === 0 || !this.lastRefusal) return undefined;
    const count = this.unrecordedRefusals;
    this.unrecordedRefusals = 0;
    return {
      ...this.lastRefusal,
      principal: null,
      requestId: `refusal-summary-${this.deps.instanceId}-${this.head.seq + 1}`,
      decision: { effect: 'none', ruleId: null, explanation: `${count} requests were refused with 503 while the audit spool was full; they are summarised in this one event.` },
      refusedCount: count,
    };
  }
}

function sealFrom(head: ChainHead, e: SealedEvent): ChainHead {
  return { seq: e.seq, hash: e.hash, tree: appendLeaf(head.tree, Buffer.from(e.hash, 'hex')) };
}

function essentials(record: AuditRecord, size: number): AuditRecord {
  return {
    requestId: record.requestId,
    time: record.time,
    principal: record.principal,
    client: { ip: record.client.ip },
    connection: record.connection,
    dialect: record.dialect,
    request: { method: record.request.method, path: record.request.path.slice(0, 512), endpoint: record.request.endpoint },
    operation: record.operation,
    collections: record.collections.slice(0, 50),
    bulk: record.bulk,
    decision: { ...record.decision, explanation: record.decision.explanation.slice(0, 2000) },
    status: record.status,
    ...(record.error ? { error: { code: record.error.code, message: record.error.message.slice(0, 2000) } } : {}),
    ...(record.approval ? { approval: record.approval } : {}),
    ...(record.records ? { records: record.records } : {}),
    ...(record.configSha256 ? { configSha256: record.configSha256 } : {}),
    latencyMs: record.latencyMs,
    bytesIn: record.bytesIn,
    bytesOut: record.bytesOut,
    storedPartially: `the full event was ${size} bytes, over the ${MAX_EVENT_BYTES}-byte limit; its essentials are kept`,
  };
}

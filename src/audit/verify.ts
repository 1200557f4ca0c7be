import type { Collection, Db } from 'mongodb';
import { ChainVerifier, type Finding, type StoredEvent, type TrustedCheckpoint } from './chain-verifier';
import type { NoteVerifier } from './checkpoint';
import { notesInDirectory, readCheckpoint, type CheckpointNote, type CheckpointRecord } from './checkpoint-store';
import type { InstanceDoc } from './instance-lease';

/**
 * `vecgate audit verify`: every instance's chain, event by event, against the checkpoints signed
 * for it, read from MongoDB, from the checkpoint directory and from the bucket (the copies MongoDB
 * credentials cannot reach). Streams the events, so memory stays flat however long the trail.
 */

type TrailEvent = StoredEvent & { instanceId: string; time: Date };

export interface VerifyOptions {
  collection: string;
  checkpointDir: string | undefined;
  /** every version of every note in the checkpoint bucket (notesInBucket), when one is configured */
  bucketNotes?: readonly CheckpointNote[];
  verifiers: readonly NoteVerifier[];
  /** only findings that touch events in this period are reported (the chains are still checked whole) */
  from?: Date;
  to?: Date;
}

export interface InstanceReport {
  instanceId: string;
  events: number;
  lastSeq: number;
  /** trusted checkpoints, largest first */
  checkpoints: Array<{ size: number; root: string; sources: string[] }>;
  /** checkpoints whose signature or form failed: a sign of forgery or of a key mix-up */
  rejectedCheckpoints: Array<{ source: string; reason: string }>;
  findings: Finding[];
  /** true when nothing was found but events after the last checkpoint */
  ok: boolean;
}

export interface VerifyReport {
  ok: boolean;
  instances: InstanceReport[];
}

export async function verifyTrail(db: Db, options: VerifyOptions): Promise<VerifyReport> {
  const events = db.collection<TrailEvent>(options.collection);
  const fromMongo = await db.collection<CheckpointRecord>(`${options.collection}_checkpoints`).find({}).toArray();
  const read = [
    ...fromMongo.map((c) => readCheckpoint(c.note, options.verifiers, `mongodb:${c.instanceId}/${c.size}`)),
    ...(options.checkpointDir ? notesInDirectory(options.checkpointDir).map((n) => readCheckpoint(n.note, options.verifiers, `dir:${n.source}`)) : []),
    ...(options.bucketNotes ?? []).map((n) => readCheckpoint(n.note, options.verifiers, n.source)),
  ];
  const known = (await db.collection<InstanceDoc>(`${options.collection}_instances`).find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id);
  const instances = [...new Set([...known, ...read.flatMap((c) => (c.ok ? [c.instanceId] : []))])].sort();

  const reports: InstanceReport[] = [];
  for (const instanceId of instances) {
    const mine = read.filter((c) => !c.ok || c.instanceId === instanceId);
    const bySize = new Map<string, { size: number; root: Buffer; sources: string[] }>();
    for (const c of mine) {
      if (!c.ok) continue;
      const key = `${c.size}:${c.root.toString('hex')}`;
      const entry = bySize.get(key) ?? { size: c.size, root: c.root, sources: [] };
      entry.sources.push(c.source);
      bySize.set(key, entry);
    }
    const trusted: TrustedCheckpoint[] = [...bySize.values()];
    const verifier = new ChainVerifier(instanceId, trusted);
    const forks = forkedCheckpoints(instanceId, trusted);
    let count = 0;
    let lastSeq = 0;
    // read in the order stored (the shipper inserts in seq order); sorting in the store costs more than
    // putting the rare event out of place back in order here
    const inOrder = new SeqOrder<TrailEvent>((e) => verifier.push(e));
    for await (const e of events.find({ instanceId }, { batchSize: 10000 })) {
      inOrder.add(e);
      count += 1;
      lastSeq = Math.max(lastSeq, e.seq);
    }
    inOrder.end();
    const findings = [...forks, ...verifier.finish()];
    const window = await seqWindow(events, instanceId, options);
    const shown = window ? findings.filter((f) => f.to >= window.from && f.from <= window.to) : findings;
    reports.push({
      instanceId,
      events: count,
      lastSeq,
      checkpoints: [...bySize.values()].sort((a, b) => b.size - a.size).map((c) => ({ size: c.size, root: c.root.toString('hex'), sources: c.sources })),
      rejectedCheckpoints: mine.flatMap((c) => (c.ok ? [] : [{ source: c.source, reason: c.reason }])),
      findings: shown,
      ok: shown.every((f) => f.kind === 'unsigned-tail') && (count === 0 || trusted.length > 0),
    });
  }
  const rejected = reports.some((r) => r.rejectedCheckpoints.length > 0);
  return { ok: !rejected && reports.every((r) => r.ok), instances: reports };
}

/** Two signed checkpoints of one size with different roots: the key signed two histories. */
function forkedCheckpoints(instanceId: string, trusted: readonly TrustedCheckpoint[]): Finding[] {
  const seen = new Map<number, Buffer>();
  const out: Finding[] = [];
  for (const c of trusted) {
    const other = seen.get(c.size);
    if (other && !other.equals(c.root)) {
      out.push({ kind: 'rechained', instanceId, from: 1, to: c.size, message: `instance ${instanceId}: two signed checkpoints of size ${c.size} have different roots: the chain was rebuilt and signed again` });
    }
    seen.set(c.size, c.root);
  }
  return out;
}

/** The seq range of an instance's events inside [from, to], when a period is asked for. */
async function seqWindow(
  events: Collection<TrailEvent>,
  instanceId: string,
  options: VerifyOptions,
): Promise<{ from: number; to: number } | undefined> {
  if (!options.from && !options.to) return undefined;
  const time: Record<string, Date> = {};
  if (options.from) time.$gte = options.from;
  if (options.to) time.$lte = options.to;
  const first = await events.find({ instanceId, time }, { sort: { seq: 1 }, limit: 1, projection: { seq: 1 } }).next();
  const last = await events.find({ instanceId, time }, { sort: { seq: -1 }, limit: 1, projection: { seq: 1 } }).next();
  return first && last ? { from: first.seq, to: last.seq } : { from: 1, to: 0 };
}

/**
 * Hands events on in seq order from a stream that is almost in order: the ones ahead of the next
 * expected seq wait (at most `limit`, then the earliest goes on and the hole is the verifier's
 * finding); the ones behind it (duplicates) go on at once, for the verifier to name.
 */
export class SeqOrder<E extends { seq: number }> {
  private expected = 1;
  private readonly waiting = new Map<number, E[]>();
  private held = 0;

  constructor(
    private readonly emit: (e: E) => void,
    private readonly limit = 100_000,
  ) {}

  add(e: E): void {
    if (e.seq <= this.expected) {
      this.emit(e);
      if (e.seq === this.expected) this.advance();
      return;
    }
    this.waiting.set(e.seq, [...(this.waiting.get(e.seq) ?? []), e]);
    this.held += 1;
    if (this.held > this.limit) this.skipToEarliest();
  }

  end(): void {
    while (this.waiting.size > 0) this.skipToEarliest();
  }

  private skipToEarliest(): void {
    let earliest = Infinity;
    for (const seq of this.waiting.keys()) earliest = Math.min(earliest, seq);
    this.expected = earliest;
    this.releaseExpected();
    this.advance();
  }

  private advance(): void {
    this.expected += 1;
    while (this.waiting.has(this.expected)) {
      this.releaseExpected();
      this.expected += 1;
    }
  }

  private releaseExpected(): void {
    const list = this.waiting.get(this.expected) ?? [];
    this.waiting.delete(this.expected);
    this.held -= list.length;
    for (const e of list) this.emit(e);
  }
}

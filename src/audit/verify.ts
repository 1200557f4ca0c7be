import type { Db } from 'mongodb';
import { ChainVerifier, type Finding, type StoredEvent, type TrustedCheckpoint } from './chain-verifier';
import type { NoteVerifier } from './checkpoint';
import { notesInDirectory, readCheckpoint, type CheckpointNote, type CheckpointRecord, type ReadCheckpoint } from './checkpoint-store';
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
  const chains = new Map<string, InstanceChain>();
  const chainOf = (instanceId: string): InstanceChain => {
    let chain = chains.get(instanceId);
    if (!chain) {
      chain = new InstanceChain(instanceId, read);
      chains.set(instanceId, chain);
    }
    return chain;
  };
  for (const instanceId of [...known, ...read.flatMap((c) => (c.ok ? [c.instanceId] : []))]) chainOf(instanceId);

  // One pass over the whole collection, in the order stored, for every instance at once: a store
  // without an index to serve "one instance's events" (FerretDB on SQLite scans the table for any
  // filter) then reads each event once, however many instances there are; and events of an
  // instance nobody knows (no lease, no checkpoint) are read, and reported, too.
  const inPeriod = (time: Date) => (!options.from || time >= options.from) && (!options.to || time <= options.to);
  for await (const e of events.find({}, { batchSize: 10000 })) {
    chainOf(typeof e.instanceId === 'string' ? e.instanceId : '(no instance id)').add(e, (options.from || options.to) && inPeriod(e.time));
  }

  const reports = [...chains.values()].sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0)).map((c) => c.report(Boolean(options.from || options.to)));
  const rejected = reports.some((r) => r.rejectedCheckpoints.length > 0);
  return { ok: !rejected && reports.every((r) => r.ok), instances: reports };
}

/** Two signed checkpoints of one size with different roots: the key signed two histories. */
export function forkedCheckpoints(instanceId: string, trusted: readonly TrustedCheckpoint[]): Finding[] {
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

/** One instance's chain as the scan goes: its trusted checkpoints, its events in seq order through the verifier. */
class InstanceChain {
  private readonly verifier: ChainVerifier;
  private readonly inOrder: SeqOrder<TrailEvent>;
  private readonly bySize = new Map<string, { size: number; root: Buffer; sources: string[] }>();
  private readonly rejected: Array<{ source: string; reason: string }> = [];
  private count = 0;
  private lastSeq = 0;
  /** the seq range of the events inside the period asked for */
  private window = { from: Infinity, to: 0 };

  constructor(
    readonly instanceId: string,
    checkpoints: readonly ReadCheckpoint[],
  ) {
    for (const c of checkpoints) {
      if (!c.ok) {
        this.rejected.push({ source: c.source, reason: c.reason });
        continue;
      }
      if (c.instanceId !== instanceId) continue;
      const key = `${c.size}:${c.root.toString('hex')}`;
      const entry = this.bySize.get(key) ?? { size: c.size, root: c.root, sources: [] };
      entry.sources.push(c.source);
      this.bySize.set(key, entry);
    }
    this.verifier = new ChainVerifier(instanceId, [...this.bySize.values()]);
    // read in the order stored (the shipper inserts in seq order); sorting in the store costs more than
    // putting the rare event out of place back in order here
    this.inOrder = new SeqOrder<TrailEvent>((e) => this.verifier.push(e));
  }

  add(e: TrailEvent, inPeriod: boolean | undefined): void {
    this.inOrder.add(e);
    this.count += 1;
    this.lastSeq = Math.max(this.lastSeq, e.seq);
    if (inPeriod) this.window = { from: Math.min(this.window.from, e.seq), to: Math.max(this.window.to, e.seq) };
  }

  report(period: boolean): InstanceReport {
    this.inOrder.end();
    const signed = [...this.bySize.values()].sort((a, b) => b.size - a.size);
    const trusted: TrustedCheckpoint[] = signed;
    const findings = [...forkedCheckpoints(this.instanceId, trusted), ...this.verifier.finish()];
    const shown = period ? findings.filter((f) => f.to >= this.window.from && f.from <= this.window.to) : findings;
    return {
      instanceId: this.instanceId,
      events: this.count,
      lastSeq: this.lastSeq,
      checkpoints: signed.map((c) => ({ size: c.size, root: c.root.toString('hex'), sources: c.sources })),
      rejectedCheckpoints: this.rejected,
      findings: shown,
      ok: shown.every((f) => f.kind === 'unsigned-tail') && (this.count === 0 || trusted.length > 0),
    };
  }
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

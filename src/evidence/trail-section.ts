import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Db } from 'mongodb';
import type { AuditEvent } from '../audit/event';
import { verifierKeyText, type NoteVerifier } from '../audit/checkpoint';
import { notesInDirectory, readCheckpoint, type CheckpointRecord } from '../audit/checkpoint-store';
import { consistencyPlan, inclusionPlan, verifyConsistency, verifyInclusion } from '../audit/merkle';
import { canonicalBytes, plainJson } from '../audit/sequencer';
import { ChainVerifier, sealedByChain, type Finding } from '../audit/chain-verifier';
import type { InstanceDoc } from '../audit/instance-lease';
import { forkedCheckpoints, SeqOrder, type InstanceReport, type VerifyReport } from '../audit/verify';
import type { BundleStream, BundleWriter } from './bundle';
import { csvHeader, csvLines, EVENT_COLUMNS, eventRow } from './csv';
import type { ReviewedRule } from './access-review';
import { RunRoots } from './streamed-proofs';
import type { TrailSummary } from './summary';
import type { TrailTally } from './trail-tally';

/**
 * The trail section of a bundle, in one streamed pass over the store: the period's events as JSON
 * Lines and CSV, the configurations in force, and what proves them: the store's chain checked as
 * `vecgate audit verify` checks it (the same ChainVerifier, fed from this pass rather than a pass
 * of its own, since FerretDB reads every document for any query), the signed checkpoint notes,
 * RFC 9162 inclusion proofs of each instance's first and last event of the period, and with a
 * previous bundle a consistency proof from its checkpoint. Each instance's events are exported as
 * the whole seq range from its first to its last event in the period, so the chain inside the
 * bundle has no gap an offline check would mistake for a loss.
 */

type StoredEvent = AuditEvent & { hash: string; prevHash: string; _id?: unknown };

export const TRAIL = {
  events: 'trail/events.jsonl',
  eventsCsv: 'trail/events.csv',
  verification: 'trail/verification.json',
} as const;

/** A checkpoint of a previous bundle, from its manifest: where this bundle's chain continues from. */
export interface PreviousCheckpoint {
  instanceId: string;
  size: number;
  root: string;
  /** the signed note itself */
  note: string;
}

export interface TrailSectionOptions {
  db: Db;
  collection: string;
  checkpointDir: string | undefined;
  verifiers: readonly NoteVerifier[];
  from: Date;
  to: Date;
  previous: readonly PreviousCheckpoint[];
  tally: TrailTally;
}

/** What verification.json holds for one instance; `vecgate evidence verify` checks it offline. */
export interface InstanceEvidence {
  instanceId: string;
  /** the seq range exported, first and last event of the period */
  firstSeq: number;
  lastSeq: number;
  events: number;
  checkpoint: { size: number; root: string; note: string } | null;
  inclusion: Array<{ seq: number; leafHash: string; proof: string[]; verified: boolean; reason?: string }>;
  consistency: { fromSize: number; fromRoot: string; fromNote: string; proof: string[]; verified: boolean; reason?: string } | null;
  /** what could not be proven, in words */
  notes: string[];
}

export interface Verification {
  period: { from: string; to: string };
  verdict: TrailSummary['verdict'];
  verdictLines: string[];
  /** the audit checkpoint keys (C2SP verifier keys) the notes were checked with */
  checkpointKeys: string[];
  instances: InstanceEvidence[];
  /** `vecgate audit verify` of the store, limited to findings that touch the period */
  store: VerifyReport | null;
}

export interface TrailSectionResult {
  verification: Verification;
  approvalIds: Set<string>;
  configurations: TrailSummary['configurations'];
  rules: ReviewedRule[];
  files: { events: string[]; verification: string[]; proofs: string[]; checkpoints: string[]; configurations: string[] };
}

const CSV_BATCH = 500;

export async function exportTrail(options: TrailSectionOptions, writer: BundleWriter): Promise<TrailSectionResult> {
  const { db, from, to } = options;
  const events = db.collection<StoredEvent>(options.collection);
  const { trusted, rejected } = await checkpointNotes(db, options);
  // the instances the store knows (each gateway leases its id) and those checkpoints name; verifyTrail reads the same
  const known = (await db.collection<InstanceDoc>(`${options.collection}_instances`).find({}, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id));
  const instanceIds = [...new Set([...known, ...trusted.map((c) => c.instanceId)])].sort();

  const jsonl = writer.stream(TRAIL.events);
  const csv = writer.stream(TRAIL.eventsCsv);
  await csv.write(csvHeader(EVENT_COLUMNS));
  const scratch = mkdtempSync(join(tmpdir(), 'vecgate-evidence-'));

  const approvalIds = new Set<string>();
  const configurations = new Map<string, KeptConfiguration>();
  const evidence: InstanceEvidence[] = [];
  const reports: InstanceReport[] = [];
  const checkpointFiles = new Set<string>();
  const lines: string[] = [];
  const storeProblems: string[] = [];

  try {
    const shared: ScanShared = { from, to, scratch, tally: options.tally, out: new EventFiles(jsonl, csv), approvalIds, configurations };
    const scans = new Map<string, InstanceScan>();
    const scanOf = (instanceId: string): InstanceScan => {
      let scan = scans.get(instanceId);
      if (!scan) {
        scan = new InstanceScan(instanceId, trusted.filter((n) => n.instanceId === instanceId), shared, String(scans.size));
        scans.set(instanceId, scan);
      }
      return scan;
    };
    for (const instanceId of instanceIds) scanOf(instanceId);
    // One pass over the whole collection, in the order stored, for every instance at once (as
    // `vecgate audit verify` reads it): FerretDB scans the table for any filter, so a pass per
    // instance would read every event once per instance. An instance no lease or checkpoint names
    // is exported too: its events are in the store, so they are in the bundle.
    let withoutInstance = 0;
    // a batch is held whole (about 1 KiB an event): 1,000 keeps the export within a 64 MiB heap
    // (test/evidence/streaming.test.ts); on FerretDB larger batches read no faster (100,000 events:
    // 27-29 s in batches of 1,000, 26-27 s in batches of 2,500), its own cost per event dominates
    for await (const e of events.find({}, { batchSize: 1000 })) {
      if (typeof e.instanceId !== 'string' || e.instanceId === '') withoutInstance += 1;
      else await scanOf(e.instanceId).add(e);
    }
    const results = new Map<string, ScanResult>();
    for (const [instanceId, scan] of scans) results.set(instanceId, await scan.finish());
    await shared.out.flush();
    if (withoutInstance > 0) storeProblems.push(`${withoutInstance} event(s) in the store carry no instance id: they belong to no chain and are not in the bundle (run \`vecgate audit verify\`)`);

    for (const instanceId of [...results.keys()].sort()) {
      const mine = trusted.filter((n) => n.instanceId === instanceId);
      const scan = results.get(instanceId) as ScanResult;
      const findingsBefore = (upto: number) => scan.findings.filter((f) => f.kind !== 'unsigned-tail' && f.from <= upto);
      const report: InstanceReport = {
        instanceId,
        events: scan.count,
        lastSeq: scan.lastSeq,
        checkpoints: distinctCheckpoints(mine),
        rejectedCheckpoints: rejected,
        findings: scan.findings,
        ok: scan.findings.every((f) => f.kind === 'unsigned-tail') && (scan.count === 0 || mine.length > 0),
      };
      if (scan.a === 0) {
        // nothing of this instance in the period: its chain is still checked, and reported if broken
        report.findings = findingsBefore(scan.lastSeq);
        if (report.findings.length > 0 || rejected.length > 0) reports.push(report);
        continue;
      }
      const { a, b } = scan;
      const cp = mine.filter((n) => n.size >= b).sort((x, y) => x.size - y.size)[0] ?? mine.filter((n) => n.size >= a).sort((x, y) => y.size - x.size)[0];
      // findings past the exported events and the checkpoint their proofs use concern later bundles
      report.findings = findingsBefore(Math.max(b, cp?.size ?? 0));
      reports.push(report);
      const ev: InstanceEvidence = { instanceId, firstSeq: a, lastSeq: b, events: scan.exported, checkpoint: null, inclusion: [], consistency: null, notes: [...scan.notes] };
      const prev = options.previous.find((p) => p.instanceId === instanceId);
      const plans = {
        first: cp && a <= cp.size ? inclusionPlan(a - 1, cp.size) : undefined,
        last: cp && b <= cp.size && b !== a ? inclusionPlan(b - 1, cp.size) : undefined,
        consistency: cp && prev && prev.size >= 1 && prev.size < cp.size ? consistencyPlan(prev.size, cp.size) : undefined,
      };
      const roots = new RunRoots([plans.first ?? [], plans.last ?? [], plans.consistency ?? []]);
      if (cp) await replayLeaves(scan.leavesFile, Math.min(cp.size, scan.leaves), roots);

      if (cp) {
        const notePath = `trail/checkpoints/${instanceId}/${cp.size}.note`;
        ev.checkpoint = { size: cp.size, root: cp.root.toString('hex'), note: notePath };
        if (!checkpointFiles.has(notePath)) await writer.writeFile(notePath, cp.note);
        checkpointFiles.add(notePath);
        const complete = roots.size === cp.size;
        if (!complete) ev.notes.push(`the store holds ${roots.size} of the ${cp.size} events checkpoint ${cp.size} signed, in order: no proof can be made (run \`vecgate audit verify\`)`);
        for (const [seq, plan, leaf] of [[a, plans.first, scan.hashA], [b, plans.last, scan.hashB]] as const) {
          if (!plan || !complete) continue;
          const proof = roots.proof(plan);
          const verdict = verifyInclusion(seq - 1, cp.size, Buffer.from(leaf, 'hex'), proof, cp.root);
          ev.inclusion.push({ seq, leafHash: leaf, proof: proof.map((h) => h.toString('hex')), verified: verdict.ok, ...(verdict.ok ? {} : { reason: `${verdict.reason}: event ${seq} or the events around it differ from what checkpoint ${cp.size} signed` }) });
        }
        if (b > cp.size) ev.notes.push(`events ${cp.size + 1}-${b} are chained but not yet covered by a signed checkpoint: export again after the next checkpoint to prove them`);
      } else {
        ev.notes.push(options.verifiers.length === 0 ? 'no checkpoint key is configured: the events are chained but not proven' : `no signed checkpoint covers events ${a}-${b} yet`);
      }

      if (prev) {
        const opened = readCheckpoint(prev.note, options.verifiers, 'previous bundle');
        const prevNote = `trail/checkpoints/${instanceId}/${prev.size}.note`;
        if (!checkpointFiles.has(prevNote)) await writer.writeFile(prevNote, prev.note);
        checkpointFiles.add(prevNote);
        if (!opened.ok || opened.instanceId !== instanceId || opened.size !== prev.size || opened.root.toString('hex') !== prev.root) {
          ev.consistency = { fromSize: prev.size, fromRoot: prev.root, fromNote: prevNote, proof: [], verified: false, reason: `the previous bundle's checkpoint does not open with the trusted keys as a checkpoint of ${instanceId}: ${opened.ok ? 'its size or root differ from its manifest' : opened.reason}` };
        } else if (!cp) {
          ev.notes.push('no checkpoint to continue the previous bundle\'s chain to');
        } else if (prev.size > cp.size) {
          ev.notes.push(`the previous bundle's checkpoint (${prev.size}) is newer than this one's (${cp.size}): no consistency proof`);
        } else {
          const complete = roots.size === cp.size;
          const proof = plans.consistency && complete ? roots.proof(plans.consistency) : [];
          const verdict = plans.consistency && !complete ? { ok: false as const, reason: 'the store lacks events the checkpoints signed' } : verifyConsistency(prev.size, cp.size, Buffer.from(prev.root, 'hex'), cp.root, proof);
          ev.consistency = {
            fromSize: prev.size,
            fromRoot: prev.root,
            fromNote: prevNote,
            proof: proof.map((h) => h.toString('hex')),
            verified: verdict.ok,
            ...(verdict.ok ? {} : { reason: `${verdict.reason}: the trail was rewritten between the previous bundle and this one` }),
          };
        }
      }
      evidence.push(ev);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  for (const p of options.previous) {
    if (!evidence.some((e) => e.instanceId === p.instanceId)) lines.push(`instance ${p.instanceId} of the previous bundle has no events in this period: its chain is not continued here`);
  }

  const files = { events: [(await jsonl.close()).path, (await csv.close()).path], verification: [TRAIL.verification], proofs: [TRAIL.verification], checkpoints: [...checkpointFiles].sort(), configurations: [] as string[] };
  for (const c of [...configurations.values()].sort((x, y) => (x.sha256 < y.sha256 ? -1 : 1))) {
    const path = `configurations/${c.sha256}.json`;
    // the file is the canonical form: its own sha256 is its name and the configSha256 its events carry
    await writer.writeFile(path, canonicalBytes(c.configuration));
    files.configurations.push(path);
  }

  const store: VerifyReport | null = options.verifiers.length > 0 ? { ok: rejected.length === 0 && reports.every((r) => r.ok), instances: reports } : null;
  const verification = judge({ period: { from: from.toISOString(), to: to.toISOString() }, store, instances: evidence, verifiers: options.verifiers, lines, storeProblems });
  await writer.writeFile(TRAIL.verification, `${JSON.stringify(verification, null, 2)}\n`);
  return {
    verification,
    approvalIds,
    configurations: [...configurations.values()].map((c) => ({ sha256: c.sha256, firstSeen: c.firstSeen, instances: [...c.instances].sort() })),
    rules: [...configurations.values()].flatMap((c) => rulesOf(c.configuration)),
    files,
  };
}

interface KeptConfiguration {
  sha256: string;
  firstSeen: string;
  instances: Set<string>;
  configuration: unknown;
}

interface ScanResult {
  /** first and last seq of the instance's events in the period; 0 when none */
  a: number;
  b: number;
  hashA: string;
  hashB: string;
  count: number;
  lastSeq: number;
  exported: number;
  findings: Finding[];
  notes: string[];
  leavesFile: string;
  /** leaves in the file: the stored hashes of seq 1, 2, ... up to the first hole */
  leaves: number;
}

/** What every instance's scan shares: the period, the bundle's event files and what the events add up to. */
interface ScanShared {
  from: Date;
  to: Date;
  scratch: string;
  tally: TrailTally;
  out: EventFiles;
  approvalIds: Set<string>;
  configurations: Map<string, KeptConfiguration>;
}

/**
 * trail/events.jsonl and trail/events.csv, written in batches: one write (one sha256 update, one
 * stream write) per few hundred events rather than per event. Both files get the events in the
 * same order, so line n of one is row n of the other.
 */
class EventFiles {
  private lines: string[] = [];
  private rows: Array<Array<string | number>> = [];

  constructor(
    private readonly jsonl: BundleStream,
    private readonly csv: BundleStream,
  ) {}

  async add(line: string, event: StoredEvent): Promise<void> {
    this.lines.push(line);
    this.rows.push(eventRow(event));
    if (this.rows.length >= CSV_BATCH) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.rows.length === 0) return;
    const text = this.lines.join('');
    const rows = this.rows;
    this.lines = [];
    this.rows = [];
    await this.jsonl.write(text);
    await this.csv.write(csvLines(rows));
  }
}

/**
 * One instance's events as the single pass over the store hands them over, put back in seq order
 * (SeqOrder, bounded): the chain verifier sees every event (as `vecgate audit verify` does), every
 * leaf hash goes to a scratch file for the proofs, and the events from the first to the last one
 * of the period go into the bundle. Events after a period event wait in a scratch file until a
 * later period event shows they are inside the exported range. The instances' events interleave
 * in events.jsonl in the order the store holds them, each instance's in seq order without a gap,
 * which is what `vecgate evidence verify` checks per instance.
 */
class InstanceScan {
  readonly r: ScanResult;
  private readonly verifier: ChainVerifier;
  private readonly leaves: ChunkedFile;
  private readonly pendingFile: string;
  private pending: ChunkedFile | undefined;
  private configBefore: StoredEvent | undefined;
  private expected = 1;
  private leavesBroken = false;
  private readonly ready: StoredEvent[] = [];
  private readonly order: SeqOrder<StoredEvent>;
  private readonly from: number;
  private readonly to: number;

  constructor(
    readonly instanceId: string,
    private readonly trusted: ReadonlyArray<{ size: number; root: Buffer }>,
    private readonly shared: ScanShared,
    scratchName: string,
  ) {
    this.verifier = new ChainVerifier(instanceId, distinctCheckpoints(trusted).map((c) => ({ size: c.size, root: Buffer.from(c.root, 'hex') })));
    this.r = { a: 0, b: 0, hashA: '', hashB: '', count: 0, lastSeq: 0, exported: 0, findings: [], notes: [], leavesFile: join(shared.scratch, `${scratchName}.leaves`), leaves: 0 };
    this.leaves = new ChunkedFile(this.r.leavesFile);
    this.pendingFile = join(shared.scratch, `${scratchName}.pending`);
    this.order = new SeqOrder<StoredEvent>((e) => this.ready.push(e));
    this.from = shared.from.getTime();
    this.to = shared.to.getTime();
  }

  /** The next event of this instance in the order stored. */
  async add(e: StoredEvent): Promise<void> {
    this.order.add(e);
    await this.drain();
  }

  /** After the last event: what was held back, and the chain's findings. */
  async finish(): Promise<ScanResult> {
    this.order.end();
    await this.drain();
    await this.pending?.close();
    await this.leaves.close();
    if (this.configBefore) keepConfiguration(this.shared.configurations, this.configBefore, this.r, this.shared.from);
    this.r.findings = [...forkedCheckpoints(this.instanceId, this.trusted), ...this.verifier.finish()];
    return this.r;
  }

  private async drain(): Promise<void> {
    for (let i = 0; i < this.ready.length; i++) await this.take(this.ready[i] as StoredEvent);
    this.ready.length = 0;
  }

  private async take(e: StoredEvent): Promise<void> {
    const r = this.r;
    const { _id, ...event } = e;
    r.count += 1;
    r.lastSeq = Math.max(r.lastSeq, e.seq);
    this.verifier.push(event as unknown as Parameters<ChainVerifier['push']>[0]);
    if (e.seq < this.expected) {
      r.notes.push(`seq ${e.seq} appears more than once in the store; the bundle keeps the first (run \`vecgate audit verify\`)`);
      return;
    }
    if (e.seq > this.expected) {
      r.notes.push(`events ${this.expected}-${e.seq - 1} are missing from the store`);
      this.leavesBroken = true;
    }
    this.expected = e.seq + 1;
    // an event the chain never sealed (the verifier names it) has no leaf: no proof past it
    if (!sealedByChain(e)) this.leavesBroken = true;
    if (!this.leavesBroken) {
      await this.leaves.write(Buffer.from(e.hash, 'hex'));
      r.leaves += 1;
    }
    const time = new Date(e.time).getTime();
    const inPeriod = time >= this.from && time <= this.to;
    if (r.a === 0) {
      if (!inPeriod) {
        if (e.configuration !== undefined) this.configBefore = event as StoredEvent;
        return;
      }
      r.a = e.seq;
      r.hashA = e.hash;
    } else if (!inPeriod) {
      this.pending ??= new ChunkedFile(this.pendingFile);
      await this.pending.write(Buffer.from(`${JSON.stringify(event)}\n`));
      return;
    }
    await this.flushPending();
    r.b = e.seq;
    r.hashB = e.hash;
    await this.emit(event as StoredEvent, `${JSON.stringify(event)}\n`);
  }

  private async emit(stored: StoredEvent, line: string): Promise<void> {
    this.r.exported += 1;
    // the JSONL line keeps the event as stored; the CSV row and the counts read it with defaults, so a
    // document missing fields (inserted by hand: the verifier names it) is exported, not a crash
    const event = readable(stored);
    await this.shared.out.add(line, event);
    this.shared.tally.add(event);
    if (event.approval?.approvalId && startedAnApproval(event)) this.shared.approvalIds.add(event.approval.approvalId);
    if (event.configuration !== undefined) keepConfiguration(this.shared.configurations, event, this.r);
  }

  private async flushPending(): Promise<void> {
    if (!this.pending) return;
    await this.pending.close();
    this.pending = undefined;
    for await (const line of createInterface({ input: createReadStream(this.pendingFile), crlfDelay: Infinity })) if (line) await this.emit(JSON.parse(line) as StoredEvent, `${line}\n`);
    rmSync(this.pendingFile, { force: true });
  }
}

/** A scratch file written in large chunks, waiting when the disk is behind. */
class ChunkedFile {
  private readonly out: WriteStream;
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(path: string) {
    this.out = createWriteStream(path);
  }

  async write(buf: Buffer): Promise<void> {
    this.chunks.push(buf);
    this.size += buf.length;
    // a quarter MiB per file: one leaves file and perhaps one pending file per instance are open at once
    if (this.size >= 1 << 18) await this.drain();
  }

  private async drain(): Promise<void> {
    const data = Buffer.concat(this.chunks);
    this.chunks = [];
    this.size = 0;
    if (!this.out.write(data)) await new Promise<void>((resolve) => this.out.once('drain', () => resolve()));
  }

  async close(): Promise<void> {
    if (this.size > 0) await this.drain();
    await new Promise<void>((resolve, reject) => {
      this.out.once('error', reject);
      this.out.end(() => resolve());
    });
  }
}

/** Pushes the first `count` leaves of the scratch file into the proof runs. */
async function replayLeaves(file: string, count: number, roots: RunRoots): Promise<void> {
  let left = count;
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const buf = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let i = 0;
    for (; i + 32 <= buf.length && left > 0; i += 32, left -= 1) roots.push(buf.subarray(i, i + 32));
    if (left === 0) return;
    carry = buf.subarray(i);
  }
}

function distinctCheckpoints(list: ReadonlyArray<{ size: number; root: Buffer; source?: string }>): Array<{ size: number; root: string; sources: string[] }> {
  const by = new Map<string, { size: number; root: string; sources: string[] }>();
  for (const c of list) {
    const key = `${c.size}:${c.root.toString('hex')}`;
    const entry = by.get(key) ?? { size: c.size, root: c.root.toString('hex'), sources: [] };
    if (c.source) entry.sources.push(c.source);
    by.set(key, entry);
  }
  return [...by.values()].sort((x, y) => y.size - x.size);
}

/** The bundle's verdict: failed on any sign of tampering, unverified where nothing signed covers the events. */
function judge(input: { period: Verification['period']; store: VerifyReport | null; instances: InstanceEvidence[]; verifiers: readonly NoteVerifier[]; lines: string[]; storeProblems: string[] }): Verification {
  const failed: string[] = [...input.storeProblems];
  const unproven: string[] = [];
  if (input.store) {
    for (const i of input.store.instances) {
      for (const f of i.findings) if (f.kind !== 'unsigned-tail') failed.push(`${f.kind}: seq ${f.from === f.to ? f.from : `${f.from}-${f.to}`}: ${f.message}`);
      for (const r of i.rejectedCheckpoints) failed.push(`rejected checkpoint ${r.source}: ${r.reason}`);
    }
  }
  for (const ev of input.instances) {
    for (const p of ev.inclusion) if (!p.verified) failed.push(`instance ${ev.instanceId}: inclusion proof of event ${p.seq}: ${p.reason ?? ''}`);
    if (ev.consistency && !ev.consistency.verified) failed.push(`instance ${ev.instanceId}: consistency from checkpoint ${ev.consistency.fromSize}: ${ev.consistency.reason ?? ''}`);
    for (const n of ev.notes) (/missing|more than once|configSha256/.test(n) ? failed : unproven).push(`instance ${ev.instanceId}: ${n}`);
    const proven = ev.inclusion.filter((p) => p.verified).map((p) => p.seq);
    if (ev.inclusion.length > 0) input.lines.push(`instance ${ev.instanceId}: events ${ev.firstSeq}-${ev.lastSeq} (${ev.events}), proven in checkpoint ${ev.checkpoint?.size ?? '-'} at seq ${proven.join(', ') || 'none'}${ev.consistency?.verified ? `, consistent with the previous bundle's checkpoint ${ev.consistency.fromSize}` : ''}`);
  }
  if (input.instances.length === 0) input.lines.push('no audit events in the period');
  const verdict: TrailSummary['verdict'] = failed.length > 0 ? 'failed' : unproven.length > 0 || input.verifiers.length === 0 ? 'unverified' : 'ok';
  const summaryLine =
    verdict === 'ok'
      ? 'verdict: every event of the period is chained, and the chains are proven in signed checkpoints'
      : verdict === 'failed'
        ? 'verdict: TAMPERING OR LOSS FOUND (see above)'
        : 'verdict: unverified: some events are chained but no signed checkpoint proves them (see above)';
  return {
    period: input.period,
    verdict,
    verdictLines: [...failed, ...unproven, ...input.lines, summaryLine],
    checkpointKeys: input.verifiers.map((v) => verifierKeyText(v.name, v.publicKey)),
    instances: input.instances,
    store: input.store,
  };
}

function keepConfiguration(
  configurations: Map<string, KeptConfiguration>,
  e: StoredEvent,
  ev: Pick<InstanceEvidence, 'notes'>,
  inForceAt?: Date,
): void {
  const configuration = plainJson(e.configuration);
  const sha256 = createHash('sha256').update(canonicalBytes(configuration)).digest('hex');
  if (e.configSha256 && e.configSha256 !== sha256) ev.notes.push(`configuration event ${e.seq}: its configuration hashes to ${sha256}, not to its configSha256 ${e.configSha256}`);
  const seen = configurations.get(sha256) ?? { sha256, firstSeen: (inForceAt ?? new Date(e.time)).toISOString(), instances: new Set<string>(), configuration };
  const at = (inForceAt ?? new Date(e.time)).toISOString();
  if (at < seen.firstSeen) seen.firstSeen = at;
  seen.instances.add(e.instanceId);
  configurations.set(sha256, seen);
}

function rulesOf(configuration: unknown): ReviewedRule[] {
  const rules = (configuration as { policy?: { rules?: unknown } } | undefined)?.policy?.rules;
  return Array.isArray(rules) ? (rules as ReviewedRule[]) : [];
}

/** Checkpoints from MongoDB and the checkpoint directory: those that open with the trusted keys (with their notes), and those that do not. */
async function checkpointNotes(
  db: Db,
  options: TrailSectionOptions,
): Promise<{ trusted: Array<{ instanceId: string; size: number; root: Buffer; note: string; source: string }>; rejected: Array<{ source: string; reason: string }> }> {
  if (options.verifiers.length === 0) return { trusted: [], rejected: [] };
  const all = [
    ...(await db.collection<CheckpointRecord>(`${options.collection}_checkpoints`).find({}, { projection: { note: 1, instanceId: 1, size: 1 } }).toArray()).map((c) => ({ note: c.note, source: `mongodb:${c.instanceId}/${c.size}` })),
    ...(options.checkpointDir ? notesInDirectory(options.checkpointDir).map((n) => ({ note: n.note, source: `dir:${n.source}` })) : []),
  ];
  const trusted: Array<{ instanceId: string; size: number; root: Buffer; note: string; source: string }> = [];
  const rejected: Array<{ source: string; reason: string }> = [];
  for (const n of all) {
    const c = readCheckpoint(n.note, options.verifiers, n.source);
    if (c.ok) trusted.push({ instanceId: c.instanceId, size: c.size, root: c.root, note: n.note, source: n.source });
    else rejected.push({ source: c.source, reason: c.reason });
  }
  return { trusted, rejected };
}

/**
 * Whether the request's approval workflow was started, so Temporal should hold its history: not
 * when the gateway refused before starting one (no reason given, too many new approvals, or
 * Temporal unreachable before the start, when no run was joined).
 */
function startedAnApproval(event: StoredEvent): boolean {
  const code = event.error?.code;
  if (code === 'APPROVAL_REASON_REQUIRED' || code === 'APPROVAL_RATE_LIMITED') return false;
  return !(code === 'APPROVALS_UNAVAILABLE' && !event.approval?.runId);
}

function readable(e: StoredEvent): StoredEvent {
  if (Array.isArray(e.collections) && e.decision && (!e.principal || Array.isArray(e.principal.groups))) return e;
  return {
    ...e,
    collections: Array.isArray(e.collections) ? e.collections : [],
    decision: e.decision ?? { effect: 'none', ruleId: null, explanation: '' },
    principal: e.principal ? { ...e.principal, groups: Array.isArray(e.principal.groups) ? e.principal.groups : [] } : null,
  };
}

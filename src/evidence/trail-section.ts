import { createHash } from 'node:crypto';
import type { Db } from 'mongodb';
import type { AuditEvent } from '../audit/event';
import { verifierKeyText, type NoteVerifier } from '../audit/checkpoint';
import { notesInDirectory, readCheckpoint, type CheckpointRecord } from '../audit/checkpoint-store';
import { verifyConsistency, verifyInclusion } from '../audit/merkle';
import { canonicalBytes, plainJson, recomputeHash } from '../audit/sequencer';
import { SeqOrder, verifyTrail, type VerifyReport } from '../audit/verify';
import type { BundleWriter } from './bundle';
import { csvHeader, csvLines, EVENT_COLUMNS, eventRow } from './csv';
import type { ReviewedRule } from './access-review';
import { consistencyPlan, inclusionPlan, RunRoots } from './streamed-proofs';
import type { TrailSummary } from './summary';
import type { TrailTally } from './trail-tally';

/**
 * The trail section of a bundle, in one streamed pass per instance: the period's events as JSON
 * Lines and CSV, the configurations in force, and what proves them: the store's own verification
 * (verifyTrail), the signed checkpoint notes, RFC 9162 inclusion proofs of each instance's first
 * and last event of the period, and with a previous bundle a consistency proof from its checkpoint.
 * Each instance's events are exported as the whole seq range from its first to its last event in
 * the period, so the chain inside the bundle has no gap an offline check would mistake for a loss.
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
  const store = options.verifiers.length > 0 ? await verifyTrail(db, { collection: options.collection, checkpointDir: options.checkpointDir, verifiers: options.verifiers, from, to }) : null;
  const notes = await trustedNotes(db, options);

  const instances = (await events.distinct('instanceId', { time: { $gte: from, $lte: to } })).sort();
  const jsonl = writer.stream(TRAIL.events);
  const csv = writer.stream(TRAIL.eventsCsv);
  await csv.write(csvHeader(EVENT_COLUMNS));

  const approvalIds = new Set<string>();
  const configurations = new Map<string, { sha256: string; firstSeen: string; instances: Set<string>; configuration: unknown }>();
  const evidence: InstanceEvidence[] = [];
  const checkpointFiles = new Set<string>();
  const lines: string[] = [];

  for (const instanceId of instances) {
    const first = await events.find({ instanceId, time: { $gte: from, $lte: to } }, { sort: { seq: 1 }, limit: 1, projection: { seq: 1 } }).next();
    const last = await events.find({ instanceId, time: { $gte: from, $lte: to } }, { sort: { seq: -1 }, limit: 1, projection: { seq: 1 } }).next();
    if (!first || !last) continue;
    const a = first.seq;
    const b = last.seq;
    const mine = notes.filter((n) => n.instanceId === instanceId);
    // the smallest checkpoint that covers the last event; else the largest there is (the tail is then only chained)
    const cp = mine.filter((n) => n.size >= b).sort((x, y) => x.size - y.size)[0] ?? mine.filter((n) => n.size >= a).sort((x, y) => y.size - x.size)[0];
    const prev = options.previous.find((p) => p.instanceId === instanceId);
    const ev: InstanceEvidence = { instanceId, firstSeq: a, lastSeq: b, events: 0, checkpoint: null, inclusion: [], consistency: null, notes: [] };

    const plans = {
      first: cp && a <= cp.size ? inclusionPlan(a - 1, cp.size) : undefined,
      last: cp && b <= cp.size && b !== a ? inclusionPlan(b - 1, cp.size) : undefined,
      consistency: cp && prev && prev.size >= 1 && prev.size < cp.size ? consistencyPlan(prev.size, cp.size) : undefined,
    };
    const roots = new RunRoots([plans.first ?? [], plans.last ?? [], plans.consistency ?? []]);
    const leaves = { a: '', b: '' };
    let configBefore: StoredEvent | undefined;
    let expected = 1;
    let rows: Array<Array<string | number>> = [];
    const ready: StoredEvent[] = [];
    const order = new SeqOrder<StoredEvent>((e) => ready.push(e));

    const take = async (e: StoredEvent): Promise<void> => {
      if (e.seq < expected) {
        ev.notes.push(`seq ${e.seq} appears more than once in the store; the bundle keeps the first (run \`vecgate audit verify\`)`);
        return;
      }
      if (e.seq > expected) ev.notes.push(`events ${expected}-${e.seq - 1} are missing from the store`);
      expected = e.seq + 1;
      const { _id, ...event } = e;
      if (cp && e.seq <= cp.size && roots.size === e.seq - 1) roots.push(Buffer.from(e.hash, 'hex'));
      if (e.seq < a) {
        if (e.configuration !== undefined) configBefore = event as StoredEvent;
        return;
      }
      if (e.seq > b) return;
      if (e.seq === a) leaves.a = recomputeHash(event);
      if (e.seq === b) leaves.b = recomputeHash(event);
      ev.events += 1;
      await jsonl.write(`${JSON.stringify(event)}\n`);
      rows.push(eventRow(event as StoredEvent));
      if (rows.length >= CSV_BATCH) {
        await csv.write(csvLines(rows));
        rows = [];
      }
      options.tally.add(event as StoredEvent);
      if (e.approval?.approvalId) approvalIds.add(e.approval.approvalId);
      if (e.configuration !== undefined) keepConfiguration(configurations, event as StoredEvent, ev);
    };

    const upto = Math.max(b, cp?.size ?? 0);
    for await (const e of events.find({ instanceId, seq: { $lte: upto } }, { batchSize: 10000 })) {
      order.add(e);
      while (ready.length > 0) await take(ready.shift() as StoredEvent);
    }
    order.end();
    while (ready.length > 0) await take(ready.shift() as StoredEvent);
    if (rows.length > 0) await csv.write(csvLines(rows));
    if (configBefore) keepConfiguration(configurations, configBefore, ev, from);

    if (cp) {
      const notePath = `trail/checkpoints/${instanceId}/${cp.size}.note`;
      ev.checkpoint = { size: cp.size, root: cp.root.toString('hex'), note: notePath };
      if (!checkpointFiles.has(notePath)) await writer.writeFile(notePath, cp.note);
      checkpointFiles.add(notePath);
      const complete = roots.size === cp.size;
      if (!complete) ev.notes.push(`the store holds ${roots.size} of the ${cp.size} events checkpoint ${cp.size} signed: no proof can be made (run \`vecgate audit verify\`)`);
      for (const [seq, plan, leaf] of [[a, plans.first, leaves.a], [b, plans.last, leaves.b]] as const) {
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
        const proof = plans.consistency && roots.size === cp.size ? roots.proof(plans.consistency) : [];
        const verdict = plans.consistency && roots.size !== cp.size ? { ok: false as const, reason: 'the store lacks events the checkpoints signed' } : verifyConsistency(prev.size, cp.size, Buffer.from(prev.root, 'hex'), cp.root, proof);
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
  for (const p of options.previous) {
    if (!instances.includes(p.instanceId)) lines.push(`instance ${p.instanceId} of the previous bundle has no events in this period: its chain is not continued here`);
  }

  const files = { events: [await jsonl.close().then((f) => f.path), await csv.close().then((f) => f.path)], verification: [TRAIL.verification], proofs: [TRAIL.verification], checkpoints: [...checkpointFiles].sort(), configurations: [] as string[] };
  for (const c of [...configurations.values()].sort((x, y) => (x.sha256 < y.sha256 ? -1 : 1))) {
    const path = `configurations/${c.sha256}.json`;
    // the file is the canonical form: its own sha256 is its name and the configSha256 its events carry
    await writer.writeFile(path, canonicalBytes(c.configuration));
    files.configurations.push(path);
  }

  const verification = judge({ period: { from: from.toISOString(), to: to.toISOString() }, store, instances: evidence, verifiers: options.verifiers, lines });
  await writer.writeFile(TRAIL.verification, `${JSON.stringify(verification, null, 2)}\n`);
  return {
    verification,
    approvalIds,
    configurations: [...configurations.values()].map((c) => ({ sha256: c.sha256, firstSeen: c.firstSeen, instances: [...c.instances].sort() })),
    rules: [...configurations.values()].flatMap((c) => rulesOf(c.configuration)),
    files,
  };
}

/** The bundle's verdict: failed on any sign of tampering, unverified where nothing signed covers the events. */
function judge(input: { period: Verification['period']; store: VerifyReport | null; instances: InstanceEvidence[]; verifiers: readonly NoteVerifier[]; lines: string[] }): Verification {
  const failed: string[] = [];
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
  configurations: Map<string, { sha256: string; firstSeen: string; instances: Set<string>; configuration: unknown }>,
  e: StoredEvent,
  ev: InstanceEvidence,
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

/** Checkpoints from MongoDB and the checkpoint directory that open with the trusted keys, with their notes. */
async function trustedNotes(db: Db, options: TrailSectionOptions): Promise<Array<{ instanceId: string; size: number; root: Buffer; note: string }>> {
  if (options.verifiers.length === 0) return [];
  const all = [
    ...(await db.collection<CheckpointRecord>(`${options.collection}_checkpoints`).find({}, { projection: { note: 1, instanceId: 1, size: 1 } }).toArray()).map((c) => ({ note: c.note, source: `mongodb:${c.instanceId}/${c.size}` })),
    ...(options.checkpointDir ? notesInDirectory(options.checkpointDir).map((n) => ({ note: n.note, source: `dir:${n.source}` })) : []),
  ];
  return all.flatMap((n) => {
    const c = readCheckpoint(n.note, options.verifiers, n.source);
    return c.ok ? [{ instanceId: c.instanceId, size: c.size, root: c.root, note: n.note }] : [];
  });
}

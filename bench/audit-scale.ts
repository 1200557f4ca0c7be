/**
 * The audit trail at scale, on the MongoDB-wire server of these machines (FerretDB on SQLite):
 * - reading a large trail back for `vecgate audit verify`, each way of reading measured side by side;
 * - `vecgate audit verify` itself over that trail;
 * - gateway start (opening the trail) with that trail in the store.
 * Run with `npm run bench` or alone: `node dist/bench/audit-scale.js`. BENCH_SCALE_EVENTS sets the
 * trail's size (default 200,000); BENCH_SCALE_READ_SECONDS how long each way of reading is timed
 * (default 30); BENCH_SCALE_VERIFY=0 skips the full verify; BENCH_SCALE_COMPARE=1 also times the
 * reads of verify before it read the collection once (one cursor per instance).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Db, type Document, type FindCursor } from 'mongodb';
import pino from 'pino';
import { signCheckpoint, MongoCheckpointSink, type CheckpointRecord } from '../src/audit/checkpoint-store';
import type { AuditRecord } from '../src/audit/event';
import { searchEvent } from './audit-record';
import { toStoredHead } from '../src/audit/instance-lease';
import { GENESIS, seal, type ChainHead } from '../src/audit/sequencer';
import { openAuditTrail, type TrailSettings } from '../src/audit/trail';
import { verifyTrail } from '../src/audit/verify';
import { systemClock } from '../src/clock';
import { defaultCacheDir, serverBinaries } from '../src/devstack';
import { startFerretDb } from '../src/devstack/ferretdb';

const env = process.env;
const EVENTS = Number(env.BENCH_SCALE_EVENTS ?? 200_000);
/** each way of reading is measured for this long */
const READ_SECONDS = Number(env.BENCH_SCALE_READ_SECONDS ?? 30);
/** 0 skips the full verify (for a start-time run at a large size) */
const RUN_VERIFY = env.BENCH_SCALE_VERIFY !== '0';
/** 1 also times verify's old way: one cursor per instance (each a whole-table scan here) */
const COMPARE_PER_INSTANCE = env.BENCH_SCALE_COMPARE === '1';
const INSTANCE = 'bench-scale';
/** a second chain beside the gateway's, as the approval worker keeps one */
const WORKER = 'bench-scale-worker';
const logger = pino({ level: 'warn' });
const keys = generateKeyPairSync('ed25519');
const signer = { name: 'bench/audit', privateKey: keys.privateKey };

function record(i: number): AuditRecord {
  return searchEvent(i, `scale-${i}`, new Date(1_790_000_000_000 + i * 10));
}

/** Sealed as the gateway would have, inserted in large batches straight into the store. */
async function writeTrail(db: Db, instanceId: string, n: number): Promise<void> {
  const events = db.collection('audit_events');
  const sink = new MongoCheckpointSink(db.collection<CheckpointRecord>('audit_events_checkpoints'));
  let head: ChainHead = GENESIS;
  const started = performance.now();
  const step = 20_000;
  for (let from = 0; from < n; from += step) {
    const batch = [];
    for (let i = from; i < Math.min(n, from + step); i++) {
      const sealed = seal(head, instanceId, record(i));
      head = sealed.head;
      batch.push(sealed.event);
    }
    await events.insertMany(batch, { ordered: false });
    if ((from + step) % 100_000 === 0 || from + step >= n) await sink.write(signCheckpoint(signer, instanceId, head, new Date()));
  }
  await db.collection('audit_events_instances').updateOne({ _id: instanceId as never }, { $set: { holder: 'bench', holderName: 'bench', expiresAt: new Date(0), updatedAt: new Date(), head: toStoredHead(head) } }, { upsert: true });
  console.log(`  wrote ${n} events of ${instanceId} (insertMany of ${step}) in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

interface ReadResult {
  count: number;
  seconds: number;
  cpuSeconds: number;
}

async function timed(read: () => Promise<number>): Promise<ReadResult> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const count = await read();
  const used = process.cpuUsage(cpu);
  return { count, seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

async function drain(cursor: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of cursor) n += 1;
  return n;
}

/**
 * Ways of reading the trail back as verify needs it (every field: the hash covers the whole event),
 * each for at most READ_SECONDS: the rate is steady through a scan, so a bounded read measures it.
 */
function readWays(db: Db): Array<[string, () => Promise<number>]> {
  const events = db.collection<Document>('audit_events');
  // The store stops a read at maxTimeMS (a sort or a huge first batch may yield nothing by then);
  // a read that streams is stopped here once the time is up.
  const bounded = async (cursor: FindCursor) => {
    const until = performance.now() + READ_SECONDS * 1000;
    let n = 0;
    try {
      for await (const _ of cursor.maxTimeMS(READ_SECONDS * 1000)) {
        n += 1;
        if (performance.now() > until) break;
      }
    } catch (err) {
      if ((err as { code?: number }).code !== 50) throw err;
    } finally {
      await cursor.close();
    }
    return n;
  };
  return [
    ['the whole collection, batchSize 10,000 (verify now)', () => bounded(events.find({}, { batchSize: 10_000 }))],
    ['one instance (filter on instanceId), batchSize 10,000', () => bounded(events.find({ instanceId: INSTANCE }, { batchSize: 10_000 }))],
    ['the whole collection, batchSize 1,000', () => bounded(events.find({}, { batchSize: 1000 }))],
    ['the whole collection, batchSize 100,000', () => bounded(events.find({}, { batchSize: 100_000 }))],
    ['the whole collection, raw BSON (the driver does not decode)', () => bounded(events.find({}, { batchSize: 10_000, raw: true }))],
    ['the whole collection, sorted by seq in the store', () => bounded(events.find({}, { sort: { seq: 1 }, batchSize: 10_000 }))],
  ];
}

/** verify as it was: one cursor per instance, each a scan of the whole table on FerretDB */
async function perInstanceReads(db: Db, instances: readonly string[]): Promise<number> {
  let n = 0;
  for (const instanceId of instances) n += await drain(db.collection('audit_events').find({ instanceId }, { batchSize: 10_000 }));
  return n;
}

function trailSettings(dir: string): TrailSettings {
  return { spoolDir: join(dir, 'spool'), spoolMaxBytes: 1 << 30, segmentBytes: 8 << 20, spoolReserveBytes: 1 << 20, spoolSync: true, batchSize: 1000, checkpointEvery: 10_000, checkpointMs: 10_000, leaseMs: 15_000, collection: 'audit_events', signer, checkpointDir: join(dir, 'checkpoints') };
}

async function main(): Promise<void> {
  const runDir = mkdtempSync(join(tmpdir(), 'vecgate-bench-scale-'));
  const ferret = await startFerretDb({
    binary: serverBinaries(defaultCacheDir(env)).ferretdb,
    dataDir: join(runDir, 'ferretdb'),
    logFile: join(runDir, 'ferretdb.log'),
    process: { readyTimeoutMs: 60_000, stopGraceMs: 10_000 },
  });
  const mongo = await MongoClient.connect(ferret.uri, { maxPoolSize: 32 });
  try {
    const db = mongo.db('vecgate_bench_scale');
    console.log(`\naudit trail at scale: ${EVENTS} events of a gateway and 1 % as many of a worker in FerretDB (SQLite); Node ${process.version}, ${cpus().length} cores shared, load average ${loadavg()[0]?.toFixed(1)} at start`);
    // the gateway's first start, on an empty store, made the indexes the events are then written under
    const first = mkdtempSync(join(tmpdir(), 'vecgate-bench-scale-first-'));
    await (await openAuditTrail(db, { ...trailSettings(first), checkpointDir: undefined }, { instanceId: INSTANCE, holderName: 'bench-first', clock: systemClock, logger })).close();
    await writeTrail(db, INSTANCE, EVENTS);
    await writeTrail(db, WORKER, Math.max(1, Math.floor(EVENTS / 100)));
    const total = EVENTS + Math.max(1, Math.floor(EVENTS / 100));
    for (const [name, read] of readWays(db)) {
      const r = await timed(read);
      const what = r.count === 0 ? `nothing within ${r.seconds.toFixed(0)} s` : `${(r.count / r.seconds).toFixed(0)} events/s over ${r.seconds.toFixed(0)} s`;
      console.log(`  read ${name}: ${what} (this process busy ${((100 * r.cpuSeconds) / r.seconds).toFixed(0)} % of it)`);
    }
    if (RUN_VERIFY) {
      const v = await timed(async () => {
        const report = await verifyTrail(db, { collection: 'audit_events', checkpointDir: undefined, verifiers: [{ name: signer.name, publicKey: keys.publicKey }] });
        if (!report.ok) throw new Error(`verify failed: ${JSON.stringify(report.instances.map((i) => i.findings.slice(0, 3)))}`);
        return report.instances.reduce((sum, i) => sum + i.events, 0);
      });
      console.log(`  vecgate audit verify (one pass, 2 instances): ${v.count} events in ${v.seconds.toFixed(1)} s = ${(v.count / v.seconds).toFixed(0)} events/s, verdict ok; 1,000,000 at this rate: ${(1_000_000 / (v.count / v.seconds)).toFixed(0)} s (target: under 60 s)`);
      if (COMPARE_PER_INSTANCE) {
        const old = await timed(() => perInstanceReads(db, [INSTANCE, WORKER]));
        console.log(`  the reads of verify before (one cursor per instance, 2 instances): ${old.count} events in ${old.seconds.toFixed(1)} s = ${(total / old.seconds).toFixed(0)} events/s`);
      }
    }

    const settings = trailSettings(mkdtempSync(join(tmpdir(), 'vecgate-bench-scale-start-')));
    for (const round of [1, 2, 3]) {
      const opened = performance.now();
      const trail = await openAuditTrail(db, settings, { instanceId: INSTANCE, holderName: `bench-${round}`, clock: systemClock, logger });
      const ms = performance.now() - opened;
      await trail.commit(record(EVENTS + round));
      await trail.close();
      console.log(`  gateway start (opening the trail: lease, head, spool, start checkpoint) with ${EVENTS + round - 1} events in the store, round ${round}: ${ms.toFixed(0)} ms (target: under 2 s)`);
    }
  } finally {
    await mongo.close();
    await ferret.process.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

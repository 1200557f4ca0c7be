/**
 * The audit trail's own speed, on the MongoDB-wire server of these machines (FerretDB):
 * - events per second made durable (spool, fdatasync per group) and shipped into MongoDB;
 * - `vecgate audit verify` over a large trail (BENCH_VERIFY_EVENTS, default 1,000,000);
 * - gateway start-up (opening the trail) with that many events in the store.
 * Run with `npm run bench`. Settings: BENCH_AUDIT_EVENTS (throughput run, default 50,000),
 * BENCH_AUDIT_INFLIGHT (events committed concurrently, default 256), BENCH_VERIFY_EVENTS.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import pino from 'pino';
import { signCheckpoint, MongoCheckpointSink, type CheckpointRecord } from '../src/audit/checkpoint-store';
import type { AuditRecord } from '../src/audit/event';
import { searchEvent } from './audit-record';
import { GENESIS, seal, type ChainHead } from '../src/audit/sequencer';
import { openAuditTrail, type TrailSettings } from '../src/audit/trail';
import { toStoredHead } from '../src/audit/instance-lease';
import { verifyTrail } from '../src/audit/verify';
import { ChainVerifier, type StoredEvent } from '../src/audit/chain-verifier';
import { systemClock } from '../src/clock';
import { readDevStackEnv, startDevStack } from '../src/devstack';

const env = process.env;
const EVENTS = Number(env.BENCH_AUDIT_EVENTS ?? 50_000);
const INFLIGHT = Number(env.BENCH_AUDIT_INFLIGHT ?? 256);
// FerretDB v1 on SQLite reads about 4,000 documents a second whatever the query: 100,000 keeps the run short;
// the verifier's own rate is measured apart over 1,000,000 events held in memory
const VERIFY_EVENTS = Number(env.BENCH_VERIFY_EVENTS ?? 100_000);
const MEMORY_EVENTS = Number(env.BENCH_VERIFY_MEMORY_EVENTS ?? 1_000_000);
const logger = pino({ level: 'warn' });
const keys = generateKeyPairSync('ed25519');
const signer = { name: 'bench/audit', privateKey: keys.privateKey };

function record(i: number): AuditRecord {
  return searchEvent(i, `bench-${i}`, new Date());
}

function settings(dir: string): TrailSettings {
  return {
    spoolDir: join(dir, 'spool'),
    spoolMaxBytes: 4 * 2 ** 30,
    segmentBytes: 8 << 20,
    spoolReserveBytes: 1 << 20,
    spoolSync: true,
    batchSize: 1000,
    checkpointEvery: 10_000,
    checkpointMs: 10_000,
    leaseMs: 15_000,
    collection: 'audit_events',
    signer,
    checkpointDir: join(dir, 'checkpoints'),
  };
}

async function throughput(db: Db): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vecgate-bench-audit-'));
  const trail = await openAuditTrail(db, settings(dir), { instanceId: 'bench-throughput', holderName: 'bench', clock: systemClock, logger });
  const started = performance.now();
  let next = 0;
  let durableAt = 0;
  const worker = async () => {
    while (next < EVENTS) await trail.commit(record(next++));
  };
  await Promise.all(Array.from({ length: INFLIGHT }, worker));
  durableAt = performance.now();
  await trail.flush(600_000);
  const shippedAt = performance.now();
  await trail.close();
  const rate = (ms: number) => ((EVENTS * 1000) / ms).toFixed(0);
  console.log(`\naudit trail: ${EVENTS} events, ${INFLIGHT} committed at a time, durability on (fdatasync per group); Node ${process.version}, ${cpus().length} cores`);
  console.log(`  durable in the spool: ${rate(durableAt - started)} events/s`);
  console.log(`  stored in MongoDB (FerretDB), sealed to shipped: ${rate(shippedAt - started)} events/s  (target: 5,000)`);
}

/** A large trail written straight into the store (as the gateway would have shipped it), with checkpoints. */
async function largeTrail(db: Db, instanceId: string, n: number): Promise<void> {
  const events = db.collection('audit_events');
  const sink = new MongoCheckpointSink(db.collection<CheckpointRecord>('audit_events_checkpoints'));
  let head: ChainHead = GENESIS;
  const started = performance.now();
  for (let from = 0; from < n; from += 10_000) {
    const batch = [];
    for (let i = from; i < Math.min(n, from + 10_000); i++) {
      const sealed = seal(head, instanceId, record(i));
      head = sealed.head;
      batch.push(sealed.event);
    }
    await events.insertMany(batch, { ordered: false });
    if ((from + 10_000) % 100_000 === 0 || from + 10_000 >= n) await sink.write(signCheckpoint(signer, instanceId, head, new Date()));
  }
  await db.collection('audit_events_instances').updateOne({ _id: instanceId as never }, { $set: { holder: 'bench', holderName: 'bench', expiresAt: new Date(0), updatedAt: new Date(), head: toStoredHead(head) } }, { upsert: true });
  console.log(`\nwrote a trail of ${n} events with ${Math.ceil(n / 100_000)} checkpoints in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function verifyAndStart(db: Db): Promise<void> {
  const instanceId = 'bench-large';
  await largeTrail(db, instanceId, VERIFY_EVENTS);
  const started = performance.now();
  const report = await verifyTrail(db, { collection: 'audit_events', checkpointDir: undefined, verifiers: [{ name: signer.name, publicKey: keys.publicKey }] });
  const verifySeconds = (performance.now() - started) / 1000;
  const large = report.instances.find((i) => i.instanceId === instanceId);
  const rate = (large?.events ?? 0) / verifySeconds;
  console.log(`  vecgate audit verify, events read from FerretDB: ${large?.events ?? 0} events in ${verifySeconds.toFixed(1)} s (${rate.toFixed(0)} events/s, 1,000,000 would take ${(1_000_000 / rate).toFixed(0)} s), verdict ${large?.ok ? 'ok' : 'FAILED'}  (target: under 60 s for 1,000,000)`);
  verifyInMemory();

  const dir = mkdtempSync(join(tmpdir(), 'vecgate-bench-start-'));
  const opened = performance.now();
  const trail = await openAuditTrail(db, settings(dir), { instanceId, holderName: 'bench', clock: systemClock, logger });
  const startMs = performance.now() - opened;
  await trail.commit(record(VERIFY_EVENTS));
  await trail.close();
  console.log(`  gateway start (opening the trail: lease, head, spool, start checkpoint) with ${VERIFY_EVENTS} events in the store: ${startMs.toFixed(0)} ms  (target: under 2 s)`);
}

/** The verifier alone (hashing, chaining, the tree, checkpoint roots), without the store's reads. */
function verifyInMemory(): void {
  // sealed ahead in chunks (not timed), pushed through one verifier (timed), so memory stays small
  let head: ChainHead = GENESIS;
  const seal100k = () => {
    const events: Array<ReturnType<typeof seal>['event']> = [];
    for (let i = 0; i < 100_000; i++) {
      const sealed = seal(head, 'bench-memory', record(head.seq));
      head = sealed.head;
      events.push(sealed.event);
    }
    return events;
  };
  let seconds = 0;
  const verifier = new ChainVerifier('bench-memory', []);
  for (let done = 0; done < MEMORY_EVENTS; done += 100_000) {
    const events = seal100k();
    const started = performance.now();
    for (const e of events) verifier.push(e as unknown as StoredEvent);
    seconds += (performance.now() - started) / 1000;
  }
  const findings = verifier.finish().filter((f) => f.kind !== 'unsigned-tail').length;
  console.log(`  the verifier alone (hash, chain, tree), ${MEMORY_EVENTS} events in memory: ${seconds.toFixed(1)} s (${(MEMORY_EVENTS / seconds).toFixed(0)} events/s), ${findings} findings`);
}

async function main(): Promise<void> {
  const devEnv = readDevStackEnv(env);
  const runDir = mkdtempSync(join(tmpdir(), 'vecgate-bench-'));
  const stack = await startDevStack({ runDir, cacheDir: devEnv.cacheDir, external: devEnv.external });
  const mongo = await MongoClient.connect(stack.mongoUri);
  try {
    const db = mongo.db(`vecgate_bench_audit_${Date.now()}`);
    await throughput(db);
    // BENCH_VERIFY_EVENTS=0: throughput only (bench/audit-scale.ts measures verify and start-up at scale)
    if (VERIFY_EVENTS > 0) await verifyAndStart(db);
    console.log(`  peak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  } finally {
    await mongo.close();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

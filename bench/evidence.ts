/**
 * `vecgate evidence export` at scale, on the MongoDB-wire server of these machines (FerretDB):
 * BENCH_EVIDENCE_EVENTS audit events (default 1,000,000) over BENCH_EVIDENCE_INSTANCES gateway
 * instances (default 2), every 100th naming an approval, signed checkpoints every 50,000 events;
 * then one export of the whole period and one offline verification of the bundle. Prints events
 * per second and the peak memory of the process (RSS) and of its heap. Seeding is not timed.
 * Approval histories come from Temporal (approvals section) and are not part of this run.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { stringify } from 'yaml';
import { MongoCheckpointSink, signCheckpoint, type CheckpointRecord } from '../src/audit/checkpoint-store';
import type { AuditRecord } from '../src/audit/event';
import { GENESIS, seal } from '../src/audit/sequencer';
import { systemClock } from '../src/clock';
import { parseConfig } from '../src/config/load';
import { readDevStackEnv, startDevStack } from '../src/devstack';
import { exportEvidence } from '../src/evidence/export';
import { verifyBundle } from '../src/evidence/verify-bundle';

const env = process.env;
const EVENTS = Number(env.BENCH_EVIDENCE_EVENTS ?? 1_000_000);
const INSTANCES = Number(env.BENCH_EVIDENCE_INSTANCES ?? 2);
const CHECKPOINT_EVERY = 50_000;
const START = new Date('2026-10-01T00:00:00Z');
const checkpointKey = generateKeyPairSync('ed25519').privateKey;
const signer = { name: 'bench/audit', privateKey: checkpointKey };

function record(i: number, instance: number): AuditRecord {
  const denied = i % 20 === 0;
  return {
    requestId: `bench-${instance}-${i}`,
    time: new Date(START.getTime() + i * 100),
    principal: { subject: `user-${i % 50}`, email: `user${i % 50}@example.test`, groups: [i % 2 ? 'data-scientists' : 'data-stewards'], issuer: 'http://idp.example' },
    client: { ip: '127.0.0.1', userAgent: 'bench' },
    connection: 'demo',
    dialect: 'chroma',
    request: { method: 'POST', path: '/api/v2/tenants/default_tenant/databases/default_database/collections/0f0e/query', endpoint: 'chroma.collection_query', bodySha256: 'a'.repeat(64) },
    operation: i % 100 === 0 ? 'export' : 'search',
    collections: [`docs-${i % 7}`],
    bulk: false,
    decision: denied ? { effect: 'deny', ruleId: 'no-secrets', explanation: 'denied' } : { effect: 'allow', ruleId: 'scientists-use-docs', explanation: 'Rule "scientists-use-docs" allows search.' },
    status: denied ? 403 : 200,
    ...(i % 100 === 0 ? { approval: { approvalId: `vecgate-${String(i).padStart(40, '0')}` } } : {}),
    ...(i % 3 === 0 ? { masking: { rulesApplied: ['pii'], rulesExempted: [], detectorsFired: [{ detector: 'email', count: 2 }], fieldsMasked: [{ field: 'documents', count: 2 }], valuesMasked: 2 } } : {}),
    records: { requested: 10, returned: 10 },
    latencyMs: 1.9,
    bytesIn: 600,
    bytesOut: 4000,
  };
}

async function seed(db: Db): Promise<void> {
  const events = db.collection('audit_events');
  const sink = new MongoCheckpointSink(db.collection<CheckpointRecord>('audit_events_checkpoints'));
  const per = Math.ceil(EVENTS / INSTANCES);
  const began = performance.now();
  for (let n = 0; n < INSTANCES; n++) {
    const instanceId = `bench-gw-${n}`;
    let head = GENESIS;
    let batch: object[] = [];
    for (let i = 1; i <= per; i++) {
      const sealed = seal(head, instanceId, record(i, n));
      head = sealed.head;
      batch.push(sealed.event);
      if (batch.length === 10_000 || i === per) {
        await events.insertMany(batch, { ordered: false });
        batch = [];
      }
      if (i % CHECKPOINT_EVERY === 0 || i === per) await sink.write(signCheckpoint(signer, instanceId, head, new Date()));
    }
    await db.collection<{ _id: string }>('audit_events_instances').updateOne({ _id: instanceId }, { $set: { holderName: 'bench' } }, { upsert: true });
  }
  console.log(`  seeded ${per * INSTANCES} events over ${INSTANCES} instance(s) in ${((performance.now() - began) / 1000).toFixed(0)} s (not part of the export's time)`);
}

async function main(): Promise<void> {
  const devEnv = readDevStackEnv(env);
  const runDir = mkdtempSync(join(tmpdir(), 'vecgate-bench-'));
  const stack = await startDevStack({ runDir, cacheDir: devEnv.cacheDir, external: devEnv.external });
  const mongo = await MongoClient.connect(stack.mongoUri);
  const database = `vecgate_bench_evidence_${Date.now()}`;
  try {
    console.log(`evidence export: ${EVENTS} audit events (BENCH_EVIDENCE_EVENTS)`);
    await seed(mongo.db(database));
    writeFileSync(join(runDir, 'checkpoint.pem'), checkpointKey.export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(join(runDir, 'evidence.pem'), generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const config = parseConfig(
      stringify({
        identity: { issuer: 'http://idp.example', audience: 'vecgate' },
        connections: [{ name: 'demo', dialect: 'chroma', upstream: 'http://127.0.0.1:8000' }],
        policy: { rules: [] },
        audit: { mongodbUri: stack.mongoUri, database, checkpoints: { keyFile: join(runDir, 'checkpoint.pem'), keyName: 'bench/audit' } },
        evidence: { keyFile: join(runDir, 'evidence.pem') },
      }),
      'bench config',
      {},
    ).config;

    let peakHeap = 0;
    const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 50);
    const out = join(runDir, 'bundle');
    const began = performance.now();
    const result = await exportEvidence({ config, from: START, to: new Date(START.getTime() + (EVENTS + 10) * 100), out, clock: systemClock, log: (l) => console.log(`    ${l}`) });
    const seconds = (performance.now() - began) / 1000;
    clearInterval(sampler);
    const size = statSync(join(out, 'trail/events.jsonl')).size;
    console.log(`  export: ${result.summary.trail.events} events in ${seconds.toFixed(1)} s (${(result.summary.trail.events / seconds).toFixed(0)} events/s), verdict ${result.summary.trail.verdict}, events.jsonl ${(size / 2 ** 20).toFixed(0)} MiB`);
    console.log(`  peak heap during the export: ${(peakHeap / 2 ** 20).toFixed(0)} MiB; peak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
    const vBegan = performance.now();
    const verdict = await verifyBundle(out);
    const vSeconds = (performance.now() - vBegan) / 1000;
    console.log(`  verify (offline): ${vSeconds.toFixed(1)} s (${(result.summary.trail.events / vSeconds).toFixed(0)} events/s), ${verdict.ok ? 'intact' : `${verdict.problems.length} problem(s)`}`);
    rmSync(out, { recursive: true, force: true });
  } finally {
    await mongo.db(database).dropDatabase().catch(() => undefined);
    await mongo.close();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

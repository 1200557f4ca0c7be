/**
 * `vecgate evidence export` at scale, on the MongoDB-wire server of these machines (FerretDB):
 * BENCH_EVIDENCE_EVENTS audit events (default 1,000,000) over BENCH_EVIDENCE_INSTANCES gateway
 * instances (default 2), every 100th naming an approval, signed checkpoints every 50,000 events;
 * then BENCH_EVIDENCE_APPROVALS approval workflows (default 10,000) in the Temporal dev server,
 * run by a worker in this process with the real workflow code (a notifier that posts nowhere):
 * every second one denied by a signed decision, the others expired after a 2 s decision window;
 * the events name them (every 100th event one approval). Then one export of the whole period with
 * both sections, and one offline verification of the bundle (BENCH_EVIDENCE_VERIFY=0 skips it;
 * it replays every history). Prints events/s, approvals/s, the total time, and the peak memory of
 * this process during the export (RSS and heap, sampled every 50 ms). Seeding is not timed.
 * Run: `npx tsc -p tsconfig.build.json && node dist/bench/evidence.js`.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { MongoClient, type Db } from 'mongodb';
import { stringify } from 'yaml';
import { MongoCheckpointSink, signCheckpoint, type CheckpointRecord } from '../src/audit/checkpoint-store';
import type { AuditRecord } from '../src/audit/event';
import { searchEvent } from './audit-record';
import { GENESIS, seal } from '../src/audit/sequencer';
import { rawPublicKeyHex } from '../src/approval/decider-keys';
import { decide, startOrGetApproval } from '../src/approval/temporal-client';
import { createApprovalWorker } from '../src/approval/worker';
import { systemClock } from '../src/clock';
import { parseConfig } from '../src/config/load';
import { readDevStackEnv, startDevStack } from '../src/devstack';
import { exportEvidence } from '../src/evidence/export';
import { verifyBundle } from '../src/evidence/verify-bundle';
import { createDecisionSigner } from '../slack-app/decision-signer';
import type { ApprovalRequest, ApprovalState, MessageRef } from '../workflows/approval-contract';

const env = process.env;
const EVENTS = Number(env.BENCH_EVIDENCE_EVENTS ?? 1_000_000);
const INSTANCES = Number(env.BENCH_EVIDENCE_INSTANCES ?? 2);
const APPROVALS = Number(env.BENCH_EVIDENCE_APPROVALS ?? 10_000);
const VERIFY = env.BENCH_EVIDENCE_VERIFY !== '0';
/** approval workflows started at once */
const START_CONCURRENCY = 32;
const CHECKPOINT_EVERY = 50_000;
/** the events end now, so the period holds them and the approval workflows started just after */
const START = new Date(Date.now() - (Math.ceil(EVENTS / INSTANCES) + 10) * 100);
const decisionKey = generateKeyPairSync('ed25519');
const decider = { signer: createDecisionSigner(decisionKey.privateKey), publicKey: rawPublicKeyHex(decisionKey.publicKey) };

/** The approval id of the k-th approval workflow; events name them in turn. */
const approvalIdOf = (k: number): string => `vecgate-${createHash('sha256').update(`bench-approval-${k}`).digest('hex').slice(0, 40)}`;
const checkpointKey = generateKeyPairSync('ed25519').privateKey;
const signer = { name: 'bench/audit', privateKey: checkpointKey };

function record(i: number, instance: number, per: number): AuditRecord {
  const k = (instance * per + i) / 100;
  const denied = i % 20 === 0;
  const { upstream: _upstream, ...search } = searchEvent(i, `bench-${instance}-${i}`, new Date(START.getTime() + i * 100));
  return {
    ...search,
    principal: { subject: `user-${i % 50}`, email: `user${i % 50}@example.test`, groups: [i % 2 ? 'data-scientists' : 'data-stewards'], issuer: 'http://idp.example' },
    operation: i % 100 === 0 ? 'export' : 'search',
    collections: [`docs-${i % 7}`],
    decision: denied ? { effect: 'deny', ruleId: 'no-secrets', explanation: 'denied' } : { effect: 'allow', ruleId: 'scientists-use-docs', explanation: 'Rule "scientists-use-docs" allows search.' },
    status: denied ? 403 : 200,
    ...(i % 100 === 0 ? { approval: { approvalId: APPROVALS > 0 ? approvalIdOf(Math.floor(k) % APPROVALS) : `vecgate-${String(i).padStart(40, '0')}` } } : {}),
    ...(i % 3 === 0 ? { masking: { rulesApplied: ['pii'], rulesExempted: [], detectorsFired: [{ detector: 'email', count: 2 }], fieldsMasked: [{ field: 'documents', count: 2 }], valuesMasked: 2 } } : {}),
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
      const sealed = seal(head, instanceId, record(i, n, per));
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

/** Where approvers would be asked: nowhere, so the run measures Temporal and the workflow alone. */
class SilentNotifier {
  async post(state: ApprovalState): Promise<MessageRef> {
    return { channel: 'C-BENCH', ts: `${state.approvalId}.000100` };
  }
  async update(): Promise<void> {}
}

function approvalRequest(k: number): ApprovalRequest {
  const fingerprint = createHash('sha256').update(`bench-fingerprint-${k}`).digest('hex');
  return {
    approvalId: approvalIdOf(k),
    requester: { subject: `user-${k % 50}`, email: `user${k % 50}@example.test`, groups: ['data-scientists'] },
    connection: 'demo',
    collections: [`docs-${k % 7}`],
    operation: 'export',
    bulk: true,
    method: 'POST',
    path: '/api/v2/tenants/default_tenant/databases/default_database/collections/0f0e/get',
    fingerprint,
    bodySha256: 'a'.repeat(64),
    bodyBytes: 2,
    reason: `bench export ${k}`,
    ruleId: 'scientists-bulk-needs-approval',
    ruleExplanation: 'Bulk exports need one approval from data-stewards.',
    summary: `user-${k % 50} exports every record of docs-${k % 7}`,
    // every second one is denied at once (its window long enough for the denial to arrive on a busy machine); the others expire after 2 s
    policy: { approverGroups: ['data-stewards'], required: 1, timeoutMs: k % 2 === 0 ? 600_000 : 2000, usableForMs: 1000, reasonRequired: true },
    requestedAt: Date.now(),
    gatewayInstance: 'bench-gw-0',
    deciderKeys: [decider.publicKey],
  };
}

/** APPROVALS workflows run to their end by a worker in this process; not timed as part of the export. */
async function runApprovals(temporalAddress: string, taskQueue: string): Promise<void> {
  if (APPROVALS <= 0) return;
  const began = performance.now();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const native = await NativeConnection.connect({ address: temporalAddress });
  const worker = await createApprovalWorker({ connection: native, namespace: 'default', taskQueue, notifier: new SilentNotifier(), worker: { maxConcurrentWorkflowTaskExecutions: 64, maxConcurrentActivityTaskExecutions: 64 } });
  const running = worker.run();
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection, namespace: 'default' });
  try {
    let next = 0;
    const one = async (): Promise<void> => {
      for (let k = next++; k < APPROVALS; k = next++) {
        const request = approvalRequest(k);
        const handle = await startOrGetApproval(client, taskQueue, request);
        if (k % 2 === 0) {
          const now = Date.now();
          const input = { decisionId: `bench-deny-${k}`, approver: { subject: 'steward', email: 'steward@example.test', groups: ['data-stewards'], via: 'api' as const }, decision: 'deny' as const, reason: 'not this quarter' };
          const result = await decide(handle, decider.signer.sign(request.approvalId, request.fingerprint, input, now));
          if (!result.counted) throw new Error(`approval ${k}: the signed denial was not counted (${result.refusal ?? '?'})`);
        }
      }
    };
    await Promise.all(Array.from({ length: START_CONCURRENCY }, one));
    const started = (performance.now() - began) / 1000;
    for (;;) {
      const { count } = await client.workflow.count(`TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`);
      if (count === 0) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    console.log(`  approvals: ${APPROVALS} workflows started (and half denied) in ${started.toFixed(0)} s, all closed after ${((performance.now() - began) / 1000).toFixed(0)} s (not part of the export's time)`);
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await native.close();
  }
}

async function main(): Promise<void> {
  const devEnv = readDevStackEnv(env);
  const runDir = mkdtempSync(join(tmpdir(), 'vecgate-bench-'));
  const stack = await startDevStack({ runDir, cacheDir: devEnv.cacheDir, external: devEnv.external });
  const mongo = await MongoClient.connect(stack.mongoUri);
  const database = `vecgate_bench_evidence_${Date.now()}`;
  try {
    console.log(`evidence export: ${EVENTS} audit events (BENCH_EVIDENCE_EVENTS), ${APPROVALS} approvals (BENCH_EVIDENCE_APPROVALS); load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}, ${cpus().length} cores`);
    await seed(mongo.db(database));
    const taskQueue = `bench-evidence-${Date.now()}`;
    await runApprovals(stack.temporalAddress, taskQueue);
    writeFileSync(join(runDir, 'checkpoint.pem'), checkpointKey.export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(join(runDir, 'evidence.pem'), generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const config = parseConfig(
      stringify({
        identity: { issuer: 'http://idp.example', audience: 'vecgate' },
        connections: [{ name: 'demo', dialect: 'chroma', upstream: 'http://127.0.0.1:8000' }],
        policy: { rules: [] },
        audit: { mongodbUri: stack.mongoUri, database, checkpoints: { keyFile: join(runDir, 'checkpoint.pem'), keyName: 'bench/audit' } },
        evidence: { keyFile: join(runDir, 'evidence.pem') },
        ...(APPROVALS > 0
          ? {
              approvals: {
                temporal: { address: stack.temporalAddress, namespace: 'default', taskQueue },
                deciderPublicKeys: [decisionKey.publicKey.export({ format: 'pem', type: 'spki' }).toString()],
              },
            }
          : {}),
      }),
      'bench config',
      {},
    ).config;

    let peakHeap = 0;
    let peakRss = 0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    }, 50);
    const out = join(runDir, 'bundle');
    const began = performance.now();
    let trailSeconds = 0;
    const log = (l: string) => {
      if (l.startsWith('trail: ') && / events, verdict /.test(l)) trailSeconds = (performance.now() - began) / 1000;
      console.log(`    ${((performance.now() - began) / 1000).toFixed(1).padStart(6)} s  ${l}`);
    };
    // the period: every event (they end now) and every approval workflow (started and closed after them)
    const result = await exportEvidence({ config, from: START, to: new Date(Date.now() + 60_000), out, clock: systemClock, log });
    const seconds = (performance.now() - began) / 1000;
    clearInterval(sampler);
    const size = statSync(join(out, 'trail/events.jsonl')).size;
    const events = result.summary.trail.events;
    const approvals = result.summary.approvals.total;
    const approvalSeconds = seconds - trailSeconds;
    console.log(`  export: ${seconds.toFixed(1)} s in all; trail ${events} events in ${trailSeconds.toFixed(1)} s (${(events / trailSeconds).toFixed(0)} events/s), verdict ${result.summary.trail.verdict}, events.jsonl ${(size / 2 ** 20).toFixed(0)} MiB`);
    console.log(`  approvals ${approvals} workflow histories (${result.summary.approvals.missingHistories.length} missing) in ${approvalSeconds.toFixed(1)} s (${(approvals / approvalSeconds).toFixed(0)} approvals/s; the rest of the bundle included)`);
    console.log(`  peak during the export: RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB, heap ${(peakHeap / 2 ** 20).toFixed(0)} MiB (this process also ran the seeding and the approval worker before: its lifetime peak RSS is ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB)`);
    if (VERIFY) {
      const vBegan = performance.now();
      const verdict = await verifyBundle(out);
      const vSeconds = (performance.now() - vBegan) / 1000;
      console.log(`  verify (offline, every history replayed): ${vSeconds.toFixed(1)} s, ${verdict.ok ? 'intact' : `${verdict.problems.length} problem(s): ${verdict.problems.slice(0, 3).map((p) => `${p.file}: ${p.message}`).join('; ')}`}`);
    }
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

/**
 * What measuring a read costs per request (THREATS 31, 32): counting what a Chroma query asks for
 * and what its filters test, the check of filters against masked data, the volume decision with a
 * window read from the shared usage store's local view, and counting the records of the answer.
 * Measured one call at a time in-process (the store on the dev stack's MongoDB), p50/p99 printed.
 * Run: `npx tsc -p tsconfig.build.json && node dist/bench/volume.js`. Settings: BENCH_ITERATIONS.
 */
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { percentile, mulberry32 } from './load';
import { configSchema } from '../src/config/schema';
import { readDevStackEnv, startDevStack } from '../src/devstack';
import { chromaFilterTests, chromaRecordsInResponse, chromaRequestedRecords } from '../src/dialect/chroma/volume';
import type { Classification } from '../src/dialect/types';
import { compileMasking, maskingRuleSchema, type MaskPlan } from '../src/masking';
import { judgeFilters } from '../src/policy/masked-filters';
import { compileVolumeLimits, openUsageStore, volumeExportReason } from '../src/volume';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20000);
const DIM = 384;

async function main(): Promise<void> {
  const devEnv = readDevStackEnv(process.env);
  const stack = await startDevStack({ runDir: mkdtempSync(join(tmpdir(), 'vecgate-bench-volume-')), cacheDir: devEnv.cacheDir, external: devEnv.external });
  const mongo = await MongoClient.connect(stack.mongoUri);
  try {
    const rand = mulberry32(11);
    const body = JSON.parse(JSON.stringify({
      query_embeddings: [Array.from({ length: DIM }, () => rand())],
      n_results: 10,
      where: { $and: [{ team: 'ml' }, { year: { $gte: 2024 } }] },
      include: ['documents', 'metadatas', 'distances'],
    })) as unknown;
    const answer = JSON.stringify({
      ids: [Array.from({ length: 10 }, (_, i) => `r${i}`)],
      documents: [Array.from({ length: 10 }, (_, i) => `document r${i} about vector search and gateways`)],
      metadatas: [Array.from({ length: 10 }, (_, i) => ({ team: `t${i % 7}`, id: `r${i}` }))],
      distances: [Array.from({ length: 10 }, () => rand())],
      include: ['documents', 'metadatas', 'distances'],
    });
    const plan = compileMasking([maskingRuleSchema.parse({ id: 'pii', fields: ['metadata.email'], detectors: ['email', 'phone'] })], { tokenKey: undefined })
      .planFor({ connection: 'demo', collections: ['docs-bench'], groups: ['data-scientists'] }) as MaskPlan;
    const config = {
      connections: [{ name: 'demo', dialect: 'chroma' as const, upstream: 'http://x' }],
      policy: { rules: [{ id: 'use-docs', groups: ['*'], connections: ['*'], collections: ['*'], operations: ['search' as const], effect: 'allow' as const, volume: { maxRecordsPerRequest: 50, window: { records: 1_000_000_000, seconds: 300 } } }] },
    };
    const limits = compileVolumeLimits(config);
    const usage = await openUsageStore(mongo.db('vecgate_bench_volume'), configSchema.shape.usage.parse({}), { clock: { now: () => Date.now() }, logger: pino({ level: 'warn' }), longestWindowSeconds: 300 });
    const volume = { limits, usage, unreachableAllowance: 20 };
    const key = { principal: 'u-1001-alice', connection: 'demo', collection: 'docs-bench' };
    const decision = { effect: 'allow' as const, ruleId: 'use-docs', explanation: '' };

    const steps: Record<string, number[]> = { 'count request + read filters': [], 'filters vs masking': [], 'volume decision (window)': [], 'count answer (parse + ids)': [], total: [] };
    const time = (name: string, f: () => unknown): number => {
      const t0 = process.hrtime.bigint();
      f();
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      steps[name]?.push(ms);
      return ms;
    };
    await volumeExportReason(volume, { connection: 'demo', decision, classification: { endpoint: 'chroma.collection_query', operation: 'search', collections: [], bulk: false, reason: '', requested: 10 }, key });
    for (let i = 0; i < ITERATIONS; i++) {
      let c: Classification = { endpoint: 'chroma.collection_query', operation: 'search', collections: [], bulk: false, reason: '' };
      let total = time('count request + read filters', () => {
        const requested = chromaRequestedRecords(c.endpoint, body);
        const filters = chromaFilterTests(c.endpoint, body);
        c = { ...c, ...(requested !== undefined ? { requested } : {}), ...(filters ? { filters } : {}) };
      });
      total += time('filters vs masking', () => judgeFilters(c.filters, plan.guarded));
      const t0 = process.hrtime.bigint();
      // the fresh path answers without a round trip; awaiting it is what the handler does
      await volumeExportReason(volume, { connection: 'demo', decision, classification: c, key });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      steps['volume decision (window)']?.push(ms);
      total += ms;
      total += time('count answer (parse + ids)', () => usage.add(key, chromaRecordsInResponse(c, JSON.parse(answer)) ?? 0));
      steps.total?.push(total);
      if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
    }
    await usage.close();
    console.log(`node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${ITERATIONS} requests, query of ${DIM} dims with a two-key filter, answer of 10 records`);
    for (const [name, values] of Object.entries(steps)) {
      const sorted = [...values].sort((a, b) => a - b);
      console.log(`${name.padEnd(30)} p50 ${percentile(sorted, 50).toFixed(4)} ms   p99 ${percentile(sorted, 99).toFixed(4)} ms`);
    }
  } finally {
    await mongo.close();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

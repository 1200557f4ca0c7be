/**
 * The same Chroma query, direct and through the gateway, side by side in one run, alternating in
 * rounds so that machine noise hits both alike. Prints the throughput ratio and the added p50/p99.
 * A plain Node proxy runs as a third side: the cost of one more hop, apart from the gateway's work.
 * Run with `npm run bench`. Settings: BENCH_SECONDS (per round and side), BENCH_ROUNDS, BENCH_CONCURRENCY.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { ChromaClient } from 'chromadb';
import { Pool } from 'undici';
import { stringify } from 'yaml';
import { fetchDemoToken, findProjectRoot, readDevStackEnv, startDevStack } from '../src/devstack';
import { findFreePort } from '../src/devstack/ports';
import { merge, mulberry32, percentile, runLoad, type LoadResult, type Target } from './load';

const env = process.env;
const SECONDS = Number(env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(env.BENCH_CONCURRENCY ?? 8);
const RECORDS = 2000;
const DIM = 128;

async function main(): Promise<void> {
  const root = findProjectRoot();
  const devEnv = readDevStackEnv(env);
  const runDir = mkdtempSync(join(tmpdir(), 'vecgate-bench-'));
  const stack = await startDevStack({ runDir, cacheDir: devEnv.cacheDir, external: devEnv.external });
  const stops: Array<() => Promise<void> | void> = [() => stack.stop()];
  try {
    const chroma = new ChromaClient({ host: new URL(stack.chromaUrl).hostname, port: Number(new URL(stack.chromaUrl).port) });
    const collection = await chroma.getOrCreateCollection({ name: 'docs-bench', embeddingFunction: null as unknown as undefined });
    const rand = mulberry32(7);
    for (let start = 0; start < RECORDS; start += 500) {
      const ids = Array.from({ length: 500 }, (_, i) => `r${start + i}`);
      await collection.upsert({
        ids,
        embeddings: ids.map(() => Array.from({ length: DIM }, () => rand())),
        documents: ids.map((id) => `document ${id} about vector search and gateways`),
        metadatas: ids.map((id, i) => ({ team: `t${i % 7}`, id })),
      });
    }

    // the gateway twice: the audit spool synced before each answer (as deployed), and not synced (to show what durability costs)
    const startGateway = async (name: string, sync: boolean) => {
      const port = await findFreePort();
      const adminPort = await findFreePort();
      const configFile = join(runDir, `${name}.yaml`);
      writeFileSync(configFile, stringify({
        gateway: { listen: { port }, adminListen: { port: adminPort } },
        identity: { issuer: stack.oidcIssuer, audience: 'vecgate' },
        connections: [{ name: 'demo', dialect: 'chroma', upstream: stack.chromaUrl }],
        policy: { rules: [{ id: 'bench', groups: ['data-scientists'], collections: ['docs-*'], operations: ['search', 'read', 'meta'], effect: 'allow' }] },
        audit: { mongodbUri: stack.mongoUri, database: 'vecgate_bench', spool: { dir: join(runDir, `${name}-spool`), sync } },
      }));
      const child = spawn(process.execPath, [...(env.BENCH_NODE_ARGS ? env.BENCH_NODE_ARGS.split(' ') : []), join(root, 'bin', 'vecgate'), 'gateway', '--config', configFile, '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'] });
      stops.unshift(() => void child.kill('SIGTERM'));
      await waitFor(`http://127.0.0.1:${adminPort}/readyz`);
      return { port, pid: child.pid };
    };
    const gateway = await startGateway('gateway', true);
    const unsynced = await startGateway('unsynced', false);

    const plainPort = await findFreePort();
    const plain = spawn(process.execPath, [join(root, 'dist', 'bench', 'plain-proxy.js'), String(plainPort), stack.chromaUrl], { stdio: ['ignore', 'ignore', 'inherit'] });
    stops.unshift(() => void plain.kill('SIGTERM'));
    await waitFor(`http://127.0.0.1:${plainPort}/api/v2/heartbeat`);

    const token = await fetchDemoToken(stack.oidcIssuer, { username: 'alice', password: 'alice-dev-password' });
    const query = JSON.stringify({ query_embeddings: [Array.from({ length: DIM }, () => rand())], n_results: 10, include: ['documents', 'metadatas', 'distances'] });
    const path = `/api/v2/tenants/default_tenant/databases/default_database/collections/${collection.id}/query`;
    const direct: Target = { origin: stack.chromaUrl, path, method: 'POST', headers: { 'content-type': 'application/json' }, body: query };
    const viaPlain: Target = { ...direct, origin: `http://127.0.0.1:${plainPort}` };
    const viaGateway: Target = { origin: `http://127.0.0.1:${gateway.port}`, path: `/c/demo${path}`, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: query };
    const viaUnsynced: Target = { ...viaGateway, origin: `http://127.0.0.1:${unsynced.port}` };

    const sides = { direct, plain: viaPlain, gateway: viaGateway, unsynced: viaUnsynced } as const;
    type Side = keyof typeof sides;
    const names = Object.keys(sides) as Side[];
    const pools = Object.fromEntries(names.map((n) => [n, new Pool(sides[n].origin, { connections: CONCURRENCY })])) as Record<Side, Pool>;
    stops.unshift(...names.map((n) => () => pools[n].close()));
    // warm up every path (connections, JIT, the gateway's JWKS and collection directory)
    for (const n of names) await runLoad(pools[n], sides[n], CONCURRENCY, 1000);

    const serial = Object.fromEntries(names.map((n) => [n, [] as LoadResult[]])) as Record<Side, LoadResult[]>;
    const loaded = Object.fromEntries(names.map((n) => [n, [] as LoadResult[]])) as Record<Side, LoadResult[]>;
    // CPU time the proxy process spent per request: steadier than latency on a shared machine
    const cpuPerRequest = Object.fromEntries(names.map((n) => [n, [] as Array<{ ms: number; requests: number }>])) as Record<Side, Array<{ ms: number; requests: number }>>;
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of names) serial[n].push(await runLoad(pools[n], sides[n], 1, SECONDS * 1000));
      for (const n of names) {
        const proxy = n === 'gateway' ? gateway.pid : n === 'unsynced' ? unsynced.pid : n === 'plain' ? plain.pid : undefined;
        const before = cpuMs(proxy);
        const r = await runLoad(pools[n], sides[n], CONCURRENCY, SECONDS * 1000);
        cpuPerRequest[n].push({ ms: cpuMs(proxy) - before, requests: r.requests });
        loaded[n].push(r);
      }
    }
    report(merge(serial.direct), merge(serial.plain), merge(serial.gateway), merge(loaded.direct), merge(loaded.plain), merge(loaded.gateway));
    const rps = (r: LoadResult) => r.requests / r.seconds;
    const [synced, notSynced] = [merge(loaded.gateway), merge(loaded.unsynced)];
    console.log(`audit durability: gateway with the spool synced before each answer ${rps(synced).toFixed(0)} req/s, unsynced ${rps(notSynced).toFixed(0)} req/s: ${(rps(synced) / rps(notSynced)).toFixed(3)}x (target: at least 0.9x); added p50 at c=1 ${(percentile(merge(serial.gateway).latencies, 50) - percentile(merge(serial.unsynced).latencies, 50)).toFixed(3)} ms`);
    const perRequest = (n: Side) => (1000 * cpuPerRequest[n].reduce((a, x) => a + x.ms, 0)) / cpuPerRequest[n].reduce((a, x) => a + x.requests, 0);
    console.log(`CPU per request in the proxy process: gateway ${perRequest('gateway').toFixed(0)} µs, plain proxy ${perRequest('plain').toFixed(0)} µs (ratio ${(perRequest('gateway') / perRequest('plain')).toFixed(2)}x)`);
  } finally {
    for (const stop of stops) await stop();
  }
}

function report(sd: LoadResult, sp: LoadResult, sg: LoadResult, ld: LoadResult, lp: LoadResult, lg: LoadResult): void {
  const rps = (r: LoadResult) => r.requests / r.seconds;
  const fmt = (n: number) => n.toFixed(3);
  const line = (name: string, r: LoadResult) =>
    `  ${name.padEnd(9)} ${String(r.requests).padStart(7)} req  ${rps(r).toFixed(0).padStart(6)} req/s  p50 ${fmt(percentile(r.latencies, 50))} ms  p99 ${fmt(percentile(r.latencies, 99))} ms  errors ${r.errors}`;
  console.log(`\nChroma query (${RECORDS} records, dim ${DIM}, n_results 10), ${ROUNDS} rounds x ${SECONDS}s per side; Node ${process.version}, ${cpus().length} cores`);
  console.log(`latency, one request at a time:`);
  console.log(line('direct', sd));
  console.log(line('plain', sp));
  console.log(line('gateway', sg));
  const added = (a: LoadResult, b: LoadResult, p: number) => fmt(percentile(a.latencies, p) - percentile(b.latencies, p));
  console.log(`  added by the gateway: p50 ${added(sg, sd, 50)} ms, p99 ${added(sg, sd, 99)} ms (a plain Node proxy adds p50 ${added(sp, sd, 50)} ms, p99 ${added(sp, sd, 99)} ms)`);
  console.log(`throughput, ${CONCURRENCY} concurrent:`);
  console.log(line('direct', ld));
  console.log(line('plain', lp));
  console.log(line('gateway', lg));
  console.log(`  gateway / direct throughput: ${(rps(lg) / rps(ld)).toFixed(3)}x (plain proxy / direct: ${(rps(lp) / rps(ld)).toFixed(3)}x)`);
}

/** user + system CPU time of a process, from /proc (Linux), in ms; 0 for no process */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not become ready`);
}


main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

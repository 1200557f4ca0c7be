/**
 * The gateway against the two things it is judged by, side by side in one run: Chroma direct, and
 * nginx as a plain keep-alive reverse proxy with one worker (the cost of any proxy hop). Sides
 * alternate in rounds so machine noise hits them alike; the gateway runs with the demo's settings
 * (config/demo.yaml: audit spool synced before each answer, signed checkpoints, masking) as a child
 * process whose CPU time is read from /proc. Load comes from autocannon.
 *
 * `npm run bench` (or `node dist/bench/gateway.js`); `npm run bench -- soak` runs the soak instead:
 * BENCH_SOAK_SECONDS (default 600) at BENCH_SOAK_SHARE (default 0.8) of the peak rate of the masked
 * query, reporting p99 and the gateway's memory per minute.
 * Settings: BENCH_SECONDS (per round, case and side; default 5), BENCH_ROUNDS (default 3),
 * BENCH_CASES (comma-separated parts of case names, e.g. "version"; a partial run writes no targets),
 * BENCH_BASELINE (the root of another built checkout: its gateway runs as a fourth side, "baseline"),
 * BENCH_SPOOL_SYNC=false (this build's gateway without the spool sync, to show what durability costs),
 * BENCH_NODE_ARGS (extra node flags for the gateway, e.g. --cpu-prof --cpu-prof-dir=DIR),
 * BENCH_WORKERS=N (this build's gateway also with N worker processes, `vecgate gateway --workers N`, as a
 * side of its own, "gateway xN"; its CPU is the primary's and every worker's, read from /proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import autocannon from 'autocannon';
import { ChromaClient } from 'chromadb';
import { parse, stringify } from 'yaml';
import { fetchDemoToken, findProjectRoot, readDevStackEnv, startDevStack } from '../src/devstack';
import { findFreePort } from '../src/devstack/ports';
import { mulberry32, percentile } from './load';

const env = process.env;
const SECONDS = Number(env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const RECORDS = 2000;
const DIM = 384;

/**
 * `node`: the floor of any Node.js proxy (bench/node-proxy.ts: node:http in, undici out, nothing
 * checked), so the gateway's distance from nginx splits into Node's part and vecgate's;
 * `baseline`: a second gateway built from another checkout (BENCH_BASELINE), to measure a change side by side;
 * `cluster`: this build with BENCH_WORKERS worker processes behind the same port
 */
type Side = 'direct' | 'nginx' | 'node' | 'gateway' | 'baseline' | 'cluster';
const BASELINE = env.BENCH_BASELINE;
const WORKERS = env.BENCH_WORKERS ? Number(env.BENCH_WORKERS) : undefined;
const SIDES: readonly Side[] = ['direct', 'nginx', 'node', 'gateway', ...(BASELINE ? ['baseline' as const] : []), ...(WORKERS ? ['cluster' as const] : [])];

interface Case {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  connections: number;
  /** the caller's token through the gateway */
  token: string;
}

interface Run {
  requests: number;
  errors: number;
  seconds: number;
  /** ms, every response */
  latencies: number[];
  /** CPU ms of the proxy process (nginx: master and worker; gateway xN: primary and workers) */
  cpuMs: number;
  /** of which in the kernel (system time): mostly loopback TCP and waking the peer */
  sysMs: number;
  /** of which the first process (nginx's master, the gateway primary that hands out connections) */
  firstCpuMs: number;
}

async function main(): Promise<void> {
  const mode = process.argv[2] === 'soak' || env.BENCH_MODE === 'soak' ? 'soak' : 'compare';
  const root = findProjectRoot();
  const devEnv = readDevStackEnv(env);
  const runDir = mkdtempSync(join(tmpdir(), 'vecgate-bench-'));
  const stack = await startDevStack({ runDir, cacheDir: devEnv.cacheDir, external: devEnv.external });
  const stops: Array<() => Promise<void> | void> = [() => stack.stop()];
  try {
    const collectionId = await loadCollection(stack.chromaUrl);
    const gateway = await startGateway(root, join(runDir, 'gateway'), stack);
    stops.unshift(() => stopChild(gateway.child));
    const baseline = BASELINE ? await startGateway(BASELINE, join(runDir, 'baseline'), stack) : undefined;
    if (baseline) stops.unshift(() => stopChild(baseline.child));
    const clustered = WORKERS ? await startGateway(root, join(runDir, 'cluster'), stack, WORKERS) : undefined;
    if (clustered) stops.unshift(() => stopChild(clustered.child));
    const nginx = await startNginx(runDir, stack.chromaUrl);
    stops.unshift(() => void nginx.child.kill('SIGTERM'));
    const node = await startNodeProxy(root, stack.chromaUrl);
    stops.unshift(() => void node.child.kill('SIGTERM'));

    const masked = await fetchDemoToken(stack.oidcIssuer, { username: 'alice', password: 'alice-dev-password' });
    const exempt = await fetchDemoToken(stack.oidcIssuer, { username: 'carol', password: 'carol-dev-password' });
    const rand = mulberry32(11);
    const query = JSON.stringify({ query_embeddings: [Array.from({ length: DIM }, () => rand())], n_results: 10, include: ['documents', 'metadatas', 'distances'] });
    const queryPath = `/api/v2/tenants/default_tenant/databases/default_database/collections/${collectionId}/query`;
    const origins: Record<Side, string> = {
      direct: stack.chromaUrl,
      nginx: `http://127.0.0.1:${nginx.port}`,
      node: `http://127.0.0.1:${node.port}`,
      gateway: `http://127.0.0.1:${gateway.port}`,
      baseline: `http://127.0.0.1:${baseline?.port ?? 0}`,
      cluster: `http://127.0.0.1:${clustered?.port ?? 0}`,
    };
    const pids: Record<Side, () => number[]> = {
      direct: () => [],
      nginx: nginx.pids,
      node: () => [node.child.pid as number],
      gateway: () => [gateway.child.pid as number],
      baseline: () => (baseline ? [baseline.child.pid as number] : []),
      // the primary (it accepts and hands out connections) and its workers
      cluster: () => (clustered ? withChildren(clustered.child.pid as number) : []),
    };

    if (mode === 'soak') {
      await soak(origins.gateway, { name: 'query, masked caller', method: 'POST', path: queryPath, body: query, connections: 16, token: masked }, gateway.child.pid as number, root);
      return;
    }

    const all: Case[] = [
      { name: 'GET /api/v2/version, c=32', method: 'GET', path: '/api/v2/version', connections: 32, token: masked },
      { name: 'query, masked caller, c=16', method: 'POST', path: queryPath, body: query, connections: 16, token: masked },
      { name: 'query, exempt caller, c=16', method: 'POST', path: queryPath, body: query, connections: 16, token: exempt },
      { name: 'query, masked caller, serial c=1', method: 'POST', path: queryPath, body: query, connections: 1, token: masked },
    ];
    const cases = all.filter((c) => !env.BENCH_CASES || env.BENCH_CASES.split(',').some((part) => c.name.includes(part)));
    const runs = new Map<string, Record<Side, Run[]>>(cases.map((c) => [c.name, { direct: [], nginx: [], node: [], gateway: [], baseline: [], cluster: [] }]));
    const loadAverageAtStart = loadavg();
    // warm up every path: connections, JIT, the gateway's JWKS, collection directory and token cache
    for (const c of cases) for (const side of SIDES) await load(origins[side], c, side, 2, []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of cases) {
        // the side that goes first changes each round
        const order = SIDES.map((_, i) => SIDES[(i + round) % SIDES.length] as Side);
        for (const side of order) runs.get(c.name)?.[side].push(await load(origins[side], c, side, SECONDS, pids[side]()));
      }
    }
    const results = cases.map((c) => summarise(c, runs.get(c.name) as Record<Side, Run[]>));
    printTable(results);
    const out = {
      date: new Date().toISOString(),
      conditions: {
        node: process.version,
        cores: cpus().length,
        cpu: cpus()[0]?.model,
        loadAverageAtStart,
        loadAverageAtEnd: loadavg(),
        rounds: ROUNDS,
        secondsPerRound: SECONDS,
        records: RECORDS,
        dimension: DIM,
        nginx: 'one worker, upstream keepalive 64, access log off',
        nodeProxy: 'bench/node-proxy.ts: node:http server, undici pool of 64, answer piped, nothing checked or recorded',
        gateway: 'config/demo.yaml: spool synced before each answer, checkpoints every 100 events or 5 s, masking; volume windows and approvals left out',
        loadGenerator: 'autocannon in the bench process, on the same machine',
        ...(WORKERS ? { cluster: `the same gateway with --workers ${WORKERS} (node:cluster, round-robin hand-off by the primary); CPU is primary + workers` } : {}),
      },
      cases: results,
      targets: results.length === 4 ? targets(results) : [],
    };
    // a partial or altered run (some cases, the spool unsynced, a profiler attached) is printed, not filed as the day's result
    const partial = cases.length !== all.length || env.BENCH_SPOOL_SYNC === 'false' || env.BENCH_NODE_ARGS !== undefined || WORKERS !== undefined;
    const dir = join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${out.date.slice(0, 10)}-gateway${partial ? '-partial' : ''}.json`);
    writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`\nwritten to ${file}`);
    for (const t of out.targets) console.log(`  ${t.met ? 'met    ' : 'NOT met'}  ${t.target}: ${t.measured}`);
  } finally {
    for (const stop of stops) await stop();
  }
}

/** 2,000 records of dimension 384; a third carry an e-mail address or phone number in the text, all one in metadata. */
async function loadCollection(chromaUrl: string): Promise<string> {
  const url = new URL(chromaUrl);
  const chroma = new ChromaClient({ host: url.hostname, port: Number(url.port) });
  const collection = await chroma.getOrCreateCollection({ name: 'docs-bench', embeddingFunction: null as unknown as undefined });
  const rand = mulberry32(7);
  for (let start = 0; start < RECORDS; start += 500) {
    const ids = Array.from({ length: 500 }, (_, i) => `r${start + i}`);
    await collection.upsert({
      ids,
      embeddings: ids.map(() => Array.from({ length: DIM }, () => rand())),
      documents: ids.map((id, i) =>
        i % 3 === 0
          ? `document ${id} about vector search; ask jane.doe${i}@example.com or call +1 415 555 ${String(1000 + i).slice(-4)}`
          : `document ${id} about vector search and gateways, with nothing personal in it at all`,
      ),
      metadatas: ids.map((id, i) => ({ team: `t${i % 7}`, id, email: `owner${i}@example.org` })),
    });
  }
  return collection.id;
}

/** The gateway with the demo's configuration, minus approvals (no Temporal here) and volume windows (a benchmark re-reads the same records). */
async function startGateway(root: string, runDir: string, stack: { chromaUrl: string; mongoUri: string; oidcIssuer: string }, workers?: number) {
  mkdirSync(runDir, { recursive: true });
  const demo = parse(readFileSync(join(root, 'config', 'demo.yaml'), 'utf8')) as Record<string, unknown> & { policy: { rules: Array<Record<string, unknown>> } };
  delete demo.approvals;
  // BENCH_SPOOL_SYNC=false: the spool not synced before each answer, only to show what durability costs
  if (env.BENCH_SPOOL_SYNC === 'false') (demo.audit as { spool: Record<string, unknown> }).spool.sync = false;
  for (const rule of demo.policy.rules) delete rule.volume;
  const configFile = join(runDir, 'gateway.yaml');
  writeFileSync(configFile, stringify(demo));
  const keyFile = join(runDir, 'checkpoint.pem');
  writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const [port, adminPort, demoPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  const child = spawn(process.execPath, [...(env.BENCH_NODE_ARGS ? env.BENCH_NODE_ARGS.split(' ') : []), join(root, 'bin', 'vecgate'), 'gateway', '--config', configFile, ...(workers ? ['--workers', String(workers)] : [])], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...env,
      LOG_LEVEL: 'info',
      OIDC_ISSUER: stack.oidcIssuer,
      CHROMA_URL: stack.chromaUrl,
      MONGODB_URI: stack.mongoUri,
      VECGATE_PORT: String(port),
      VECGATE_ADMIN_PORT: String(adminPort),
      VECGATE_DEMO_PORT: String(demoPort),
      VECGATE_AUDIT_SPOOL: join(runDir, 'spool'),
      VECGATE_CHECKPOINT_KEY_FILE: keyFile,
      VECGATE_CHECKPOINT_DIR: join(runDir, 'checkpoints'),
    },
  });
  await waitFor(`http://127.0.0.1:${adminPort}/readyz`);
  // several workers: /readyz answers once one is ready; wait for all of them
  if (workers) await waitFor(`http://127.0.0.1:${adminPort}/healthz`, (body) => (body as { workers: Array<{ state: string }> }).workers.every((w) => w.state === 'ready'));
  // the connection's own listener: clients use the same paths as against Chroma
  return { child, port: demoPort };
}

/** nginx from Debian's package as a plain keep-alive reverse proxy, one worker, no access log. */
async function startNginx(runDir: string, chromaUrl: string): Promise<{ child: ChildProcess; port: number; pids: () => number[] }> {
  const binary = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
  if (!binary) throw new Error('nginx is not installed: `npm run bench` installs it (apt-get install nginx-light) when run as root');
  const port = await findFreePort();
  const dir = join(runDir, 'nginx');
  mkdirSync(dir, { recursive: true });
  const upstream = new URL(chromaUrl);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, `
worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
${process.getuid?.() === 0 ? 'user root;' : ''}
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  upstream chroma { server ${upstream.hostname}:${upstream.port}; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://chroma; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`);
  const child = spawn(binary, ['-e', join(dir, 'error.log'), '-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(`http://127.0.0.1:${port}/api/v2/heartbeat`);
  const master = child.pid as number;
  const pids = () => withChildren(master);
  return { child, port, pids };
}

/** The Node.js floor: bench/node-proxy.ts in its own process. */
async function startNodeProxy(root: string, chromaUrl: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await findFreePort();
  const child = spawn(process.execPath, [join(root, 'dist', 'bench', 'node-proxy.js'), String(port), new URL(chromaUrl).origin], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(`http://127.0.0.1:${port}/api/v2/heartbeat`);
  return { child, port };
}

/** One autocannon run against one side; every response's latency is kept (autocannon's own histogram rounds to whole ms). */
async function load(origin: string, c: Case, side: Side, seconds: number, pids: number[]): Promise<Run> {
  const headers: Record<string, string> = { ...(c.body ? { 'content-type': 'application/json' } : {}), ...(side === 'gateway' || side === 'baseline' || side === 'cluster' ? { authorization: `Bearer ${c.token}` } : {}) };
  const latencies: number[] = [];
  const cpuBefore = cpuTime(pids);
  const firstBefore = cpuTime(pids.slice(0, 1));
  const started = performance.now();
  const result = await cannon({ url: `${origin}${c.path}`, method: c.method, headers, ...(c.body ? { body: c.body } : {}), connections: c.connections, duration: seconds }, latencies);
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const [cpuAfter, firstAfter] = [cpuTime(pids), cpuTime(pids.slice(0, 1))];
  return {
    requests: latencies.length,
    errors: result.errors + result.non2xx + result.timeouts,
    seconds: elapsed,
    latencies,
    cpuMs: cpuAfter.totalMs - cpuBefore.totalMs,
    sysMs: cpuAfter.sysMs - cpuBefore.sysMs,
    firstCpuMs: firstAfter.totalMs - firstBefore.totalMs,
  };
}

/** autocannon, with the latency of every response pushed to `latencies` */
function cannon(options: autocannon.Options, latencies: number[]): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (err: unknown, result: autocannon.Result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)));
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => void latencies.push(ms));
  });
}

function summarise(c: Case, runs: Record<Side, Run[]>) {
  const side = (s: Side) => {
    const r = runs[s];
    const requests = r.reduce((n, x) => n + x.requests, 0);
    const latencies = r.flatMap((x) => x.latencies).sort((a, b) => a - b);
    const cpu = r.reduce((n, x) => n + x.cpuMs, 0);
    const sys = r.reduce((n, x) => n + x.sysMs, 0);
    return {
      reqPerSec: round(requests / r.reduce((n, x) => n + x.seconds, 0), 1),
      p50Ms: round(percentile(latencies, 50), 3),
      p99Ms: round(percentile(latencies, 99), 3),
      errors: r.reduce((n, x) => n + x.errors, 0),
      requests,
      ...(s === 'direct' ? {} : { cpuMsPerRequest: round(cpu / requests, 4), cpuSystemShare: round(cpu > 0 ? sys / cpu : 0, 2) }),
      ...(s === 'cluster' ? { primaryCpuMsPerRequest: round(r.reduce((n, x) => n + x.firstCpuMs, 0) / requests, 4) } : {}),
      reqPerSecPerRound: r.map((x) => round(x.requests / x.seconds, 1)),
    };
  };
  const sides = { direct: side('direct'), nginx: side('nginx'), node: side('node'), gateway: side('gateway') };
  const base = BASELINE ? side('baseline') : undefined;
  const clustered = WORKERS ? side('cluster') : undefined;
  return {
    case: c.name,
    connections: c.connections,
    ...sides,
    ...(base ? { baseline: base, gatewayToBaseline: round(sides.gateway.reqPerSec / base.reqPerSec, 3), cpuToBaseline: round((sides.gateway.cpuMsPerRequest ?? 0) / (base.cpuMsPerRequest ?? 1), 3) } : {}),
    ...(clustered
      ? { cluster: { workers: WORKERS, ...clustered }, clusterToGateway: round(clustered.reqPerSec / sides.gateway.reqPerSec, 3), clusterToDirect: round(clustered.reqPerSec / sides.direct.reqPerSec, 3), clusterToNginx: round(clustered.reqPerSec / sides.nginx.reqPerSec, 3) }
      : {}),
    gatewayToDirect: round(sides.gateway.reqPerSec / sides.direct.reqPerSec, 3),
    gatewayToNginx: round(sides.gateway.reqPerSec / sides.nginx.reqPerSec, 3),
    gatewayToNode: round(sides.gateway.reqPerSec / sides.node.reqPerSec, 3),
    gatewayAddedP50Ms: round(sides.gateway.p50Ms - sides.direct.p50Ms, 3),
    nginxAddedP50Ms: round(sides.nginx.p50Ms - sides.direct.p50Ms, 3),
  };
}

type Summary = ReturnType<typeof summarise>;

function printTable(results: Summary[]): void {
  console.log(`\nvecgate gateway vs nginx vs direct Chroma (${RECORDS} x ${DIM} points), ${ROUNDS} rounds x ${SECONDS} s per case and side; Node ${process.version}, ${cpus().length} cores shared with the load generator, Chroma, nginx and the audit store; load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('| request | direct req/s | nginx req/s | node proxy req/s | gateway req/s | gw/direct | gw/nginx | gw/node | p50 direct / nginx / node / gateway (ms) | p99 direct / nginx / node / gateway (ms) | CPU ms/req nginx / node / gateway (system share) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const cpu = (s: { cpuMsPerRequest?: number; cpuSystemShare?: number }) => `${s.cpuMsPerRequest} (${Math.round((s.cpuSystemShare ?? 0) * 100)} %)`;
    console.log(
      `| ${r.case} | ${r.direct.reqPerSec} | ${r.nginx.reqPerSec} | ${r.node.reqPerSec} | ${r.gateway.reqPerSec} | ${r.gatewayToDirect}x | ${r.gatewayToNginx}x | ${r.gatewayToNode}x | ` +
        `${r.direct.p50Ms} / ${r.nginx.p50Ms} / ${r.node.p50Ms} / ${r.gateway.p50Ms} | ${r.direct.p99Ms} / ${r.nginx.p99Ms} / ${r.node.p99Ms} / ${r.gateway.p99Ms} | ${cpu(r.nginx)} / ${cpu(r.node)} / ${cpu(r.gateway)} |`,
    );
  }
  for (const r of results) {
    if (r.cluster) console.log(`${r.case}: gateway x${r.cluster.workers} ${r.cluster.reqPerSec} req/s (${r.clusterToGateway}x one process, ${r.clusterToDirect}x direct, ${r.clusterToNginx}x nginx), p50 ${r.cluster.p50Ms} ms, p99 ${r.cluster.p99Ms} ms, CPU ${r.cluster.cpuMsPerRequest} ms/req (primary + workers; the primary alone ${r.cluster.primaryCpuMsPerRequest})`);
    if (r.baseline) console.log(`${r.case}: baseline ${r.baseline.reqPerSec} req/s, p50 ${r.baseline.p50Ms} ms, CPU ${r.baseline.cpuMsPerRequest} ms/req; this build / baseline: ${r.gatewayToBaseline}x req/s, ${r.cpuToBaseline}x CPU per request`);
  }
  const errors = results.flatMap((r) => SIDES.filter((s) => (r[s]?.errors ?? 0) > 0).map((s) => `${r.case} ${s}: ${r[s]?.errors}`));
  if (errors.length) console.log(`errors or non-2xx answers: ${errors.join('; ')}`);
}

function targets(results: Summary[]) {
  const [version, masked, exempt, serial] = results as [Summary, Summary, Summary, Summary];
  return [
    { target: 'trivial endpoint: gateway >= 0.5x nginx req/s at c=32', measured: `${version.gatewayToNginx}x`, met: version.gatewayToNginx >= 0.5 },
    { target: 'query, masked caller: gateway >= 0.9x direct at c=16', measured: `${masked.gatewayToDirect}x`, met: masked.gatewayToDirect >= 0.9 },
    { target: 'query, exempt caller: gateway >= 0.9x direct at c=16', measured: `${exempt.gatewayToDirect}x`, met: exempt.gatewayToDirect >= 0.9 },
    { target: 'query at c=1: added p50 <= 1 ms', measured: `${serial.gatewayAddedP50Ms} ms`, met: serial.gatewayAddedP50Ms <= 1 },
    { target: 'gateway CPU <= 0.15 ms per trivial request', measured: `${version.gateway.cpuMsPerRequest} ms`, met: (version.gateway.cpuMsPerRequest ?? Infinity) <= 0.15 },
  ];
}

/** Finds the peak, then holds a share of it with a fixed request rate; p99 and memory per minute. */
async function soak(origin: string, c: Case, pid: number, root: string): Promise<void> {
  const seconds = Number(env.BENCH_SOAK_SECONDS ?? 600);
  const share = Number(env.BENCH_SOAK_SHARE ?? 0.8);
  await load(origin, c, 'gateway', 3, []);
  const peak = await load(origin, c, 'gateway', 10, []);
  const rate = Math.max(1, Math.floor((share * peak.requests) / peak.seconds));
  console.log(`soak: peak ${(peak.requests / peak.seconds).toFixed(0)} req/s, holding ${rate} req/s (${share * 100} %) for ${seconds} s, ${c.connections} connections`);
  const minutes: Array<{ minute: number; reqPerSec: number; p50Ms: number; p99Ms: number; errors: number; rssMiB: number }> = [];
  const slice = Math.min(60, seconds);
  for (let t = 0; t < seconds; t += slice) {
    const latencies: number[] = [];
    const result = await cannon({ url: `${origin}${c.path}`, method: c.method, headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}` }, body: c.body, connections: c.connections, duration: slice, overallRate: rate }, latencies);
    latencies.sort((a, b) => a - b);
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    const row = { minute: t / slice + 1, reqPerSec: round(latencies.length / slice, 1), p50Ms: round(percentile(latencies, 50), 3), p99Ms: round(percentile(latencies, 99), 3), errors: result.errors + result.non2xx + result.timeouts, rssMiB: round(rss, 1) };
    minutes.push(row);
    console.log(`  ${JSON.stringify(row)}`);
  }
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().slice(0, 10)}-soak.json`);
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cores: cpus().length, case: c.name, peakReqPerSec: round(peak.requests / peak.seconds, 1), rate, seconds, minutes }, null, 2)}\n`);
  console.log(`written to ${file}`);
}

/** SIGTERM, and wait (at most 15 s) for the gateway to flush its trail before MongoDB goes away */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** user + system CPU time of processes, and the system part, from /proc (Linux), in ms */
function cpuTime(pids: number[]): { totalMs: number; sysMs: number } {
  let user = 0;
  let sys = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    user += Number(fields[11]);
    sys += Number(fields[12]);
  }
  return { totalMs: ((user + sys) * 1000) / 100, sysMs: (sys * 1000) / 100 };
}

/** a process and its direct children (nginx's workers, a gateway primary's workers), from /proc */
function withChildren(pid: number): number[] {
  return [pid, ...readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)];
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

async function waitFor(url: string, accept: (body: unknown) => boolean = () => true): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const res = await fetch(url);
      if (res.ok && accept(await res.json())) return;
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

/**
 * The approval path on real servers, timed and weighed: the dev stack (Temporal, FerretDB, Chroma,
 * the demo OpenID provider), a local FakeSlack, and `vecgate worker` and `vecgate gateway` as
 * child processes with one configuration. Printed, with the conditions (no pass/fail):
 *  1. request sent to the gateway -> approval message posted (FakeSlack's chat.postMessage), p50/p99,
 *     one at a time and BENCH_CONCURRENCY at a time (requests held, holdSeconds BENCH_HOLD_SECONDS);
 *  2. Approve click (signed POST to the worker's Slack app) -> the held request reaching Chroma
 *     (a recording hop between gateway and Chroma), p50/p99;
 *  3. RSS of the worker and the gateway (and main-isolate heap after a forced GC) idle, with
 *     BENCH_PENDING_SMALL and with BENCH_PENDING_LARGE approvals pending, and the ratio; the
 *     approvals are asked through the gateway with holdSeconds 0 (each answers APPROVAL_PENDING at
 *     once), in a fresh worker, gateway and FakeSlack.
 * Run: `npx tsc -p tsconfig.build.json && node dist/bench/approvals.js`.
 * Settings: BENCH_POST_REQUESTS (200), BENCH_APPROVALS (100), BENCH_CONCURRENCY (8),
 * BENCH_HOLD_SECONDS (15), BENCH_PENDING_SMALL (1000), BENCH_PENDING_LARGE (10000),
 * BENCH_FILL_CONCURRENCY (16), BENCH_SETTLE_SECONDS (10), BENCH_POST_WAIT_SECONDS (1800),
 * BENCH_NODE_ARGS (node flags for both children), BENCH_SKIP_MEMORY=1 (parts 1 and 2 only).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ChromaClient } from 'chromadb';
import { MongoClient } from 'mongodb';
import { Pool } from 'undici';
import { stringify } from 'yaml';
import { fetchDemoToken, findProjectRoot, readDevStackEnv, startDevStack, type DevStack } from '../src/devstack';
import type { FakeSlack } from '../src/devstack/fake-slack';
import { findFreePort } from '../src/devstack/ports';
import { percentile } from './load';
import { answers, sleep, spawnVecgate, type ChildMemory, type ProcStatus, type VecgateProcess } from './approvals-processes';
import { APPROVER, BOT_TOKEN, DECIDER, CHANNEL, clickApprove, PostWatcher, reasonFor, SIGNING_SECRET, startFakeSlack, TEAM } from './approvals-slack';
import { startRecordingHop, type RecordingHop, type UpstreamArrival } from './approvals-tap';

const env = process.env;
const num = (name: string, fallback: number) => (env[name] !== undefined && env[name] !== '' ? Number(env[name]) : fallback);
const POST_REQUESTS = num('BENCH_POST_REQUESTS', 200);
const APPROVALS = num('BENCH_APPROVALS', 100);
const CONCURRENCY = num('BENCH_CONCURRENCY', 8);
const HOLD_SECONDS = num('BENCH_HOLD_SECONDS', 15);
const PENDING_SMALL = num('BENCH_PENDING_SMALL', 1000);
const PENDING_LARGE = num('BENCH_PENDING_LARGE', 10_000);
const FILL_CONCURRENCY = num('BENCH_FILL_CONCURRENCY', 16);
const SETTLE_SECONDS = num('BENCH_SETTLE_SECONDS', 10);
const POST_WAIT_SECONDS = num('BENCH_POST_WAIT_SECONDS', 1800);
const SKIP_MEMORY = env.BENCH_SKIP_MEMORY === '1';
const NODE_ARGS = env.BENCH_NODE_ARGS ? env.BENCH_NODE_ARGS.split(' ').filter(Boolean) : [];
const WARMUP = 5;
/** one request's wait for its approval message, in parts 1 and 2 */
const POST_TIMEOUT_MS = 60_000;
const NO_EMBEDDING = null as unknown as undefined;
const MiB = 1024 * 1024;

const log = (line: string) => process.stderr.write(`[approvals bench] ${line}\n`);

/** Things to stop, last started first; each once, also on failure and on SIGINT/SIGTERM. */
class Stops {
  private readonly items: Array<{ name: string; fn: () => Promise<unknown> | unknown }> = [];
  private running: Promise<void> | undefined;

  add(name: string, fn: () => Promise<unknown> | unknown): void {
    this.items.push({ name, fn });
  }

  /** stops one early (a phase's processes), in the same once-only way */
  async run(name: string): Promise<void> {
    const i = this.items.findIndex((s) => s.name === name);
    if (i < 0) return;
    const [item] = this.items.splice(i, 1);
    await this.call(item as { name: string; fn: () => unknown });
  }

  all(): Promise<void> {
    this.running ??= (async () => {
      while (this.items.length > 0) await this.call(this.items.pop() as { name: string; fn: () => unknown });
    })();
    return this.running;
  }

  private async call(item: { name: string; fn: () => unknown }): Promise<void> {
    try {
      await item.fn();
    } catch (err) {
      log(`stopping ${item.name} failed: ${String(err)}`);
    }
  }
}

interface Answer {
  status: number;
  code: string;
  text: string;
}

interface Phase {
  label: string;
  slack: FakeSlack;
  watcher: PostWatcher;
  worker: VecgateProcess;
  gateway: VecgateProcess;
  slackAppUrl: string;
  taskQueue: string;
  send(n: number, signal?: AbortSignal): Promise<Answer>;
}

interface Context {
  root: string;
  runDir: string;
  stack: DevStack;
  hop: RecordingHop;
  collectionId: string;
  database: string;
  token(): Promise<string>;
  stops: Stops;
  taskQueues: string[];
}

let counter = 0;
/** every request is distinct (its own approval): `limit` and the reason carry its number */
const nextRequest = () => ++counter;

async function main(): Promise<void> {
  const started = Date.now();
  const loadBefore = loadavg();
  const root = findProjectRoot();
  const devEnv = readDevStackEnv(env);
  const runDir = mkdtempSync(join(tmpdir(), 'vecgate-bench-approvals-'));
  const stops = new Stops();
  /** all of it after a good run; after a failure the servers' data, keeping the logs and configurations */
  const tidy = (ok: boolean) => {
    if (ok) return rmSync(runDir, { recursive: true, force: true });
    for (const data of ['temporal', 'ferretdb', 'chroma', 'oidc']) rmSync(join(runDir, data), { recursive: true, force: true });
    log(`logs kept in ${join(runDir, 'logs')}`);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping everything`);
    void stops
      .all()
      .then(() => tidy(false))
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let ok = false;
  try {
    log(`starting the dev stack in ${runDir}`);
    const stack = await startDevStack({ runDir, cacheDir: devEnv.cacheDir, external: devEnv.external });
    stops.add('dev stack', () => stack.stop());
    const hop = await startRecordingHop(stack.chromaUrl);
    stops.add('recording hop', () => hop.close());

    const suffix = randomBytes(4).toString('hex');
    const chroma = new ChromaClient({ host: new URL(stack.chromaUrl).hostname, port: Number(new URL(stack.chromaUrl).port) });
    const collectionName = `docs-bench-approvals-${suffix}`;
    const collection = await chroma.createCollection({ name: collectionName, embeddingFunction: NO_EMBEDDING });
    const ids = Array.from({ length: 20 }, (_, i) => `r${i}`);
    await collection.add({ ids, embeddings: ids.map((_, i) => [i, 1, 0, 0]), documents: ids.map((id) => `record ${id}`) });
    const database = `vecgate_bench_approvals_${suffix}`;
    const taskQueues: string[] = [];
    if (!stack.started.includes('chroma')) stops.add('bench collection', () => chroma.deleteCollection({ name: collectionName }));
    if (!stack.started.includes('mongo')) stops.add('bench database', () => dropDatabase(stack.mongoUri, database));
    if (!stack.started.includes('temporal')) stops.add('bench workflows', () => terminateWorkflows(stack.temporalAddress, taskQueues));

    let token: Promise<string> | undefined;
    let tokenAt = 0;
    const ctx: Context = {
      root,
      runDir,
      stack,
      hop,
      collectionId: collection.id,
      database,
      stops,
      taskQueues,
      // alice's token lives an hour; a fresh one every 20 minutes, one fetch for all callers
      token() {
        if (!token || Date.now() - tokenAt > 20 * 60_000) {
          tokenAt = Date.now();
          token = fetchDemoToken(stack.oidcIssuer, { username: 'alice', password: 'alice-dev-password' });
          token.catch(() => {
            tokenAt = 0;
          });
        }
        return token;
      },
    };
    mkdirSync(join(runDir, 'logs'), { recursive: true });

    // ---- parts 1 and 2: held requests ----
    const a = await startPhase(ctx, 'latency', HOLD_SECONDS);
    log(`warm-up: ${WARMUP} approvals end to end`);
    await approveHeld(ctx, a, WARMUP);
    log(`part 1: ${POST_REQUESTS} requests one at a time`);
    const postSerial = await timeToPost(a, 1, POST_REQUESTS);
    log(`part 1: ${POST_REQUESTS} requests, ${CONCURRENCY} at a time`);
    const postConcurrent = await timeToPost(a, CONCURRENCY, POST_REQUESTS);
    log(`part 2: ${APPROVALS} approvals of held requests`);
    const approved = await approveHeld(ctx, a, APPROVALS);
    const slackCallsA = a.watcher.callCounts();
    await stops.run('latency phase');

    // ---- part 3: memory with approvals pending ----
    const memory = SKIP_MEMORY ? undefined : await memoryWithPending(ctx);

    const finished = Date.now();
    report({ postSerial, postConcurrent, approved, slackCallsA, memory, loadBefore, loadAfter: loadavg(), seconds: (finished - started) / 1000, stack });
    ok = true;
  } finally {
    await stops.all();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    tidy(ok);
  }
}

/** A worker and a gateway (one configuration) and a FakeSlack of their own. */
async function startPhase(ctx: Context, label: string, holdSeconds: number): Promise<Phase> {
  const { stack, stops } = ctx;
  const slack = await startFakeSlack();
  const watcher = new PostWatcher(slack);
  const taskQueue = `bench-approvals-${label}-${randomBytes(3).toString('hex')}`;
  ctx.taskQueues.push(taskQueue);
  const [port, adminPort, slackPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  const configFile = join(ctx.runDir, `approvals-${label}.yaml`);
  writeFileSync(configFile, stringify({
    gateway: { listen: { port }, adminListen: { port: adminPort } },
    identity: { issuer: stack.oidcIssuer, audience: 'vecgate' },
    connections: [{ name: 'demo', dialect: 'chroma', upstream: ctx.hop.url }],
    policy: {
      rules: [
        { id: 'everyone-meta', groups: ['*'], operations: ['meta'], effect: 'allow' },
        { id: 'scientists-use-docs', groups: ['data-scientists'], connections: ['demo'], collections: ['docs-*'], operations: ['search', 'read', 'write'], effect: 'allow' },
        {
          id: 'scientists-bulk-needs-approval',
          groups: ['data-scientists'],
          connections: ['demo'],
          collections: ['docs-*'],
          operations: ['export', 'delete', 'schema'],
          effect: 'review',
          // pending for the whole run: no expiry (and its message edit) may fall inside it
          approval: { approverGroups: ['data-stewards'], required: 1, timeoutSeconds: 6 * 3600, usableForSeconds: 900, reasonRequired: true },
        },
      ],
    },
    audit: { mongodbUri: stack.mongoUri, database: ctx.database, spool: { dir: mkdtempSync(join(tmpdir(), 'vecgate-bench-office-')) } },
    approvals: {
      temporal: { address: stack.temporalAddress, namespace: 'default', taskQueue },
      deciderPublicKeys: [DECIDER.publicKeyPem],
      holdSeconds,
      slack: { mode: 'http', workspace: TEAM, channel: CHANNEL, channelName: '#data-approvals', apiUrl: slack.apiUrl, listen: { host: '127.0.0.1', port: slackPort }, bindings: [APPROVER] },
    },
  }));

  const logDir = join(ctx.runDir, 'logs');
  const worker = spawnVecgate({ root: ctx.root, command: 'worker', configFile, logDir, label, nodeArgs: NODE_ARGS, env: { SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, VECGATE_DECISION_SIGNING_KEY: DECIDER.privateKeyPem } });
  const gateway = spawnVecgate({ root: ctx.root, command: 'gateway', configFile, logDir, label, nodeArgs: NODE_ARGS });
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 256 });
  stops.add(`${label} phase`, async () => {
    await gateway.stop();
    await worker.stop();
    await pool.close();
    watcher.stop();
    await slack.stop();
  });
  const slackAppUrl = `http://127.0.0.1:${slackPort}`;
  await Promise.all([gateway.ready(answers(`http://127.0.0.1:${adminPort}/readyz`, (s) => s === 200), 60_000), worker.ready(answers(slackAppUrl, () => true), 180_000)]);
  log(`${label}: worker pid ${worker.pid}, gateway pid ${gateway.pid}, holdSeconds ${holdSeconds}, task queue ${taskQueue}`);

  const path = `/c/demo/api/v2/tenants/default_tenant/databases/default_database/collections/${ctx.collectionId}/get`;
  return {
    label,
    slack,
    watcher,
    worker,
    gateway,
    slackAppUrl,
    taskQueue,
    async send(n, signal) {
      const res = await pool.request({
        method: 'POST',
        path,
        headers: { authorization: `Bearer ${await ctx.token()}`, 'content-type': 'application/json', 'x-vecgate-reason': reasonFor(n) },
        body: JSON.stringify({ limit: n }),
        ...(signal ? { signal } : {}),
      });
      const text = await res.body.text();
      return { status: res.statusCode, code: String(res.headers['x-vecgate-error'] ?? ''), text };
    },
  };
}

/** Part 1: from sending a held request to its approval message; the caller then goes away. */
async function timeToPost(phase: Phase, concurrency: number, count: number): Promise<number[]> {
  const latencies: number[] = [];
  let issued = 0;
  const loop = async () => {
    while (issued < count) {
      issued += 1;
      const n = nextRequest();
      const abort = new AbortController();
      const sentAt = Date.now();
      const answer = phase.send(n, abort.signal).catch((err: unknown) => ({ status: 0, code: 'CLIENT', text: String(err) }));
      const post = await waitForPost(phase, n, answer);
      latencies.push(post.at - sentAt);
      abort.abort();
      await answer;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return latencies.sort((x, y) => x - y);
}

async function waitForPost(phase: Phase, n: number, answer: Promise<Answer>) {
  try {
    return await phase.watcher.wait(n, POST_TIMEOUT_MS);
  } catch (err) {
    const early = await Promise.race([answer, sleep(10).then(() => undefined)]);
    throw new Error(`${String(err)}; the gateway ${early ? `answered ${early.status} ${early.code} ${early.text.slice(0, 300)}` : 'has not answered'}`, { cause: err });
  }
}

interface ApprovalTimes {
  /** click sent -> the held request's head reaches Chroma (through the hop), ms */
  toUpstream: number[];
  /** click sent -> the Slack app's HTTP answer (Bolt acks before deciding), ms */
  clickAck: number[];
  /** click sent -> the caller has the records, ms */
  toCaller: number[];
  /** request sent -> approval message, ms (these requests too) */
  toPost: number[];
}

/** Part 2: held requests, each approved in Slack once its message is there; one at a time. */
async function approveHeld(ctx: Context, phase: Phase, count: number): Promise<ApprovalTimes> {
  const times: ApprovalTimes = { toUpstream: [], clickAck: [], toCaller: [], toPost: [] };
  for (let i = 0; i < count; i++) {
    const n = nextRequest();
    const sentAt = Date.now();
    const answer = phase.send(n).catch((err: unknown) => ({ status: 0, code: 'CLIENT', text: String(err) }));
    const post = await waitForPost(phase, n, answer);
    times.toPost.push(post.at - sentAt);
    const upstream = ctx.hop.next((arrival) => isExportOf(arrival, n), POST_TIMEOUT_MS);
    void upstream.catch(() => undefined);
    const clickedAt = performance.now();
    const click = await clickApprove(phase.slack, phase.slackAppUrl, post.approvalId, n);
    if (click.status !== 200) throw new Error(`the Slack app answered the click with ${click.status}: ${click.text}`);
    const arrival = await upstream.catch((err: unknown) => {
      const said = phase.slack.responses.at(-1)?.body.text;
      throw new Error(`${String(err)} after the approve click${said ? `; the Slack app told the approver: ${String(said)}` : ''}`, { cause: err });
    });
    const res = await answer;
    const answeredAt = performance.now();
    if (res.status !== 200) throw new Error(`approved request ${n} answered ${res.status} ${res.code}: ${res.text.slice(0, 300)}`);
    times.toUpstream.push(arrival.at - clickedAt);
    times.clickAck.push(click.elapsedMs);
    times.toCaller.push(answeredAt - clickedAt);
  }
  for (const list of Object.values(times)) list.sort((x: number, y: number) => x - y);
  return times;
}

function isExportOf(arrival: UpstreamArrival, n: number): boolean {
  if (arrival.method !== 'POST' || !arrival.url.endsWith('/get')) return false;
  try {
    return (JSON.parse(arrival.body) as { limit?: unknown }).limit === n;
  } catch {
    return false;
  }
}

interface MemoryRow {
  label: string;
  pending: number;
  worker: ProcStatus & { heapUsed: number };
  gateway: ProcStatus & { heapUsed: number };
}

interface MemoryResult {
  rows: MemoryRow[];
  /** per fill: requests sent, seconds until all were answered and until all approvals were posted, errors among them, posted in all */
  fills: Array<{ to: number; asked: number; seconds: number; postedAfterSeconds: number; errors: number; posted: number }>;
  /** request sent -> approval message, during the fills, per fill */
  postDuringFill: Array<{ to: number; latencies: number[] }>;
  /** every 15 s during the fills: approvals posted, RSS of worker and gateway (no settling, no GC) */
  curve: Array<{ posted: number; worker: number; gateway: number }>;
  heapLimit: number;
  gcForced: boolean;
  slackCalls: Record<string, number>;
  errorSamples: string[];
}

/** Part 3: approvals left pending, asked through a gateway that does not hold (holdSeconds 0). */
async function memoryWithPending(ctx: Context): Promise<MemoryResult> {
  const b = await startPhase(ctx, 'memory', 0);
  const result: MemoryResult = { rows: [], fills: [], postDuringFill: [], curve: [], heapLimit: NaN, gcForced: false, slackCalls: {}, errorSamples: [] };
  const sentAt = new Map<number, number>();
  const pendingNs: number[] = [];
  let errors = 0;

  const measure = async (label: string) => {
    log(`memory: settling ${SETTLE_SECONDS} s, then measuring (${label}: ${b.watcher.posted} approvals posted, pending)`);
    await sleep(SETTLE_SECONDS * 1000);
    const [wm, gm]: [ChildMemory, ChildMemory] = await Promise.all([b.worker.memory(), b.gateway.memory()]);
    result.heapLimit = wm.heapLimit;
    result.gcForced = wm.gcForced && gm.gcForced;
    await sleep(500);
    // an approval is pending once asked (posted), also when its caller got an error meanwhile
    result.rows.push({ label, pending: b.watcher.posted, worker: { ...b.worker.status(), heapUsed: wm.heapUsed }, gateway: { ...b.gateway.status(), heapUsed: gm.heapUsed } });
  };

  await measure('idle');
  for (const target of [PENDING_SMALL, PENDING_LARGE]) {
    if (target <= pendingNs.length) continue;
    const began = performance.now();
    const fromN = counter + 1;
    const errorsBefore = errors;
    let issued = pendingNs.length + errors;
    const progress = setInterval(() => {
      const s = (performance.now() - began) / 1000;
      let w = '';
      try {
        const sample = { posted: b.watcher.posted, worker: b.worker.status().rss, gateway: b.gateway.status().rss };
        result.curve.push(sample);
        w = `; RSS worker ${(sample.worker / MiB).toFixed(0)} MiB, gateway ${(sample.gateway / MiB).toFixed(0)} MiB`;
      } catch {
        // a child that has gone is reported by the next step
      }
      log(`memory: ${pendingNs.length}/${target} answered APPROVAL_PENDING after ${s.toFixed(0)} s (${errors} errors), ${b.watcher.posted} posted${w}`);
    }, 15_000);
    try {
      const loop = async () => {
        while (issued < target + errors) {
          issued += 1;
          const n = nextRequest();
          sentAt.set(n, Date.now());
          const res = await b.send(n).catch((err: unknown) => ({ status: 0, code: 'CLIENT', text: String(err) }));
          if (res.status === 403 && res.code === 'APPROVAL_PENDING') pendingNs.push(n);
          else {
            errors += 1;
            if (result.errorSamples.length < 5) result.errorSamples.push(`${res.status} ${res.code} ${res.text.slice(0, 200)}`);
            if (errors > 100 && errors > pendingNs.length) throw new Error(`most requests fail: ${result.errorSamples.join(' | ')}`);
          }
        }
      };
      await Promise.all(Array.from({ length: FILL_CONCURRENCY }, loop));
      const filled = (performance.now() - began) / 1000;
      const deadline = Date.now() + POST_WAIT_SECONDS * 1000;
      while (b.watcher.posted < pendingNs.length && Date.now() < deadline) await sleep(200);
      const postedAfter = (performance.now() - began) / 1000;
      result.fills.push({ to: target, asked: counter + 1 - fromN, seconds: filled, postedAfterSeconds: postedAfter, errors: errors - errorsBefore, posted: b.watcher.posted });
      const latencies = pendingNs.filter((n) => n >= fromN).flatMap((n) => {
        const post = b.watcher.get(n);
        return post ? [post.at - (sentAt.get(n) as number)] : [];
      });
      result.postDuringFill.push({ to: target, latencies: latencies.sort((x, y) => x - y) });
      log(`memory: ${pendingNs.length} pending asked in ${filled.toFixed(1)} s, ${b.watcher.posted} posted after ${postedAfter.toFixed(1)} s`);
    } finally {
      clearInterval(progress);
    }
    await measure(String(target));
  }
  result.slackCalls = b.watcher.callCounts();
  await ctx.stops.run('memory phase');
  return result;
}

function report(r: {
  postSerial: number[];
  postConcurrent: number[];
  approved: ApprovalTimes;
  slackCallsA: Record<string, number>;
  memory: MemoryResult | undefined;
  loadBefore: number[];
  loadAfter: number[];
  seconds: number;
  stack: DevStack;
}): void {
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const pp = (list: readonly number[]) => `p50 ${ms(percentile(list, 50)).padStart(9)}  p99 ${ms(percentile(list, 99)).padStart(9)}  max ${ms(list[list.length - 1] ?? NaN).padStart(9)}  (n=${list.length})`;
  const la = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  const external = (['temporal', 'mongo', 'chroma', 'oidc'] as const).filter((s) => !r.stack.started.includes(s));
  console.log(`\nApprovals: Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), load average ${la(r.loadBefore)} at start, ${la(r.loadAfter)} at end; ${r.seconds.toFixed(0)} s in all`);
  const local = { temporal: 'Temporal dev server (SQLite)', mongo: 'FerretDB', chroma: 'Chroma', 'chroma-current': 'Chroma (current)', oidc: 'demo OIDC provider' } as const;
  const started = r.stack.started.map((s) => local[s]);
  console.log(`servers: ${started.length ? `${started.join(', ')} started on this machine` : 'none started'}${external.length ? `; external: ${external.join(', ')}` : ''}; FakeSlack and the recording hop in the bench process; gateway and worker are child processes`);
  console.log(`\n1. request sent -> approval message posted (FakeSlack records chat.postMessage, 1 ms clock), held requests (holdSeconds ${HOLD_SECONDS})`);
  console.log(`   one at a time     ${pp(r.postSerial)}`);
  console.log(`   ${String(CONCURRENCY).padStart(2)} at a time     ${pp(r.postConcurrent)}`);
  console.log(`   approved in part 2 ${pp(r.approved.toPost)}`);
  console.log(`   Slack Web API calls in parts 1-2: ${Object.entries(r.slackCallsA).map(([m, c]) => `${m} ${c}`).join(', ')}`);
  console.log(`\n2. Approve click sent -> held request reaches Chroma (through a recording hop), one approval at a time`);
  console.log(`   click -> upstream ${pp(r.approved.toUpstream)}`);
  console.log(`   click -> caller   ${pp(r.approved.toCaller)}`);
  console.log(`   click answered    ${pp(r.approved.clickAck)}`);
  console.log(`   targets (issue): p50 under 300 ms for each step`);
  const m = r.memory;
  if (!m) {
    console.log('\n3. memory: skipped (BENCH_SKIP_MEMORY=1)');
    return;
  }
  const mib = (v: number) => `${(v / MiB).toFixed(1)}`.padStart(8);
  console.log(`\n3. memory with approvals pending (asked through the gateway, holdSeconds 0; settle ${SETTLE_SECONDS} s; heap = main isolate after a forced GC${m.gcForced ? '' : ' (GC NOT forced)'})`);
  console.log(`   ${'state'.padEnd(7)} ${'pending'.padStart(7)}  worker RSS  worker heap  gateway RSS  gateway heap   (MiB; peak RSS worker/gateway)`);
  for (const row of m.rows) {
    console.log(`   ${row.label.padEnd(7)} ${String(row.pending).padStart(7)}  ${mib(row.worker.rss)}    ${mib(row.worker.heapUsed)}     ${mib(row.gateway.rss)}      ${mib(row.gateway.heapUsed)}   (${mib(row.worker.hwm).trim()} / ${mib(row.gateway.hwm).trim()})`);
  }
  const small = m.rows.find((row) => row.label === String(PENDING_SMALL));
  const large = m.rows.find((row) => row.label === String(PENDING_LARGE));
  if (small && large) {
    const x = (a: number, b: number) => `${(a / b).toFixed(3)}x`;
    console.log(`   ratio ${large.pending}/${small.pending} pending: worker RSS ${x(large.worker.rss, small.worker.rss)}, worker heap ${x(large.worker.heapUsed, small.worker.heapUsed)}, gateway RSS ${x(large.gateway.rss, small.gateway.rss)}, gateway heap ${x(large.gateway.heapUsed, small.gateway.heapUsed)}   (target: flat within 10%)`);
  }
  for (const f of m.fills) {
    const lat = m.postDuringFill.find((p) => p.to === f.to)?.latencies ?? [];
    console.log(`   fill to ${f.to}: ${f.asked} requests, ${FILL_CONCURRENCY} at a time, answered in ${f.seconds.toFixed(1)} s (${(f.asked / f.seconds).toFixed(1)}/s), ${f.errors} errors; all posted after ${f.postedAfterSeconds.toFixed(1)} s (${f.posted} posted in all)`);
    console.log(`     request -> post during this fill ${pp(lat)}`);
  }
  if (m.curve.length > 0) {
    const step = Math.max(1, Math.ceil(m.curve.length / 16));
    const points = m.curve.filter((_, i) => i % step === 0 || i === m.curve.length - 1);
    console.log(`   RSS during the fills, MiB at approvals posted (worker / gateway): ${points.map((p) => `${p.posted}: ${(p.worker / MiB).toFixed(0)}/${(p.gateway / MiB).toFixed(0)}`).join(', ')}`);
  }
  if (m.errorSamples.length) console.log(`   error samples: ${m.errorSamples.join(' | ')}`);
  const heapMiB = m.heapLimit / MiB;
  const sdkDefault = Math.max(Math.floor((Math.max(heapMiB - 200, 0) * 600) / 1024), 10);
  console.log(`   worker sticky cache: approvals.maxCachedWorkflows (default 500; the SDK's own default here would be ${sdkDefault}, from the V8 heap limit ${heapMiB.toFixed(0)} MiB); pending workflows beyond it are evicted and replayed from history when needed`);
  console.log(`   Slack Web API calls in part 3: ${Object.entries(m.slackCalls).map(([k, c]) => `${k} ${c}`).join(', ')}`);
}

async function dropDatabase(uri: string, database: string): Promise<void> {
  const mongo = await MongoClient.connect(uri, { serverSelectionTimeoutMS: 5000 });
  try {
    await mongo.db(database).dropDatabase();
  } finally {
    await mongo.close();
  }
}

/** With a Temporal that outlives the bench: end the approvals it left pending. */
async function terminateWorkflows(address: string, taskQueues: readonly string[]): Promise<void> {
  if (taskQueues.length === 0) return;
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    for (const queue of taskQueues) {
      const running: string[] = [];
      for await (const wf of client.workflow.list({ query: `TaskQueue="${queue}" AND ExecutionStatus="Running"` })) running.push(wf.workflowId);
      for (let i = 0; i < running.length; i += 50) {
        await Promise.all(running.slice(i, i + 50).map((id) => client.workflow.getHandle(id).terminate('approvals bench finished').catch(() => undefined)));
      }
      log(`terminated ${running.length} bench approvals on ${queue}`);
    }
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

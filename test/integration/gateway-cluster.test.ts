import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, request } from 'node:http';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChromaClient } from 'chromadb';
import { MongoClient } from 'mongodb';
import { stringify } from 'yaml';
import type { AuditEvent } from '../../src/audit/event';
import type { InstanceDoc } from '../../src/audit/instance-lease';
import { startOrphanGuard, type OrphanGuard } from '../../src/devstack/orphan-guard';
import { findProjectRoot, orphanGuardScript } from '../../src/devstack/paths';
import { findFreePort } from '../../src/devstack/ports';
import { testStack, tokenFor } from '../support/stack';
import { eventually } from './support/eventually';
import { startGatewayProcess, type GatewayProcess } from './support/faults-processes';
import { checkpointKeyFile, TEST_RULES } from './support/gateway';

const NO_EMBEDDING = { generate: () => Promise.reject(new Error('embeddings are given explicitly')) } as never;
const root = findProjectRoot(__dirname);

interface ClusterHealth {
  instanceId: string;
  workers: Array<{ slot: number; instanceId: string; pid: number | null; state: string; restarts: number }>;
}

/** One request on a connection of its own (`connection: close`), so the primary hands each to the next worker. */
function getOnce(port: number, path: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { authorization: `Bearer ${token}`, connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a gateway of two workers (gateway.workers: 2) on one port', () => {
  let guard: OrphanGuard;
  let mongo: MongoClient;
  const dir = mkdtempSync(join(tmpdir(), 'vecgate-cluster-'));
  const database = `vecgate_cluster_${randomBytes(3).toString('hex')}`;
  const configFile = join(dir, 'gateway.yaml');
  let port: number;
  let adminPort: number;
  let demoPort: number;
  let gateway: GatewayProcess | undefined;

  const health = async () => (await (await fetch(`http://127.0.0.1:${adminPort}/healthz`)).json()) as ClusterHealth;
  const requestEvents = () => mongo.db(database).collection<AuditEvent>('audit_events').find({ system: { $exists: false } }).sort({ instanceId: 1, seq: 1 }).toArray();
  const requestsTotal = async () => {
    const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    return text.split('\n').filter((l) => l.startsWith('vecgate_requests_total{')).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  };

  beforeAll(async () => {
    guard = startOrphanGuard(orphanGuardScript(root));
    mongo = await MongoClient.connect(testStack().mongoUri);
    [port, adminPort, demoPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
    writeFileSync(
      configFile,
      stringify({
        gateway: { listen: { port }, adminListen: { port: adminPort }, workers: 2 },
        identity: { issuer: testStack().oidcIssuer, audience: 'vecgate' },
        connections: [{ name: 'demo', dialect: 'chroma', upstream: testStack().chromaUrl, listen: { port: demoPort } }],
        policy: { rules: TEST_RULES },
        audit: { mongodbUri: testStack().mongoUri, database, spool: { dir: join(dir, 'spool') }, leaseSeconds: 3, checkpoints: { keyFile: checkpointKeyFile(), dir: join(dir, 'checkpoints'), everySeconds: 1 } },
      }),
    );
  });
  afterAll(async () => {
    await gateway?.kill();
    guard?.close();
    await mongo?.close();
  });

  test('serves through one port from two audit instances, survives kill -9 of a worker as the same instance, sums metrics, and stops cleanly', async () => {
    gateway = await startGatewayProcess({ configFile, adminUrl: `http://127.0.0.1:${adminPort}`, logFile: join(dir, 'gateway.log'), readyTimeoutMs: 60000, guard });
    const started = await eventually('both workers are ready', 30000, async () => {
      const h = await health();
      return h.workers.every((w) => w.state === 'ready') ? h : undefined;
    });
    const ids = started.workers.map((w) => w.instanceId);
    expect(ids).toEqual([`${started.instanceId}-w1`, `${started.instanceId}-w2`]);

    // the official client, unchanged, against the connection's own port
    const carol = await tokenFor('carol');
    const chroma = new ChromaClient({ host: '127.0.0.1', port: demoPort, headers: { authorization: `Bearer ${carol}` } });
    const collection = await chroma.createCollection({ name: `docs-cluster-${randomBytes(3).toString('hex')}`, embeddingFunction: NO_EMBEDDING });
    await collection.add({ ids: ['a', 'b'], embeddings: [[1, 0, 0], [0, 1, 0]], documents: ['first', 'second'] });
    expect(await collection.count()).toBe(2);
    // and requests on connections of their own, which the primary deals out to both workers
    const statuses = await Promise.all(Array.from({ length: 20 }, () => getOnce(port, '/c/demo/api/v2/version', carol)));
    expect(statuses.every((s) => s === 200)).toBe(true);

    const served = await eventually('the events of both workers are in MongoDB', 20000, async () => {
      const events = await requestEvents();
      return new Set(events.map((e) => e.instanceId)).size === 2 ? events : undefined;
    });
    expect([...new Set(served.map((e) => e.instanceId))].sort()).toEqual(ids);
    // /metrics on the admin port is the whole gateway: both workers' requests, summed
    await eventually('the scrape counts every request of both workers', 10000, async () => ((await requestsTotal()) === (await requestEvents()).length ? true : undefined));
    expect(await requestsTotal()).toBeGreaterThanOrEqual(23);

    // kill -9 one worker: the others keep serving; it comes back as the same instance
    const victim = started.workers[0] as ClusterHealth['workers'][number];
    process.kill(victim.pid as number, 'SIGKILL');
    await eventually('the primary saw the worker die', 10000, async () => ((await health()).workers[0]?.state !== 'ready' ? true : undefined));
    const during = await Promise.all(Array.from({ length: 10 }, () => getOnce(port, '/c/demo/api/v2/version', carol)));
    expect(during.every((s) => s === 200)).toBe(true);
    const restarted = await eventually('the worker is restarted', 30000, async () => {
      const w = (await health()).workers[0];
      return w?.state === 'ready' && w.pid !== victim.pid ? w : undefined;
    });
    expect(restarted).toMatchObject({ slot: 1, instanceId: victim.instanceId });
    // the restarted worker waits at most the lease's length for the killed one's lease to run out;
    // on a loaded machine a renewal landing late can make that attempt fail once and be retried
    expect(restarted.restarts).toBeGreaterThanOrEqual(1);
    const seqBefore = Math.max(...(await requestEvents()).filter((e) => e.instanceId === victim.instanceId).map((e) => e.seq));
    const after = await eventually('the restarted worker serves and records again', 20000, async () => {
      await Promise.all(Array.from({ length: 6 }, () => getOnce(port, '/c/demo/api/v2/version', carol)));
      const mine = (await requestEvents()).filter((e) => e.instanceId === victim.instanceId && e.seq > seqBefore);
      return mine.length > 0 ? mine : undefined;
    });
    expect(after.length).toBeGreaterThan(0);
    const instances = await mongo.db(database).collection<InstanceDoc>('audit_events_instances').find({}).toArray();
    expect(instances.map((i) => i._id).sort()).toEqual(ids);
    const allIds = await mongo.db(database).collection<AuditEvent>('audit_events').distinct('instanceId');
    expect(allIds.sort()).toEqual(ids);

    // SIGTERM to the primary alone, as a service manager sends it: every worker flushes and lets its instance go
    const pids = (await health()).workers.map((w) => w.pid as number);
    process.kill(gateway.pid, 'SIGTERM');
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    expect(pids.filter(alive)).toEqual([]);
    const released = await mongo.db(database).collection<InstanceDoc>('audit_events_instances').find({}).toArray();
    expect(released.map((i) => i.expiresAt.getTime() <= Date.now())).toEqual([true, true]);

    // the chain of each instance verifies, across the crash
    const verify = spawnSync(process.execPath, [join(root, 'bin/vecgate'), 'audit', 'verify', '-c', configFile], { encoding: 'utf8', cwd: root });
    expect(verify.stdout).toContain(ids[0]);
    expect(verify.stdout).toContain(ids[1]);
    expect(verify.status).toBe(0);
  }, 180_000);

  test('Ctrl-C (SIGINT to the whole process group) stops primary and workers cleanly, leases released', async () => {
    gateway = await startGatewayProcess({ configFile, adminUrl: `http://127.0.0.1:${adminPort}`, logFile: join(dir, 'gateway-sigint.log'), readyTimeoutMs: 60000, guard });
    const h = await eventually('both workers are ready', 30000, async () => {
      const x = await health();
      return x.workers.every((w) => w.state === 'ready') ? x : undefined;
    });
    process.kill(-gateway.pid, 'SIGINT');
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    expect(h.workers.map((w) => w.pid as number).filter(alive)).toEqual([]);
    const docs = await mongo.db(database).collection<InstanceDoc>('audit_events_instances').find({}).toArray();
    expect(docs.map((i) => i.expiresAt.getTime() <= Date.now())).toEqual([true, true]);
    expect(readFileSync(join(dir, 'gateway-sigint.log'), 'utf8')).not.toContain('exited unasked');
  }, 90_000);

  test('a bad configuration fails once in the primary, with its key and fix, and forks no worker', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, readFileSync(configFile, 'utf8').replace('workers: 2', 'workers: 2\n  bodyTimeoutMs: 5'));
    const r = spawnSync(process.execPath, [join(root, 'bin/vecgate'), 'gateway', '-c', bad], { encoding: 'utf8', cwd: root, timeout: 20000 });
    expect(r.status).toBe(2);
    expect(r.stderr.match(/gateway\.bodyTimeoutMs/g)).toHaveLength(1);
    expect(r.stdout).not.toContain('worker');
  });

  test('workers that keep failing to start (their port is taken) end the gateway with exit 1 after 3 tries each, not a loop', async () => {
    const taken = createServer();
    const takenPort = await findFreePort();
    await new Promise<void>((resolve) => taken.listen(takenPort, '127.0.0.1', resolve));
    try {
      const file = join(dir, 'taken.yaml');
      const text = readFileSync(configFile, 'utf8')
        .replace(`port: ${port}`, `port: ${takenPort}`)
        .replace(`port: ${adminPort}`, `port: ${await findFreePort()}`)
        .replace(`port: ${demoPort}`, `port: ${await findFreePort()}`)
        .replace(join(dir, 'spool'), join(dir, 'spool-taken'));
      writeFileSync(file, text);
      const log = join(dir, 'taken.log');
      const fd = openSync(log, 'a');
      const child = spawn(process.execPath, [join(root, 'bin/vecgate'), 'gateway', '-c', file, '--log-level', 'warn'], { cwd: root, detached: true, stdio: ['ignore', fd, fd] });
      closeSync(fd);
      guard.track(child.pid as number);
      const exited = await new Promise<{ code: number | null }>((resolve) => child.once('exit', (code) => resolve({ code })));
      guard.untrack(child.pid as number);
      expect(exited.code).toBe(1);
      const lines = readFileSync(log, 'utf8');
      expect(lines).toContain('a worker failed to start 3 times in a row: the gateway stops');
      expect(lines).toContain('EADDRINUSE');
      // two restarts of the slot that gave up (and at most as many of the other): no tight loop
      expect((lines.match(/restarting it as the same audit instance/g) ?? []).length).toBeLessThanOrEqual(4);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 90_000);

  test('a --workers value that is not a number or auto is refused before anything starts', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin/vecgate'), 'gateway', '-c', configFile, '--workers', 'lots'], { encoding: 'utf8', cwd: root, timeout: 20000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--workers: must be a number of worker processes from 1 to 64, or "auto"');
  });
});

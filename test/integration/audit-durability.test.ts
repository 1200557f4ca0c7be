import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChromaClient } from 'chromadb';
import { MongoClient } from 'mongodb';
import { stringify } from 'yaml';
import { createPublicKey, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AuditEvent } from '../../src/audit/event';
import { verifyTrail } from '../../src/audit/verify';
import { startOrphanGuard, type OrphanGuard } from '../../src/devstack/orphan-guard';
import { findProjectRoot, orphanGuardScript } from '../../src/devstack/paths';
import { findFreePort } from '../../src/devstack/ports';
import { testStack, tokenFor } from '../support/stack';
import { eventually } from './support/eventually';
import { startGatewayProcess, type GatewayProcess } from './support/faults-processes';
import { checkpointKeyFile, startTestGateway, TEST_RULES } from './support/gateway';
import { startTap, type Tap } from './support/tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { readDevStackEnv, serverBinaries } from '../../src/devstack';
import { startFerretDb } from '../../src/devstack/ferretdb';

const NO_EMBEDDING = { generate: () => Promise.reject(new Error('embeddings are given explicitly')) } as never;

/** THREATS 29: a gateway killed under write load; after a restart every request the upstream ran has exactly one event. */
describe('the audit trail across a crash (kill -9 under load)', () => {
  let tap: Tap;
  let guard: OrphanGuard;
  let mongo: MongoClient;
  const database = `vecgate_crash_${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'vecgate-crash-'));
  const keyFile = checkpointKeyFile();

  beforeAll(async () => {
    tap = await startTap(testStack().chromaUrl);
    guard = startOrphanGuard(orphanGuardScript(findProjectRoot(__dirname)));
    mongo = await MongoClient.connect(testStack().mongoUri);
  });
  afterAll(async () => {
    guard?.close();
    await tap?.close();
    await mongo?.close();
  });

  test('every upsert the upstream saw has exactly one event, and the trail verifies', async () => {
    const port = await findFreePort();
    const adminPort = await findFreePort();
    const demoPort = await findFreePort();
    const configFile = join(dir, 'gateway.yaml');
    writeFileSync(
      configFile,
      stringify({
        gateway: { listen: { port }, adminListen: { port: adminPort } },
        identity: { issuer: testStack().oidcIssuer, audience: 'vecgate' },
        connections: [{ name: 'demo', dialect: 'chroma', upstream: tap.url, listen: { port: demoPort } }],
        policy: { rules: TEST_RULES },
        audit: { mongodbUri: testStack().mongoUri, database, spool: { dir: join(dir, 'spool') }, leaseSeconds: 3, checkpoints: { keyFile, dir: join(dir, 'checkpoints'), everySeconds: 1 } },
      }),
    );
    const start = () => startGatewayProcess({ configFile, adminUrl: `http://127.0.0.1:${adminPort}`, logFile: join(dir, 'gateway.log'), readyTimeoutMs: 30000, guard });
    let gateway: GatewayProcess = await start();
    const carol = await tokenFor('carol');
    const base = `http://127.0.0.1:${port}/c/demo`;
    const collection = await new ChromaClient({ host: '127.0.0.1', port: demoPort, headers: { authorization: `Bearer ${carol}` } }).createCollection({ name: `docs-crash-${randomBytes(3).toString('hex')}`, embeddingFunction: NO_EMBEDDING });
    const target = `${base}/api/v2/tenants/default_tenant/databases/default_database/collections/${collection.id}/upsert`;

    // 16 writers until the gateway dies under them
    let stop = false;
    let sent = 0;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        sent += 1;
        await fetch(target, {
          method: 'POST',
          headers: { authorization: `Bearer ${carol}`, 'content-type': 'application/json' },
          body: JSON.stringify({ ids: [`w${w}-${i}`], embeddings: [[w, i, 1]], documents: [`writer ${w} record ${i}`] }),
        }).then((r) => r.arrayBuffer(), () => undefined);
      }
    };
    const writers = Array.from({ length: 16 }, (_, w) => writer(w));
    await eventually('the writers are under way', 20000, () => (tap.seen.filter((r) => r.url.endsWith('/upsert')).length >= 150 ? true : undefined), 20);
    await gateway.kill();
    stop = true;
    await Promise.all(writers);

    gateway = await start();
    try {
      const upserts = tap.seen.filter((r) => r.url.endsWith('/upsert'));
      expect(upserts.length).toBeGreaterThanOrEqual(150);
      const events = mongo.db(database).collection<AuditEvent>('audit_events');
      // the restarted gateway ships what its spool kept, intents of interrupted requests included
      const byBody = await eventually('every upsert the upstream saw has its event', 30000, async () => {
        const all = await events.find({ 'request.endpoint': 'chroma.collection_upsert' }).toArray();
        const counts = new Map<string, number>();
        for (const e of all) counts.set(e.request.bodySha256 as string, (counts.get(e.request.bodySha256 as string) ?? 0) + 1);
        return upserts.every((u) => counts.has(u.bodySha256)) ? counts : undefined;
      });
      expect(upserts.filter((u) => byBody.get(u.bodySha256) !== 1)).toEqual([]);
      expect(sent).toBeGreaterThan(upserts.length - 1);

      // and the chain verifies against its signed checkpoints, across the crash
      const verifiers = [{ name: 'vecgate/audit', publicKey: createPublicKey(createPrivateKey(readFileSync(keyFile))) }];
      const report = await eventually('a checkpoint covers the recovered events', 20000, async () => {
        const r = await verifyTrail(mongo.db(database), { collection: 'audit_events', checkpointDir: join(dir, 'checkpoints'), verifiers });
        return r.instances.every((i) => i.findings.length === 0) ? r : undefined;
      });
      expect(report.ok).toBe(true);
    } finally {
      await gateway.kill();
    }
  }, 120_000);

  test('MongoDB away for a minute under write load: served from the spool, then nothing missing or doubled (THREATS 28)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vecgate-ferret-away-'));
    const ferretPort = await findFreePort();
    const startMongo = () =>
      startFerretDb({ binary: serverBinaries(readDevStackEnv(process.env).cacheDir).ferretdb, dataDir, logFile: join(dataDir, 'ferretdb.log'), port: ferretPort, process: { readyTimeoutMs: 30000, stopGraceMs: 3000 } });
    let ferret = await startMongo();
    const gw = await startTestGateway({ upstream: tap.url, mongoUri: ferret.uri });
    const carol = await tokenFor('carol');
    try {
      const collection = await new ChromaClient({ host: gw.host, port: gw.port, headers: { authorization: `Bearer ${carol}` } }).createCollection({ name: `docs-away-${randomBytes(3).toString('hex')}`, embeddingFunction: NO_EMBEDDING });
      const target = `${gw.url}/api/v2/tenants/default_tenant/databases/default_database/collections/${collection.id}/upsert`;
      const before = tap.seen.length;
      let stop = false;
      const statuses = new Map<number, number>();
      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const r = await fetch(target, {
            method: 'POST',
            headers: { authorization: `Bearer ${carol}`, 'content-type': 'application/json' },
            body: JSON.stringify({ ids: [`a${w}-${i}`], embeddings: [[w, i, 2]] }),
          });
          await r.arrayBuffer();
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        }
      };
      const writers = Array.from({ length: 8 }, (_, w) => writer(w));
      await ferret.process.stop();
      await sleep(Number(process.env.VECGATE_TEST_MONGO_AWAY_MS ?? 60_000));
      ferret = await startMongo();
      stop = true;
      await Promise.all(writers);

      // every write was served while MongoDB was away: the spool kept each event
      expect([...statuses.keys()]).toEqual([200]);
      const upserts = tap.seen.slice(before).filter((r) => r.url.endsWith('/upsert'));
      expect(upserts.length).toBe(statuses.get(200));
      const events = await gw.events({ 'request.endpoint': 'chroma.collection_upsert' });
      const counts = new Map<string, number>();
      for (const e of events) counts.set(e.request.bodySha256 as string, (counts.get(e.request.bodySha256 as string) ?? 0) + 1);
      expect(upserts.filter((u) => counts.get(u.bodySha256) !== 1)).toEqual([]);
      const all = await gw.events();
      expect(all.every((e, i) => i === 0 || e.seq === (all[i - 1] as AuditEvent).seq + 1)).toBe(true);
      expect(new Set(all.map((e) => e.requestId)).size).toBe(all.length);
    } finally {
      await gw.close();
      await ferret.process.stop();
    }
  }, 180_000);
});


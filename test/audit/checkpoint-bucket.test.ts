import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { MongoClient, type Db } from 'mongodb';
import pino from 'pino';
import { stringify } from 'yaml';
import { bucketKey, checkpointBucketClient, notesInBucket, type CheckpointBucketSettings } from '../../src/audit/checkpoint-bucket';
import { checkpointText, signNote } from '../../src/audit/checkpoint';
import type { CheckpointRecord } from '../../src/audit/checkpoint-store';
import { trailSettingsFrom } from '../../src/audit/settings';
import { openAuditTrail, type TrailSettings } from '../../src/audit/trail';
import { verifyTrail } from '../../src/audit/verify';
import { auditProve, auditVerify } from '../../src/cli/audit';
import { systemClock } from '../../src/clock';
import { parseConfig } from '../../src/config/load';
import { defaultCacheDir, findProjectRoot, serverBinaries } from '../../src/devstack';
import { ensureServersInstalled } from '../../src/devstack/install';
import { S3_SERVER_CREDENTIALS, startS3Server, type S3Server } from '../../src/devstack/s3';
import { eventually } from '../integration/support/eventually';
import { checkpointKeyFile, startTestGateway } from '../integration/support/gateway';
import { testStack, tokenFor } from '../support/stack';
import { sampleRecord } from './support/records';

/**
 * Checkpoints in an S3-compatible bucket with Object Lock, against a real S3-compatible server:
 * moto's server (PyPI moto[server] 5.2.5), which keeps versions and enforces the lock on delete.
 */

const logger = pino({ level: 'silent' });
const keys = generateKeyPairSync('ed25519');
const signer = { name: 'vecgate.test/audit', privateKey: keys.privateKey };
const verifiers = [{ name: signer.name, publicKey: keys.publicKey }];
const DAY = 86_400_000;

const projectRoot = findProjectRoot(__dirname);
const binaries = serverBinaries(defaultCacheDir(process.env));
const scratch = mkdtempSync(join(tmpdir(), 'vecgate-bucket-'));

async function startS3(port?: number): Promise<S3Server> {
  return startS3Server({ binary: binaries.motoServer, logFile: join(scratch, 's3.log'), ...(port ? { port } : {}), process: { readyTimeoutMs: 30_000, stopGraceMs: 5000 } });
}

function client(endpoint: string): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { ...S3_SERVER_CREDENTIALS } });
}

async function lockedBucket(s3: S3Client, bucket: string, options: { defaultRule?: boolean } = {}): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  if (options.defaultRule === false) return;
  // a default rule too, as operators set one: a put without its own lock is locked all the same
  await s3.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } } }));
}

async function versions(s3: S3Client, bucket: string, prefix: string) {
  return (await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }))).Versions ?? [];
}

describe('checkpoints in an S3 bucket with Object Lock (moto S3 server)', () => {
  let server: S3Server;
  let s3: S3Client;
  let mongo: MongoClient;
  let db: Db;

  beforeAll(async () => {
    await ensureServersInstalled({ projectRoot, cacheDir: defaultCacheDir(process.env), binaries: [binaries.motoServer], logFile: join(scratch, 'install.log') });
    server = await startS3();
    s3 = client(server.endpoint);
    mongo = await MongoClient.connect(testStack().mongoUri);
    db = mongo.db(`vecgate_bucket_${randomBytes(4).toString('hex')}`);
  }, 300_000);
  afterAll(async () => {
    s3?.destroy();
    await mongo?.close();
    await server?.process.stop();
  });

  const bucketSettings = (bucket: string, over: Partial<CheckpointBucketSettings> = {}): CheckpointBucketSettings => ({
    bucket,
    prefix: 'vecgate/checkpoints/',
    region: 'us-east-1',
    endpoint: server.endpoint,
    mode: 'COMPLIANCE',
    retentionDays: 30,
    timeoutMs: 2000,
    credentials: S3_SERVER_CREDENTIALS,
    ...over,
  });
  const settings = (bucket: CheckpointBucketSettings): TrailSettings => ({
    spoolDir: mkdtempSync(join(scratch, 'spool-')),
    spoolMaxBytes: 8 << 20,
    segmentBytes: 64 << 10,
    spoolReserveBytes: 64 << 10,
    spoolSync: true,
    batchSize: 50,
    checkpointEvery: 20,
    checkpointMs: 60_000,
    leaseMs: 1500,
    collection: 'audit_events',
    signer,
    checkpointDir: undefined,
    checkpointBucket: bucket,
  });

  async function writeTrail(instanceId: string, bucket: CheckpointBucketSettings, events: number): Promise<void> {
    const trail = await openAuditTrail(db, settings(bucket), { instanceId, holderName: 'test', clock: systemClock, logger });
    for (let i = 0; i < events; i++) {
      await trail.commit(sampleRecord({ requestId: `${instanceId}-${i}` }));
      // shipped in batches of 20, so checkpoints fall every 20 events however the shipper gathers
      if ((i + 1) % 20 === 0) await trail.flush();
    }
    await trail.close();
  }

  it('writes every checkpoint as its own object, locked in the configured mode until the retention date, with the note MongoDB holds', async () => {
    await lockedBucket(s3, 'cp-lands');
    const before = Date.now();
    await writeTrail('gw-s3', bucketSettings('cp-lands'), 45);

    const inMongo = await db.collection<CheckpointRecord>('audit_events_checkpoints').find({ instanceId: 'gw-s3' }).sort({ size: 1 }).toArray();
    // at start, every 20 events, and at stop
    expect(inMongo.length).toBeGreaterThanOrEqual(3);
    expect(inMongo.map((c) => c.size)).toEqual(expect.arrayContaining([0, 45]));
    const stored = await versions(s3, 'cp-lands', 'vecgate/checkpoints/');
    expect(stored.map((v) => v.Key).sort()).toEqual(inMongo.map((c) => bucketKey('vecgate/checkpoints/', c)).sort());
    for (const c of inMongo) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'cp-lands', Key: bucketKey('vecgate/checkpoints/', c) }));
      expect(head.ObjectLockMode).toBe('COMPLIANCE');
      const until = head.ObjectLockRetainUntilDate?.getTime() ?? 0;
      expect(until).toBeGreaterThanOrEqual(before + 30 * DAY - 1000);
      expect(until).toBeLessThanOrEqual(Date.now() + 30 * DAY + 1000);
    }
    const notes = await notesInBucket(checkpointBucketClient(bucketSettings('cp-lands')), bucketSettings('cp-lands'));
    expect(notes.map((n) => n.note).sort()).toEqual(inMongo.map((c) => c.note).sort());
  });

  it('the server refuses to delete a locked checkpoint version, and to overwrite one; GOVERNANCE mode is written as such', async () => {
    await lockedBucket(s3, 'cp-locked');
    await writeTrail('gw-lock', bucketSettings('cp-locked'), 5);
    const [version] = await versions(s3, 'cp-locked', 'vecgate/checkpoints/gw-lock/');
    expect(version?.VersionId).toBeDefined();
    const del = s3.send(new DeleteObjectCommand({ Bucket: 'cp-locked', Key: version?.Key, VersionId: version?.VersionId }));
    await expect(del).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const bypass = s3.send(new DeleteObjectCommand({ Bucket: 'cp-locked', Key: version?.Key, VersionId: version?.VersionId, BypassGovernanceRetention: true }));
    await expect(bypass).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    const overwrite = s3.send(new PutObjectCommand({ Bucket: 'cp-locked', Key: version?.Key, Body: 'forged', IfNoneMatch: '*' }));
    await expect(overwrite).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });

    await writeTrail('gw-gov', bucketSettings('cp-locked', { mode: 'GOVERNANCE' }), 3);
    const [gov] = await versions(s3, 'cp-locked', 'vecgate/checkpoints/gw-gov/');
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'cp-locked', Key: gov?.Key }))).ObjectLockMode).toBe('GOVERNANCE');
    await expect(s3.send(new DeleteObjectCommand({ Bucket: 'cp-locked', Key: gov?.Key, VersionId: gov?.VersionId }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
  });

  it('audit verify reads the bucket: its checkpoints alone name a truncated tail, and a forged note in the bucket is rejected and named', async () => {
    await lockedBucket(s3, 'cp-verify');
    const database = `vecgate_bucket_cli_${randomBytes(3).toString('hex')}`;
    const dir = mkdtempSync(join(scratch, 'cli-'));
    const configFile = join(dir, 'vecgate.yaml');
    writeFileSync(
      configFile,
      stringify({
        identity: { issuer: 'http://idp.example', audience: 'vecgate' },
        connections: [{ name: 'demo', dialect: 'chroma', upstream: 'http://127.0.0.1:8000' }],
        policy: { rules: [] },
        audit: {
          mongodbUri: testStack().mongoUri,
          database,
          spool: { dir: join(dir, 'spool') },
          checkpoints: { keyFile: checkpointKeyFile(), everyEvents: 10, s3: { bucket: 'cp-verify', endpoint: server.endpoint, retentionDays: 1, accessKeyIdEnv: 'TEST_S3_KEY', secretAccessKeyEnv: 'TEST_S3_SECRET' } },
        },
      }),
    );
    const env = { TEST_S3_KEY: S3_SERVER_CREDENTIALS.accessKeyId, TEST_S3_SECRET: S3_SERVER_CREDENTIALS.secretAccessKey };
    const loaded = parseConfig(readFileSync(configFile, 'utf8'), configFile, env);
    expect(loaded.checkpointBucketCredentials).toEqual(S3_SERVER_CREDENTIALS);
    const trail = await openAuditTrail(mongo.db(database), trailSettingsFrom(loaded.config.audit, loaded.checkpointBucketCredentials), { instanceId: 'gw-v', holderName: 'test', clock: systemClock, logger });
    for (let i = 0; i < 30; i++) {
      await trail.commit(sampleRecord({ requestId: `v-${i}` }));
      if ((i + 1) % 10 === 0) await trail.flush(); // a checkpoint every 10 events, below the cut
    }
    await trail.close();

    const clean = await auditVerify(loaded.config, {}, env);
    expect(clean.report.ok).toBe(true);
    expect(clean.report.instances[0]?.checkpoints[0]).toMatchObject({ size: 30, sources: expect.arrayContaining([expect.stringMatching(/^s3:cp-verify\/checkpoints\/gw-v\/0+30-[0-9a-f]{16}\.note#/)]) });

    // someone with MongoDB credentials cuts the tail and the checkpoints MongoDB holds: the bucket still has them
    const vdb = mongo.db(database);
    await vdb.collection('audit_events').deleteMany({ instanceId: 'gw-v', seq: { $gt: 25 } });
    await vdb.collection('audit_events_checkpoints').deleteMany({});
    const cut = await auditVerify(loaded.config, {}, env);
    expect(cut.report.ok).toBe(false);
    expect(cut.report.instances[0]?.findings).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'truncated', from: 26, to: 30 })]));
    // and prove still finds a signed checkpoint covering a request: the bucket's
    const proof = await auditProve(loaded.config, 'v-3', true, env);
    expect(proof.report).toMatchObject({ seq: 4, verified: true, checkpoint: { source: expect.stringMatching(/^s3:cp-verify\/checkpoints\/gw-v\//) } });
    expect(proof.report.checkpoint.size).toBeGreaterThanOrEqual(4);

    // a note signed by another key, put into the bucket under a checkpoint's name
    const other = generateKeyPairSync('ed25519');
    const forged = signNote(checkpointText({ origin: `${loaded.config.audit.checkpoints.keyName}/gw-v`, size: 25, root: Buffer.alloc(32, 9) }), { name: loaded.config.audit.checkpoints.keyName, privateKey: other.privateKey });
    await s3.send(new PutObjectCommand({ Bucket: 'cp-verify', Key: 'checkpoints/gw-v/0000000000000025-0909090909090909.note', Body: forged }));
    const withForgery = await auditVerify(loaded.config, {}, env);
    expect(withForgery.report.ok).toBe(false);
    expect(withForgery.report.instances[0]?.rejectedCheckpoints).toEqual([
      expect.objectContaining({ source: expect.stringMatching(/^s3:cp-verify\/checkpoints\/gw-v\/0000000000000025-0909090909090909\.note/), reason: expect.stringMatching(/signature/) }),
    ]);
    expect(withForgery.text).toContain('rejected checkpoint s3:cp-verify/checkpoints/gw-v/0000000000000025-0909090909090909.note');
  });

  it('a version hidden under a delete marker is still read by verify', async () => {
    await lockedBucket(s3, 'cp-marker');
    await writeTrail('gw-m', bucketSettings('cp-marker'), 20);
    const bucket = bucketSettings('cp-marker');
    const keysBefore = (await versions(s3, 'cp-marker', bucket.prefix)).map((v) => v.Key);
    // a plain delete (no version id) is allowed under Object Lock: it only adds a delete marker
    for (const key of new Set(keysBefore)) await s3.send(new DeleteObjectCommand({ Bucket: 'cp-marker', Key: key }));
    const notes = await notesInBucket(checkpointBucketClient(bucket), bucket);
    expect(notes).toHaveLength(keysBefore.length);
    await db.collection('audit_events_checkpoints').deleteMany({ instanceId: 'gw-m' });
    const report = await verifyTrail(db, { collection: 'audit_events', checkpointDir: undefined, bucketNotes: notes, verifiers });
    const mine = report.instances.find((i) => i.instanceId === 'gw-m');
    expect(mine?.ok).toBe(true);
    expect(mine?.checkpoints[0]?.size).toBe(20);
  });

  it('with the bucket unreachable the gateway keeps serving and reports the backlog; the checkpoints are written once the bucket is back', async () => {
    // a server of its own, stopped before the gateway starts and started again later on the same port
    const own = await startS3();
    const port = own.port;
    const endpoint = own.endpoint;
    await own.process.stop();
    const gw = await startTestGateway({
      audit: {
        checkpoints: { keyFile: checkpointKeyFile(), everySeconds: 1, s3: { bucket: 'cp-later', endpoint, retentionDays: 1, timeoutSeconds: 1, accessKeyIdEnv: 'TEST_S3_KEY', secretAccessKeyEnv: 'TEST_S3_SECRET' } },
      },
      env: { TEST_S3_KEY: S3_SERVER_CREDENTIALS.accessKeyId, TEST_S3_SECRET: S3_SERVER_CREDENTIALS.secretAccessKey },
    });
    let back: S3Server | undefined;
    try {
      const token = await tokenFor('alice');
      for (let i = 0; i < 10; i++) {
        const res = await fetch(`${gw.url}/api/v2/heartbeat`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
      expect((await gw.events()).length).toBe(10);
      const metrics = async () => (await fetch(`${gw.gateway.adminUrl}/metrics`)).text();
      await eventually('the metrics report failed bucket writes and checkpoints waiting', 15_000, async () => {
        const text = await metrics();
        return /vecgate_audit_checkpoint_write_failures\{sink="s3"\} [1-9]/.test(text) && /vecgate_audit_checkpoints_waiting\{sink="s3"\} [1-9]/.test(text) ? text : undefined;
      });

      back = await startS3(port);
      const s3b = client(back.endpoint);
      // no default rule: the waiting checkpoints may land the moment the bucket exists, and a store
      // takes a default rule only on an empty bucket; each checkpoint carries its own lock anyway
      await lockedBucket(s3b, 'cp-later', { defaultRule: false });
      await eventually('every waiting checkpoint written to the bucket', 40_000, async () => (/vecgate_audit_checkpoints_waiting\{sink="s3"\} 0\n/.test(await metrics()) ? true : undefined));
      const stored = await versions(s3b, 'cp-later', 'checkpoints/');
      expect(stored.length).toBeGreaterThanOrEqual(1);
      expect(stored.some((v) => v.Key?.startsWith(`checkpoints/${gw.gateway.instanceId}/`))).toBe(true);
      expect((await s3b.send(new HeadObjectCommand({ Bucket: 'cp-later', Key: stored[0]?.Key, VersionId: stored[0]?.VersionId }))).ObjectLockMode).toBe('COMPLIANCE');
      s3b.destroy();
    } finally {
      await gw.close();
      await back?.process.stop();
    }
  }, 120_000);
});

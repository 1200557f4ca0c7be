import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import pino from 'pino';
import { ChainVerifier, type TrustedCheckpoint } from '../../src/audit/chain-verifier';
import { notesInDirectory, readCheckpoint, type CheckpointRecord } from '../../src/audit/checkpoint-store';
import { InstanceClaimedError } from '../../src/audit/instance-lease';
import { openAuditTrail, type TrailSettings } from '../../src/audit/trail';
import { proveRequest } from '../../src/audit/prove';
import { verifyTrail } from '../../src/audit/verify';
import type { SealedEvent } from '../../src/audit/trail-types';
import { systemClock } from '../../src/clock';
import { testStack } from '../support/stack';
import { sampleRecord } from './support/records';

const logger = pino({ level: 'silent' });
const keys = generateKeyPairSync('ed25519');
const signer = { name: 'vecgate.test/audit', privateKey: keys.privateKey };
const verifiers = [{ name: signer.name, publicKey: keys.publicKey }];

const record = sampleRecord;

describe('the audit trail (spool, chain, shipping, checkpoints) on a real MongoDB-wire server', () => {
  let mongo: MongoClient;
  let db: Db;
  beforeAll(async () => {
    mongo = await MongoClient.connect(testStack().mongoUri);
    db = mongo.db(`vecgate_trail_${randomBytes(4).toString('hex')}`);
  });
  afterAll(() => mongo.close());

  const settings = (over: Partial<TrailSettings> = {}): TrailSettings => ({
    spoolDir: mkdtempSync(join(tmpdir(), 'vecgate-trail-')),
    spoolMaxBytes: 8 << 20,
    segmentBytes: 4096,
    spoolReserveBytes: 64 << 10,
    spoolSync: true,
    batchSize: 50,
    checkpointEvery: 25,
    checkpointMs: 200,
    leaseMs: 1500,
    collection: 'audit_events',
    signer,
    checkpointDir: mkdtempSync(join(tmpdir(), 'vecgate-checkpoints-')),
    ...over,
  });
  const events = (instanceId: string) => db.collection<SealedEvent>('audit_events').find({ instanceId }).sort({ seq: 1 }).toArray();

  async function verify(instanceId: string, checkpointDir: string) {
    const fromDir = notesInDirectory(checkpointDir).map((n) => readCheckpoint(n.note, verifiers, n.source));
    const fromMongo = (await db.collection<CheckpointRecord>('audit_events_checkpoints').find({ instanceId }).toArray()).map((c) => readCheckpoint(c.note, verifiers, 'mongodb'));
    const trusted: TrustedCheckpoint[] = [...fromDir, ...fromMongo].flatMap((c) => (c.ok && c.instanceId === instanceId ? [{ size: c.size, root: c.root }] : []));
    const v = new ChainVerifier(instanceId, trusted);
    for (const e of await events(instanceId)) v.push(e as unknown as Parameters<ChainVerifier['push']>[0]);
    return { findings: v.finish(), checkpoints: trusted.length, fromDir: fromDir.filter((c) => c.ok).length };
  }

  it('stores every event once, chained, and signs checkpoints in MongoDB and in the directory', async () => {
    const s = settings();
    const trail = await openAuditTrail(db, s, { instanceId: 'gw-a', holderName: 'test', clock: systemClock, logger });
    await Promise.all(Array.from({ length: 120 }, (_, i) => trail.commit(record({ requestId: `a-${i}` }))));
    await trail.close();
    const stored = await events('gw-a');
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(stored[0]?.time).toBeInstanceOf(Date);
    const result = await verify('gw-a', s.checkpointDir as string);
    expect(result.findings).toEqual([]);
    expect(result.fromDir).toBeGreaterThanOrEqual(3);
  });

  it('continues the chain after a restart from the instance head, without reading the events', async () => {
    const s = settings();
    const first = await openAuditTrail(db, s, { instanceId: 'gw-b', holderName: 'test', clock: systemClock, logger });
    for (let i = 0; i < 10; i++) await first.commit(record());
    await first.close();
    const second = await openAuditTrail(db, s, { instanceId: 'gw-b', holderName: 'test', clock: systemClock, logger });
    for (let i = 0; i < 10; i++) await second.commit(record());
    await second.close();
    expect((await events('gw-b')).map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await verify('gw-b', s.checkpointDir as string)).findings).toEqual([]);
  });

  it('refuses a second live process with the same instance id', async () => {
    const trail = await openAuditTrail(db, settings({ leaseMs: 600 }), { instanceId: 'gw-c', holderName: 'first', clock: systemClock, logger });
    await expect(openAuditTrail(db, settings({ leaseMs: 600 }), { instanceId: 'gw-c', holderName: 'second', clock: systemClock, logger })).rejects.toBeInstanceOf(InstanceClaimedError);
    await trail.close();
  });

  it('after a crash, ships what only the spool held and records the interrupted request', async () => {
    const s = settings({ leaseMs: 500 });
    const lost = await MongoClient.connect(testStack().mongoUri);
    const crashed = await openAuditTrail(lost.db(db.databaseName), s, { instanceId: 'gw-d', holderName: 'crashed', clock: systemClock, logger });
    for (let i = 0; i < 5; i++) await crashed.commit(record());
    await crashed.flush();
    // MongoDB becomes unreachable for this process; it goes on serving from its spool, then dies
    await lost.close(true);
    for (let i = 0; i < 7; i++) await crashed.commit(record());
    await crashed.intend(record({ requestId: 'forwarded-then-crash', operation: 'delete' }));

    const restarted = await openAuditTrail(db, s, { instanceId: 'gw-d', holderName: 'restarted', clock: systemClock, logger });
    await restarted.close();
    const stored = await events('gw-d');
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(stored[12]).toMatchObject({ requestId: 'forwarded-then-crash', operation: 'delete', status: 0 });
    expect(stored[12]?.interrupted).toMatch(/may have run it/);
    expect((await verify('gw-d', s.checkpointDir as string)).findings).toEqual([]);
  });

  it('keeps the essentials of an event too large for the store (64 KiB), sealed and verifiable as stored', async () => {
    const s = settings();
    const trail = await openAuditTrail(db, s, { instanceId: 'gw-big', holderName: 'test', clock: systemClock, logger });
    const huge = 'x'.repeat(70 * 1024);
    await trail.commit(record({ requestId: 'small-before' }));
    await trail.commit(record({ requestId: 'huge', client: { ip: '10.0.0.9', userAgent: huge }, decision: { effect: 'allow', ruleId: 'r', explanation: 'ok' } }));
    await trail.commit(record({ requestId: 'just-under', client: { ip: '10.0.0.9', userAgent: 'y'.repeat(60 * 1024) } }));
    await trail.close();
    const stored = await events('gw-big');
    expect(stored.map((e) => e.requestId)).toEqual(['small-before', 'huge', 'just-under']);
    expect(stored[1]?.storedPartially).toMatch(/^the full event was \d+ bytes, over the 65536-byte limit; its essentials are kept$/);
    expect(stored[1]?.client).toEqual({ ip: '10.0.0.9' });
    expect(stored[1]?.decision).toEqual({ effect: 'allow', ruleId: 'r', explanation: 'ok' });
    expect(stored[2]?.storedPartially).toBeUndefined();
    expect(stored[2]?.client.userAgent).toHaveLength(60 * 1024);
    expect((await verify('gw-big', s.checkpointDir as string)).findings).toEqual([]);
  });

  it('names an edited and a deleted event once the trail is verified', async () => {
    const s = settings();
    const trail = await openAuditTrail(db, s, { instanceId: 'gw-e', holderName: 'test', clock: systemClock, logger });
    for (let i = 0; i < 30; i++) await trail.commit(record());
    await trail.close();
    await db.collection('audit_events').updateOne({ instanceId: 'gw-e', seq: 7 }, { $set: { status: 403 } });
    await db.collection('audit_events').deleteOne({ instanceId: 'gw-e', seq: 20 });
    expect((await verify('gw-e', s.checkpointDir as string)).findings.map((f) => [f.kind, f.from, f.to])).toEqual([
      ['edited', 7, 7],
      ['deleted', 20, 20],
    ]);
  });

  it('verifies every instance in one report, names tampering, and proves a request\'s event', async () => {
    const s = settings();
    const trail = await openAuditTrail(db, s, { instanceId: 'gw-f', holderName: 'test', clock: systemClock, logger });
    for (let i = 0; i < 40; i++) await trail.commit(record({ requestId: `f-${i}` }));
    await trail.close();
    const options = { collection: 'audit_events', checkpointDir: s.checkpointDir, verifiers };
    const clean = await verifyTrail(db, options);
    expect(clean.instances.find((r) => r.instanceId === 'gw-f')).toMatchObject({ ok: true, events: 40, lastSeq: 40, findings: [] });

    const proof = await proveRequest(db, options, 'f-12');
    expect(proof).toMatchObject({ instanceId: 'gw-f', seq: 13, verified: true });
    expect(proof.checkpoint.size).toBeGreaterThanOrEqual(13);

    // without the key, a rebuilt chain cannot be signed; deleting MongoDB's checkpoints does not help
    await db.collection('audit_events').updateOne({ instanceId: 'gw-f', seq: 13 }, { $set: { status: 500 } });
    await db.collection('audit_events_checkpoints').deleteMany({ instanceId: 'gw-f' });
    const tampered = await verifyTrail(db, options);
    expect(tampered.ok).toBe(false);
    expect(tampered.instances.find((r) => r.instanceId === 'gw-f')?.findings.map((f) => [f.kind, f.from])).toEqual([['edited', 13]]);
    await expect(proveRequest(db, options, 'f-12')).resolves.toMatchObject({ verified: false, reason: expect.stringMatching(/differ from what the checkpoint signed/) as unknown });
    await expect(proveRequest(db, options, 'f-30')).resolves.toMatchObject({ seq: 31, verified: true });
    await expect(proveRequest(db, { ...options, checkpointDir: undefined }, 'f-30')).rejects.toThrow(/not yet covered by a signed checkpoint/);
  });

  it('rejects a checkpoint signed by another key', async () => {
    const s = settings({ signer: { name: signer.name, privateKey: generateKeyPairSync('ed25519').privateKey } });
    const trail = await openAuditTrail(db, s, { instanceId: 'gw-g', holderName: 'test', clock: systemClock, logger });
    await trail.commit(record());
    await trail.close();
    const report = await verifyTrail(db, { collection: 'audit_events', checkpointDir: s.checkpointDir, verifiers });
    expect(report.ok).toBe(false);
    expect(report.instances.find((r) => r.instanceId === 'gw-g')?.ok).toBe(false);
  });

  it('raises an alarm, never a silent success, when MongoDB holds another event under the same instance and seq', async () => {
    // another writer using this instance id got there first
    await db.collection('audit_events').insertOne({ instanceId: 'gw-h', seq: 1, prevHash: '', hash: 'f'.repeat(64), requestId: 'someone-else' });
    const trail = await openAuditTrail(db, settings(), { instanceId: 'gw-h', holderName: 'test', clock: systemClock, logger });
    expect(trail.accepting()).toBe(true);
    await trail.commit(record({ requestId: 'mine' }));
    await expect(trail.flush(5000)).rejects.toThrow(/already holds event 1 of instance gw-h with another hash/);
    expect(trail.accepting()).toBe(false);
    expect((await events('gw-h')).map((e) => e.requestId)).toEqual(['someone-else']);
    await trail.close().catch(() => undefined);
  });
});


import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import pino from 'pino';
import { GENESIS, seal, type ChainHead } from '../../src/audit/sequencer';
import { openAuditTrail, type TrailSettings } from '../../src/audit/trail';
import { verifyTrail } from '../../src/audit/verify';
import { systemClock } from '../../src/clock';
import { testStack } from '../support/stack';
import { sampleRecord } from './support/records';

/** `vecgate audit verify` reads the whole store, not only the instances it was told about. */

const logger = pino({ level: 'silent' });
const keys = generateKeyPairSync('ed25519');
const signer = { name: 'vecgate.test/audit', privateKey: keys.privateKey };
const verifiers = [{ name: signer.name, publicKey: keys.publicKey }];

describe('audit verify over the whole event collection', () => {
  let mongo: MongoClient;
  let db: Db;
  beforeAll(async () => {
    mongo = await MongoClient.connect(testStack().mongoUri);
    db = mongo.db(`vecgate_verify_${randomBytes(4).toString('hex')}`);
  });
  afterAll(() => mongo.close());

  const settings = (): TrailSettings => ({
    spoolDir: mkdtempSync(join(tmpdir(), 'vecgate-verify-')),
    spoolMaxBytes: 8 << 20,
    segmentBytes: 64 << 10,
    spoolReserveBytes: 64 << 10,
    spoolSync: true,
    batchSize: 50,
    checkpointEvery: 10,
    checkpointMs: 60_000,
    leaseMs: 1500,
    collection: 'audit_events',
    signer,
    checkpointDir: undefined,
  });

  it('reports events planted under an instance id that has no lease and no checkpoint, rather than passing over them', async () => {
    const trail = await openAuditTrail(db, settings(), { instanceId: 'gw-real', holderName: 'test', clock: systemClock, logger });
    for (let i = 0; i < 12; i++) await trail.commit(sampleRecord({ requestId: `real-${i}` }));
    await trail.close();
    expect((await verifyTrail(db, { collection: 'audit_events', checkpointDir: undefined, verifiers })).ok).toBe(true);

    // someone with write access to MongoDB adds a well-formed chain of a made-up instance: events
    // that look like a gateway's, to be found by an investigator's query
    let head: ChainHead = GENESIS;
    const planted = [];
    for (let i = 0; i < 3; i++) {
      const sealed = seal(head, 'gw-phantom', sampleRecord({ requestId: `phantom-${i}` }));
      head = sealed.head;
      planted.push(sealed.event);
    }
    await db.collection('audit_events').insertMany(planted);

    const report = await verifyTrail(db, { collection: 'audit_events', checkpointDir: undefined, verifiers });
    expect(report.ok).toBe(false);
    expect(report.instances.find((i) => i.instanceId === 'gw-phantom')).toMatchObject({ ok: false, events: 3, checkpoints: [] });
    expect(report.instances.find((i) => i.instanceId === 'gw-real')).toMatchObject({ ok: true, events: 12 });
  });

  it('names the findings of a period from the events read in the one pass', async () => {
    const trail = await openAuditTrail(db, settings(), { instanceId: 'gw-period', holderName: 'test', clock: systemClock, logger });
    const early = new Date('2026-01-01T00:00:00Z');
    const late = new Date('2026-06-01T00:00:00Z');
    for (let i = 0; i < 10; i++) await trail.commit(sampleRecord({ requestId: `p-${i}`, time: i < 5 ? early : late }));
    await trail.close();
    await db.collection('audit_events').updateOne({ instanceId: 'gw-period', seq: 3 }, { $set: { status: 204 } });
    const options = { collection: 'audit_events', checkpointDir: undefined, verifiers };
    const inJanuary = await verifyTrail(db, { ...options, from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-31T00:00:00Z') });
    expect(inJanuary.instances.find((i) => i.instanceId === 'gw-period')?.findings.map((f) => [f.kind, f.from])).toEqual([['edited', 3]]);
    const inJune = await verifyTrail(db, { ...options, from: new Date('2026-06-01T00:00:00Z') });
    expect(inJune.instances.find((i) => i.instanceId === 'gw-period')?.findings.filter((f) => f.kind !== 'unsigned-tail')).toEqual([]);
  });
});

import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import pino from 'pino';
import type { AuditEvent, AuditRecord } from '../../src/audit/event';
import { openMongoAuditLog } from '../../src/audit/mongo-audit-log';
import { testStack } from '../support/stack';

const config = { mongodbUri: '', database: '', collection: 'audit_events', maxPending: 100, flushIntervalMs: 5, batchSize: 50 };
const logger = pino({ level: 'silent' });

function record(over: Partial<AuditRecord> = {}): AuditRecord {
  return {
    requestId: randomBytes(8).toString('hex'),
    time: new Date(),
    principal: { subject: 'alice', groups: ['g'], issuer: 'http://idp' },
    client: { ip: '127.0.0.1' },
    connection: 'demo',
    dialect: 'chroma',
    request: { method: 'GET', path: '/api/v2/heartbeat', endpoint: 'chroma.heartbeat' },
    operation: 'meta',
    collections: [],
    bulk: false,
    decision: { effect: 'allow', ruleId: 'r', explanation: 'x' },
    status: 200,
    latencyMs: 1,
    bytesIn: 0,
    bytesOut: 10,
    ...over,
  };
}

describe('the MongoDB audit log', () => {
  let mongo: MongoClient;
  let db: Db;
  beforeAll(async () => {
    mongo = await MongoClient.connect(testStack().mongoUri);
    db = mongo.db(`vecgate_audit_${randomBytes(4).toString('hex')}`);
  });
  afterAll(() => mongo.close());
  const stored = (instanceId: string) => db.collection<AuditEvent>('audit_events').find({ instanceId }).sort({ seq: 1 }).toArray();

  test('an instance continues its sequence after a restart, without gaps', async () => {
    const first = await openMongoAuditLog(db, config, { logger, instanceId: 'gw-a' });
    first.record(record());
    first.record(record());
    await first.close();
    const second = await openMongoAuditLog(db, config, { logger, instanceId: 'gw-a' });
    second.record(record());
    await second.close();
    expect((await stored('gw-a')).map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  test('an event already stored by an earlier attempt is not stored twice', async () => {
    const log = await openMongoAuditLog(db, config, { logger, instanceId: 'gw-b' });
    const r = record();
    // as if a previous insert reached the store but its answer was lost
    await db.collection('audit_events').insertOne({ instanceId: 'gw-b', seq: 1, ...r });
    log.record(r);
    log.record(record());
    await log.close();
    expect((await stored('gw-b')).map((e) => [e.seq, e.requestId])).toEqual([[1, r.requestId], [2, expect.any(String)]]);
  });

  test('an event the store refuses is kept as its essentials and does not block the others', async () => {
    const log = await openMongoAuditLog(db, config, { logger, instanceId: 'gw-c' });
    log.record(record());
    // a key MongoDB refuses ($-prefixed) stands for any content the store will never accept
    log.record(record({ client: { ip: '127.0.0.1', userAgent: 'x', ...{ $where: 'bad' } } as AuditRecord['client'] }));
    log.record(record());
    await log.close();
    const events = await stored('gw-c');
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events[1]?.storedPartially).toMatch(/essentials are kept/);
    expect(events[1]?.status).toBe(200);
  });

  test('the indexes for time, principal and collection queries exist', async () => {
    const names = (await db.collection('audit_events').indexes()).map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['instance_seq', 'time', 'principal_time', 'collection_time', 'request_id']));
  });
});

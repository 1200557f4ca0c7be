import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { configSchema } from '../../src/config/schema';
import { openUsageStore, type UsageStore } from '../../src/volume';
import { testStack } from '../support/stack';

/** The shared counts behind volume windows, on the real MongoDB-wire server (FerretDB here). */
// no background refresh during a test (its timer runs on real time): reads happen when a view is stale by the test's clock
const settings = configSchema.shape.usage.parse({ bucketSeconds: 10, flushIntervalMs: 10_000, refreshIntervalMs: 60_000 });
const logger = pino({ level: 'silent' });
const key = { principal: 'u-1001-alice', connection: 'demo', collection: 'docs-a' };

describe('usage store: returned records per principal and collection, shared through MongoDB', () => {
  let mongo: MongoClient;
  const stores: UsageStore[] = [];
  let now = Date.UTC(2026, 10, 30, 12, 0, 0);
  const clock = { now: () => now };
  const open = async (database: string, client = mongo) => {
    const s = await openUsageStore(client.db(database), settings, { clock, logger, longestWindowSeconds: 300 });
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    mongo = await MongoClient.connect(testStack().mongoUri);
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await mongo.close();
  });

  test('what one instance counted, another reads; other principals and collections stay apart', async () => {
    const db = `vecgate_usage_${randomBytes(4).toString('hex')}`;
    const a = await open(db);
    const b = await open(db);
    a.add(key, 30);
    a.add({ ...key, collection: 'docs-b' }, 7);
    a.add({ ...key, principal: 'u-1004-dave' }, 5);
    expect(await a.usage(key, 300)).toEqual({ records: 30, trusted: true });
    await a.flush();
    expect(await b.usage(key, 300)).toEqual({ records: 30, trusted: true });
    b.add(key, 12);
    await b.flush();
    now += 120_001; // past the freshness of a's view (twice the refresh interval): a reads again
    expect(await a.usage(key, 300)).toEqual({ records: 42, trusted: true });
    expect(await b.usage({ ...key, collection: 'docs-b' }, 300)).toEqual({ records: 7, trusted: true });
  });

  test('records older than the window no longer count', async () => {
    const db = `vecgate_usage_${randomBytes(4).toString('hex')}`;
    const a = await open(db);
    a.add(key, 50);
    await a.flush();
    now += 60_000;
    a.add(key, 5);
    await a.flush();
    expect((await a.usage(key, 300)).records).toBe(55);
    // 60 s windows: the first 50 are older, within one bucket of slack
    now += 11_000;
    expect((await a.usage(key, 60)).records).toBe(5);
    now += 300_000;
    expect((await a.usage(key, 300)).records).toBe(0);
  });

  test('a store that cannot be reached reports its counts as untrusted, and still counts its own', async () => {
    const dead = await MongoClient.connect('mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200', { serverSelectionTimeoutMS: 200 }).catch(() => new MongoClient('mongodb://127.0.0.1:9/', { serverSelectionTimeoutMS: 200 }));
    const s = await open('vecgate_usage_unreachable', dead);
    s.add(key, 3);
    await s.flush();
    expect(await s.usage(key, 300)).toEqual({ records: 3, trusted: false });
    // within the refresh interval after a failed read, the answer comes at once
    const started = performance.now();
    expect(await s.usage(key, 300)).toEqual({ records: 3, trusted: false });
    expect(performance.now() - started).toBeLessThan(50);
    await dead.close();
  });
});

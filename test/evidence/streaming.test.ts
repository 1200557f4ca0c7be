import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { stringify } from 'yaml';
import { systemClock } from '../../src/clock';
import { parseConfig } from '../../src/config/load';
import { exportEvidence } from '../../src/evidence/export';
import { verifyBundle } from '../../src/evidence/verify-bundle';
import { testStack } from '../support/stack';
import { seedTrail } from './support/seed';

/**
 * The export streams: 50,000 events (EVIDENCE_TEST_EVENTS) go through without the heap growing
 * with them. The heap is sampled during the export and printed; the bound asserted is the size of
 * the events file itself, far below what holding the events as objects would take.
 */

const EVENTS = Number(process.env.EVIDENCE_TEST_EVENTS ?? 50_000);
const scratch = mkdtempSync(join(tmpdir(), 'vecgate-evidence-stream-'));

test(`an export of ${EVENTS} events keeps the heap bounded, and the bundle verifies`, async () => {
  const keys = generateKeyPairSync('ed25519');
  const checkpointKey = join(scratch, 'checkpoint.pem');
  const evidenceKey = join(scratch, 'evidence.pem');
  writeFileSync(checkpointKey, keys.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(evidenceKey, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const database = `vecgate_stream_${randomBytes(3).toString('hex')}`;
  const mongo = await MongoClient.connect(testStack().mongoUri);
  const start = new Date('2026-09-01T00:00:00Z');
  try {
    const every = Math.max(1, Math.floor(EVENTS / 5));
    await seedTrail(mongo.db(database), { instanceId: 'gw-stream', events: EVENTS, start, signer: { name: 'test/audit', privateKey: keys.privateKey }, checkpointsAt: [every, 2 * every, 3 * every, 4 * every, EVENTS] });
  } finally {
    await mongo.close();
  }
  const config = parseConfig(
    stringify({
      identity: { issuer: 'http://idp.example', audience: 'vecgate' },
      connections: [{ name: 'demo', dialect: 'chroma', upstream: 'http://127.0.0.1:8000' }],
      policy: { rules: [] },
      audit: { mongodbUri: testStack().mongoUri, database, checkpoints: { keyFile: checkpointKey, keyName: 'test/audit' } },
      evidence: { keyFile: evidenceKey },
    }),
    'stream config',
    {},
  ).config;

  global.gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20);
  const out = join(scratch, 'bundle');
  const began = performance.now();
  try {
    const r = await exportEvidence({ config, from: start, to: new Date(start.getTime() + (EVENTS + 1) * 1000), out, clock: systemClock });
    expect(r.summary.trail).toMatchObject({ events: EVENTS, verdict: 'ok' });
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - began) / 1000;
  const jsonl = statSync(join(out, 'trail/events.jsonl')).size;
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  process.stdout.write(`evidence export of ${EVENTS} events: ${seconds.toFixed(1)} s (${Math.round(EVENTS / seconds)} events/s), heap ${mb(base)} before, peak ${mb(peak)} (+${mb(peak - base)}), events.jsonl ${mb(jsonl)}\n`);
  expect(peak - base).toBeLessThan(Math.max(jsonl, 64 * 1024 * 1024));
  const v = await verifyBundle(out);
  expect(v.problems).toEqual([]);
  rmSync(scratch, { recursive: true, force: true });
}, 600_000);

import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { stringify } from 'yaml';
import { verifyBundle } from '../../src/evidence/verify-bundle';
import { testStack } from '../support/stack';
import { seedTrail } from './support/seed';

/**
 * The export streams: 50,000 events (EVIDENCE_TEST_EVENTS) go through the built CLI with its heap
 * capped at 64 MiB, less than holding them would take. Peak RSS and time are printed, not asserted.
 */

const EVENTS = Number(process.env.EVIDENCE_TEST_EVENTS ?? 50_000);
/** the CLI loads in about 30 MiB of heap; the 50,000 events held as objects would add about 40 (measured), past the cap */
const HEAP_CAP_MB = 64;
const root = join(__dirname, '../..');
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
  const yaml = stringify({
    identity: { issuer: 'http://idp.example', audience: 'vecgate' },
    connections: [{ name: 'demo', dialect: 'chroma', upstream: 'http://127.0.0.1:8000' }],
    policy: { rules: [] },
    audit: { mongodbUri: testStack().mongoUri, database, checkpoints: { keyFile: checkpointKey, keyName: 'test/audit' } },
    evidence: { keyFile: evidenceKey },
  });

  writeFileSync(join(scratch, 'vecgate.yaml'), yaml);
  // the built CLI, its heap capped far below what holding the events would take: an export that
  // kept them would die of it; the peak RSS is printed as it exits
  const out = join(scratch, 'bundle');
  const began = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'bin/vecgate'), 'evidence', 'export', '-c', join(scratch, 'vecgate.yaml'), '--from', start.toISOString(), '--to', new Date(start.getTime() + (EVENTS + 1) * 1000).toISOString(), '--out', out], {
    encoding: 'utf8',
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: `--max-old-space-size=${HEAP_CAP_MB} --require ${join(__dirname, 'support/peak-memory.js')}` },
  });
  const seconds = (performance.now() - began) / 1000;
  expect(r.stderr).not.toMatch(/heap out of memory|vecgate: /);
  expect(r.status).toBe(0);
  expect(r.stdout).toContain(`${EVENTS} audit events`);
  expect(r.stdout).toContain('trail verdict: ok');
  const rss = Number(/peak-rss-kib (\d+)/.exec(r.stderr)?.[1] ?? 0);
  const jsonl = statSync(join(out, 'trail/events.jsonl')).size;
  process.stdout.write(`evidence export of ${EVENTS} events (CLI, heap capped at ${HEAP_CAP_MB} MiB): ${seconds.toFixed(1)} s including start-up, peak RSS ${(rss / 1024).toFixed(0)} MiB, events.jsonl ${(jsonl / 2 ** 20).toFixed(1)} MiB\n`);
  expect(jsonl).toBeGreaterThan(HEAP_CAP_MB * 2 ** 20 * 0.25);
  const v = await verifyBundle(out);
  expect(v.problems).toEqual([]);
  rmSync(scratch, { recursive: true, force: true });
}, 600_000);

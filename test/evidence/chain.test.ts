import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { systemClock } from '../../src/clock';
import { exportEvidence } from '../../src/evidence/export';
import type { Verification } from '../../src/evidence/trail-section';
import { verifyBundle } from '../../src/evidence/verify-bundle';
import { testStack } from '../support/stack';
import { exportKeys, seedTrail } from './support/seed';

/**
 * Exports chain: a bundle made with --since-bundle proves (RFC 9162 consistency) that its trail
 * extends the previous bundle's checkpoint, so a trail rebuilt between two exports, even one
 * signed again with the checkpoint key, is found at the second export and by its verification.
 */

const scratch = mkdtempSync(join(tmpdir(), 'vecgate-evidence-chain-'));
const { signer, config } = exportKeys(scratch);
const T0 = new Date('2026-10-01T00:00:00Z');
const at = (seq: number) => new Date(T0.getTime() + seq * 1000);


describe('exports that chain with --since-bundle', () => {
  let mongo: MongoClient;
  let db: Db;
  const database = `vecgate_chain_${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    mongo = await MongoClient.connect(testStack().mongoUri);
    db = mongo.db(database);
    await seedTrail(db, { instanceId: 'gw-chain', events: 1000, start: T0, signer, checkpointsAt: [600, 1000] });
  });
  afterAll(async () => {
    await mongo.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('the second bundle proves its checkpoint extends the first one\'s, and verifies offline', async () => {
    const first = join(scratch, 'october-1');
    const second = join(scratch, 'october-2');
    await exportEvidence({ config: config(database), from: at(1), to: at(600), out: first, clock: systemClock });
    const r = await exportEvidence({ config: config(database), from: at(601), to: at(1000), out: second, sinceBundle: first, clock: systemClock });
    expect(r.summary.trail.verdict).toBe('ok');
    const v = JSON.parse(readFileSync(join(second, 'trail/verification.json'), 'utf8')) as Verification;
    expect(v.instances[0]).toMatchObject({ firstSeq: 601, lastSeq: 1000, checkpoint: { size: 1000 }, consistency: { fromSize: 600, verified: true } });
    const verdict = await verifyBundle(second);
    expect(verdict.problems).toEqual([]);
    expect(verdict.lines.join('\n')).toContain('consistent with the previous bundle\'s checkpoint 600');
  });

  test('a trail rebuilt and re-signed after the first export breaks the chain at the second', async () => {
    const rebuiltDb = `${database}_rebuilt`;
    const rebuilt = mongo.db(rebuiltDb);
    await seedTrail(rebuilt, { instanceId: 'gw-chain', events: 600, start: T0, signer, checkpointsAt: [600] });
    const first = join(scratch, 'before-rebuild');
    await exportEvidence({ config: config(rebuiltDb), from: at(1), to: at(600), out: first, clock: systemClock });
    // the insider drops the whole trail and writes it again, with event 300 changed, and signs it with the key
    await rebuilt.dropDatabase();
    await seedTrail(rebuilt, { instanceId: 'gw-chain', events: 1000, start: T0, signer, checkpointsAt: [1000], record: (i) => (i === 300 ? { status: 500 } : {}) });
    const second = join(scratch, 'after-rebuild');
    const r = await exportEvidence({ config: config(rebuiltDb), from: at(601), to: at(1000), out: second, sinceBundle: first, clock: systemClock });
    expect(r.summary.trail.verdict).toBe('failed');
    expect(r.summary.trail.verdictLines.join('\n')).toMatch(/consistency from checkpoint 600: .*the trail was rewritten between the previous bundle and this one/);
    const verdict = await verifyBundle(second);
    expect(verdict.ok).toBe(false);
    expect(verdict.problems.map((p) => p.message).join('\n')).toMatch(/no consistency from checkpoint 600 to 1000/);
  });

  test('events the chain never sealed (a trail from before the hash chain) are exported and named, not a crash', async () => {
    const legacyDb = `${database}_legacy`;
    const legacy = mongo.db(legacyDb);
    await seedTrail(legacy, { instanceId: 'gw-new', events: 20, start: T0, signer, checkpointsAt: [20] });
    // what a gateway from before the chain wrote: events without hash or prevHash, of an instance no lease names
    await legacy.collection('audit_events').insertMany([1, 2, 3].map((seq) => ({ instanceId: 'gw-old', seq, requestId: `old-${seq}`, time: at(seq), status: 200 })));
    const out = join(scratch, 'legacy');
    const r = await exportEvidence({ config: config(legacyDb), from: at(1), to: at(20), out, clock: systemClock });
    expect(r.summary.trail.verdict).toBe('failed');
    expect(r.summary.trail.verdictLines.join('\n')).toMatch(/seq 1-3: instance gw-old: events carry no chain hash/);
    const verdict = await verifyBundle(out);
    expect(verdict.ok).toBe(false);
  });
});

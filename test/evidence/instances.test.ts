import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { MongoCheckpointSink, signCheckpoint, type CheckpointRecord } from '../../src/audit/checkpoint-store';
import { GENESIS, seal, type ChainLinks } from '../../src/audit/sequencer';
import { systemClock } from '../../src/clock';
import { exportEvidence } from '../../src/evidence/export';
import type { Verification } from '../../src/evidence/trail-section';
import { verifyBundle } from '../../src/evidence/verify-bundle';
import { sampleRecord } from '../audit/support/records';
import { testStack } from '../support/stack';
import { exportKeys } from './support/seed';

/**
 * Several gateway instances write into one collection, so their events lie interleaved in the
 * store, and now and then one is stored out of seq order. The export reads the store once for all
 * of them: each instance's events must still come out in seq order without a gap, proven in its
 * own checkpoint, and an instance no lease or checkpoint names must not be passed over.
 */

const scratch = mkdtempSync(join(tmpdir(), 'vecgate-evidence-instances-'));
const { signer, config } = exportKeys(scratch);
const T0 = new Date('2026-10-01T00:00:00Z');
const PER_INSTANCE = 300;


/** Sealed chains of each instance, stored round robin a few events at a time, with seq 11 and 12 of each swapped. */
async function seedInterleaved(db: Db, instances: ReadonlyArray<{ id: string; leased: boolean; signed: boolean }>): Promise<void> {
  const chains = instances.map((inst) => {
    let head = GENESIS;
    const events: Array<ChainLinks & object> = [];
    for (let i = 1; i <= PER_INSTANCE; i++) {
      const sealed = seal(head, inst.id, sampleRecord({ requestId: `${inst.id}-${i}`, time: new Date(T0.getTime() + i * 1000), operation: 'search' }));
      head = sealed.head;
      events.push(sealed.event);
    }
    [events[10], events[11]] = [events[11] as ChainLinks, events[10] as ChainLinks];
    return { inst, events, head };
  });
  const stored: object[] = [];
  for (let from = 0; from < PER_INSTANCE; from += 7) for (const c of chains) stored.push(...c.events.slice(from, from + 7));
  await db.collection('audit_events').insertMany(stored, { ordered: true });
  const sink = new MongoCheckpointSink(db.collection<CheckpointRecord>('audit_events_checkpoints'));
  for (const c of chains) {
    if (c.inst.signed) await sink.write(signCheckpoint(signer, c.inst.id, c.head, new Date()));
    if (c.inst.leased) await db.collection<{ _id: string }>('audit_events_instances').updateOne({ _id: c.inst.id }, { $set: { holderName: 'seed' } }, { upsert: true });
  }
}

/** events.jsonl's seqs, instance by instance, in file order. */
function seqsByInstance(bundle: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of readFileSync(join(bundle, 'trail/events.jsonl'), 'utf8').trim().split('\n')) {
    const e = JSON.parse(line) as { instanceId: string; seq: number };
    out.set(e.instanceId, [...(out.get(e.instanceId) ?? []), e.seq]);
  }
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('an export of instances whose events lie interleaved in the store', () => {
  let mongo: MongoClient;
  const database = `vecgate_instances_${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    mongo = await MongoClient.connect(testStack().mongoUri);
  });
  afterAll(async () => {
    await mongo.db(database).dropDatabase().catch(() => undefined);
    await mongo.db(`${database}_stray`).dropDatabase().catch(() => undefined);
    await mongo.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('each instance\'s events come out whole and in seq order, each proven in its own checkpoint, and the bundle verifies', async () => {
    await seedInterleaved(mongo.db(database), [
      { id: 'gw-a', leased: true, signed: true },
      { id: 'gw-b', leased: true, signed: true },
      // known by its checkpoint alone (its lease expired and was removed)
      { id: 'gw-c', leased: false, signed: true },
    ]);
    const out = join(scratch, 'all');
    const r = await exportEvidence({ config: config(database), from: T0, to: new Date(T0.getTime() + (PER_INSTANCE + 1) * 1000), out, clock: systemClock });
    expect(r.summary.trail.verdict).toBe('ok');
    expect(r.summary.trail.events).toBe(3 * PER_INSTANCE);
    const seqs = seqsByInstance(out);
    expect([...seqs.keys()].sort()).toEqual(['gw-a', 'gw-b', 'gw-c']);
    for (const id of ['gw-a', 'gw-b', 'gw-c']) expect(seqs.get(id)).toEqual(range(PER_INSTANCE));
    // the instances interleave in the file as in the store: no instance waited for another's whole chain
    const firstIds = readFileSync(join(out, 'trail/events.jsonl'), 'utf8').split('\n').slice(0, 21).map((l) => (JSON.parse(l) as { instanceId: string }).instanceId);
    expect(new Set(firstIds).size).toBe(3);
    const v = JSON.parse(readFileSync(join(out, 'trail/verification.json'), 'utf8')) as Verification;
    expect(v.instances.map((i) => [i.instanceId, i.firstSeq, i.lastSeq, i.checkpoint?.size, i.inclusion.map((p) => p.verified)])).toEqual([
      ['gw-a', 1, PER_INSTANCE, PER_INSTANCE, [true, true]],
      ['gw-b', 1, PER_INSTANCE, PER_INSTANCE, [true, true]],
      ['gw-c', 1, PER_INSTANCE, PER_INSTANCE, [true, true]],
    ]);
    const csvRows = readFileSync(join(out, 'trail/events.csv'), 'utf8').trim().split('\r\n');
    expect(csvRows).toHaveLength(3 * PER_INSTANCE + 1);
    const verdict = await verifyBundle(out);
    expect(verdict.problems).toEqual([]);
  });

  test('the events of an instance no lease or checkpoint names are exported, and the trail is unverified because of them', async () => {
    const db = `${database}_stray`;
    await seedInterleaved(mongo.db(db), [
      { id: 'gw-a', leased: true, signed: true },
      { id: 'gw-stray', leased: false, signed: false },
    ]);
    const out = join(scratch, 'stray');
    const r = await exportEvidence({ config: config(db), from: T0, to: new Date(T0.getTime() + (PER_INSTANCE + 1) * 1000), out, clock: systemClock });
    expect(r.summary.trail.instances).toEqual(['gw-a', 'gw-stray']);
    expect(seqsByInstance(out).get('gw-stray')).toEqual(range(PER_INSTANCE));
    expect(r.summary.trail.verdict).toBe('unverified');
    expect(r.summary.trail.verdictLines.join('\n')).toContain(`instance gw-stray: no signed checkpoint covers events 1-${PER_INSTANCE} yet`);
    const verdict = await verifyBundle(out);
    expect(verdict.problems).toEqual([]);
  });
});

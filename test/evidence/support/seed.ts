import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/load';
import type { Config } from '../../../src/config/schema';
import { testStack } from '../../support/stack';
import type { Db } from 'mongodb';
import { MongoCheckpointSink, signCheckpoint, type CheckpointRecord } from '../../../src/audit/checkpoint-store';
import type { NoteSigner } from '../../../src/audit/checkpoint';
import type { AuditRecord } from '../../../src/audit/event';
import { GENESIS, seal, type ChainHead } from '../../../src/audit/sequencer';
import { sampleRecord } from '../../audit/support/records';

/**
 * A long trail written straight into the store, as gateways would have sealed it: event i of the
 * instance happens at `start + i` seconds; a checkpoint is signed after each size in `checkpointsAt`.
 */
export async function seedTrail(
  db: Db,
  options: { instanceId: string; events: number; start: Date; signer: NoteSigner; checkpointsAt: number[]; head?: ChainHead; record?: (i: number) => Partial<AuditRecord> },
): Promise<ChainHead> {
  const events = db.collection('audit_events');
  const sink = new MongoCheckpointSink(db.collection<CheckpointRecord>('audit_events_checkpoints'));
  let head = options.head ?? GENESIS;
  let batch: object[] = [];
  const first = head.seq + 1;
  for (let i = first; i < first + options.events; i++) {
    const sealed = seal(head, options.instanceId, sampleRecord({ requestId: `${options.instanceId}-${i}`, time: new Date(options.start.getTime() + i * 1000), operation: 'search', ...options.record?.(i) }));
    head = sealed.head;
    batch.push(sealed.event);
    if (batch.length === 5000 || options.checkpointsAt.includes(i)) {
      await events.insertMany(batch, { ordered: true });
      batch = [];
    }
    if (options.checkpointsAt.includes(i)) await sink.write(signCheckpoint(options.signer, options.instanceId, head, new Date()));
  }
  if (batch.length > 0) await events.insertMany(batch, { ordered: true });
  // as a gateway's lease would: the store knows the instance
  await db.collection<{ _id: string }>('audit_events_instances').updateOne({ _id: options.instanceId }, { $set: { holderName: 'seed' } }, { upsert: true });
  return head;
}

/**
 * Keys for exports of a seeded trail, written into `scratch`: the checkpoint signer (`seedTrail`'s
 * signer) and an evidence key, with the export configuration for a database of the test store.
 */
export function exportKeys(scratch: string): { signer: NoteSigner; config: (database: string) => Config } {
  const checkpointKey = join(scratch, 'checkpoint.pem');
  const evidenceKey = join(scratch, 'evidence.pem');
  const keys = generateKeyPairSync('ed25519');
  writeFileSync(checkpointKey, keys.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(evidenceKey, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const config = (database: string): Config =>
    parseConfig(
      stringify({
        identity: { issuer: 'http://idp.example', audience: 'vecgate' },
        connections: [{ name: 'demo', dialect: 'chroma', upstream: 'http://127.0.0.1:8000' }],
        policy: { rules: [] },
        audit: { mongodbUri: testStack().mongoUri, database, checkpoints: { keyFile: checkpointKey, keyName: 'test/audit' } },
        evidence: { keyFile: evidenceKey },
      }),
      'export config',
      {},
    ).config;
  return { signer: { name: 'test/audit', privateKey: keys.privateKey }, config };
}

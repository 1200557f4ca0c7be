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

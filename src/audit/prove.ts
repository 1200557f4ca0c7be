import type { Db } from 'mongodb';
import type { NoteVerifier } from './checkpoint';
import { notesInDirectory, readCheckpoint, type CheckpointNote, type CheckpointRecord } from './checkpoint-store';
import { inclusionProof, verifyInclusion } from './merkle';
import { recomputeHash } from './sequencer';

/**
 * `vecgate audit prove --request-id ID`: the RFC 9162 inclusion proof of one request's event in
 * the smallest signed checkpoint that covers it, checked before it is printed.
 */

export interface InclusionReport {
  requestId: string;
  instanceId: string;
  seq: number;
  /** hex leaf hash recomputed from the stored event */
  leafHash: string;
  checkpoint: { size: number; root: string; source: string };
  /** hex hashes, leaf to root */
  proof: string[];
  verified: boolean;
  reason?: string;
}

export class ProofUnavailableError extends Error {
  readonly code = 'PROOF_UNAVAILABLE';
}

export async function proveRequest(
  db: Db,
  options: { collection: string; checkpointDir: string | undefined; bucketNotes?: readonly CheckpointNote[]; verifiers: readonly NoteVerifier[] },
  requestId: string,
): Promise<InclusionReport> {
  const events = db.collection<Record<string, unknown> & { instanceId: string; seq: number; hash: string }>(options.collection);
  const event = await events.findOne({ requestId }, { projection: { _id: 0 } });
  if (!event) throw new ProofUnavailableError(`No audit event has request id ${requestId}.`);
  const { instanceId, seq } = event;

  const notes = [
    ...(await db.collection<CheckpointRecord>(`${options.collection}_checkpoints`).find({ instanceId, size: { $gte: seq } }).toArray()).map((c) => ({
      note: c.note,
      source: `mongodb:${c.instanceId}/${c.size}`,
    })),
    ...(options.checkpointDir ? notesInDirectory(options.checkpointDir).map((n) => ({ note: n.note, source: `dir:${n.source}` })) : []),
    ...(options.bucketNotes ?? []),
  ];
  const covering = notes
    .map((n) => readCheckpoint(n.note, options.verifiers, n.source))
    .flatMap((c) => (c.ok && c.instanceId === instanceId && c.size >= seq ? [c] : []))
    .sort((a, b) => a.size - b.size)[0];
  if (!covering) throw new ProofUnavailableError(`Event ${seq} of instance ${instanceId} is not yet covered by a signed checkpoint; try again after the next one (audit checkpoint interval).`);

  const leaves: Buffer[] = [];
  for await (const e of events.find({ instanceId, seq: { $lte: covering.size } }, { sort: { seq: 1 }, projection: { seq: 1, hash: 1 }, batchSize: 10000 })) {
    if (e.seq !== leaves.length + 1) throw new ProofUnavailableError(`Instance ${instanceId} lacks event ${leaves.length + 1}: run \`vecgate audit verify\`.`);
    leaves.push(Buffer.from(e.hash, 'hex'));
  }
  if (leaves.length !== covering.size) throw new ProofUnavailableError(`Instance ${instanceId} holds ${leaves.length} of the ${covering.size} events its checkpoint signed: run \`vecgate audit verify\`.`);

  const leaf = recomputeHash(event);
  leaves[seq - 1] = Buffer.from(leaf, 'hex');
  const proof = inclusionProof(seq - 1, leaves);
  const verdict = verifyInclusion(seq - 1, covering.size, Buffer.from(leaf, 'hex'), proof, covering.root);
  return {
    requestId,
    instanceId,
    seq,
    leafHash: leaf,
    checkpoint: { size: covering.size, root: covering.root.toString('hex'), source: covering.source },
    proof: proof.map((p) => p.toString('hex')),
    verified: verdict.ok,
    ...(verdict.ok ? {} : { reason: `${verdict.reason}: the event or the events around it differ from what the checkpoint signed` }),
  };
}

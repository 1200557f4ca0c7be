import { randomBytes } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { Clock } from '../clock';
import type { Hash } from './merkle';
import type { ChainHead } from './sequencer';

/**
 * One small document per gateway instance: who holds the instance id now (a lease), and where
 * its shipped chain stands (seq, hash, Merkle peaks). A second live process with the same id
 * cannot take the lease and refuses to start; start-up reads this document, never the events.
 */

export interface InstanceDoc {
  _id: string;
  /** random per process: who holds the lease */
  holder: string;
  /** host and pid of the holder, for the operator who reads the refusal */
  holderName: string;
  expiresAt: Date;
  /** the chain as shipped to MongoDB */
  head?: StoredHead;
  updatedAt: Date;
}

/** A ChainHead as a document holds it: peaks in hex. */
export interface StoredHead {
  seq: number;
  hash: string;
  size: number;
  peaks: string[];
}

export class InstanceClaimedError extends Error {
  readonly code = 'INSTANCE_CLAIMED';
}

export function toStoredHead(head: ChainHead): StoredHead {
  return { seq: head.seq, hash: head.hash, size: head.tree.size, peaks: head.tree.peaks.map((p) => p.toString('hex')) };
}

export function fromStoredHead(h: StoredHead | undefined): ChainHead | undefined {
  if (!h) return undefined;
  return { seq: h.seq, hash: h.hash, tree: { size: h.size, peaks: h.peaks.map((p): Hash => Buffer.from(p, 'hex')) } };
}

export class InstanceLease {
  private readonly holder = randomBytes(12).toString('hex');

  constructor(
    private readonly docs: Collection<InstanceDoc>,
    readonly instanceId: string,
    private readonly holderName: string,
    private readonly leaseMs: number,
    private readonly clock: Clock,
  ) {}

  /**
   * Takes the instance id, or throws InstanceClaimedError when another live process holds it.
   * Returns the shipped head, if the instance has shipped before.
   */
  async claim(waitMs = 0): Promise<ChainHead | undefined> {
    // After a crash the old lease runs out on its own; a live holder keeps renewing it.
    const deadline = performance.now() + waitMs;
    for (;;) {
      try {
        return await this.tryClaim();
      } catch (err) {
        if (!(err instanceof InstanceClaimedError) || performance.now() >= deadline) throw err;
        await new Promise((r) => setTimeout(r, Math.min(500, Math.max(10, deadline - performance.now()))));
      }
    }
  }

  private async tryClaim(): Promise<ChainHead | undefined> {
    const now = new Date(this.clock.now());
    const update = { $set: { holder: this.holder, holderName: this.holderName, expiresAt: new Date(now.getTime() + this.leaseMs), updatedAt: now } };
    // Free, expired or ours: take it. Held by someone else: the upsert collides on _id and fails.
    const filter = { _id: this.instanceId, $or: [{ expiresAt: { $lt: now } }, { holder: this.holder }] };
    try {
      const doc = await this.docs.findOneAndUpdate(filter, update, { upsert: true, returnDocument: 'after' });
      return fromStoredHead(doc?.head);
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      const other = await this.docs.findOne({ _id: this.instanceId });
      throw new InstanceClaimedError(
        `Instance id "${this.instanceId}" is held by another live gateway (${other?.holderName ?? 'unknown'}) until ${other?.expiresAt.toISOString() ?? 'its lease ends'}. ` +
          'Give each gateway its own gateway.instanceId (or let it default), or stop the other one.',
      );
    }
  }

  /** Extends the lease; false when another process took it meanwhile (ours had expired). */
  async renew(head?: ChainHead): Promise<boolean> {
    const now = new Date(this.clock.now());
    const set: Partial<InstanceDoc> = { expiresAt: new Date(now.getTime() + this.leaseMs), updatedAt: now };
    if (head) set.head = toStoredHead(head);
    const r = await this.docs.updateOne({ _id: this.instanceId, holder: this.holder }, { $set: set });
    return r.matchedCount === 1;
  }

  /** Lets the id go at a clean stop, keeping the head. */
  async release(head?: ChainHead): Promise<void> {
    const now = new Date(this.clock.now());
    await this.docs.updateOne({ _id: this.instanceId, holder: this.holder }, { $set: { expiresAt: now, updatedAt: now, ...(head ? { head: toStoredHead(head) } : {}) } });
  }
}

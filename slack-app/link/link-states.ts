import { createHash } from 'node:crypto';
import { ensureIndexes } from '../../src/storage/indexes';
import type { Collection, Db } from 'mongodb';

/** A sign-in started by the link command and not yet completed. */
export interface PendingLink {
  teamId: string;
  userId: string;
  /** PKCE code_verifier, sent with the code */
  codeVerifier: string;
  /** expected in the ID token */
  nonce: string;
  createdAt: number;
  expiresAt: number;
  /** step-up: the sign-in was asked with max_age; the ID token's auth_time must be this recent */
  maxAgeSeconds?: number;
  /** step-up: the decision that waits for this sign-in, sent again once it is done */
  decision?: PendingDecision;
}

/** A decision refused STEP_UP_REQUIRED, kept with the sign-in it waits for. */
export interface PendingDecision {
  approvalId: string;
  decision: 'approve' | 'deny';
  decisionId: string;
  reason?: string;
}

/**
 * Pending links by their `state`. A state works once and only before it expires. Stores keep a
 * hash of the state, not the state itself, so reading the store does not let anyone finish
 * somebody else's link.
 */
export interface LinkStateStore {
  save(state: string, link: PendingLink): Promise<void>;
  /** returns the pending link and forgets it; undefined when unknown, used or expired */
  take(state: string, nowMs: number): Promise<PendingLink | undefined>;
}

export const SLACK_LINK_STATES_COLLECTION = 'slack_link_states';

export function hashState(state: string): string {
  return createHash('sha256').update(state).digest('hex');
}

export function createMemoryLinkStateStore(): LinkStateStore {
  const pending = new Map<string, PendingLink>();
  return {
    save(state, link) {
      for (const [key, value] of pending) if (value.expiresAt <= link.createdAt) pending.delete(key);
      pending.set(hashState(state), { ...link });
      return Promise.resolve();
    },
    take(state, nowMs) {
      const key = hashState(state);
      const link = pending.get(key);
      pending.delete(key);
      return Promise.resolve(link && link.expiresAt > nowMs ? link : undefined);
    },
  };
}

interface LinkStateDocument extends PendingLink {
  stateHash: string;
}

/**
 * Pending links in MongoDB. FerretDB has no TTL indexes, so expired states are deleted when new
 * ones are saved, and `take` checks the expiry itself. findOneAndDelete makes a state single-use
 * without transactions.
 */
export async function openMongoLinkStateStore(db: Db, collectionName = SLACK_LINK_STATES_COLLECTION): Promise<LinkStateStore> {
  const states: Collection<LinkStateDocument> = db.collection<LinkStateDocument>(collectionName);
  await ensureIndexes(states, [{ key: { stateHash: 1 }, name: 'state_hash', unique: true }]);
  return {
    async save(state, link) {
      await states.deleteMany({ expiresAt: { $lte: link.createdAt } });
      await states.insertOne({ stateHash: hashState(state), ...link });
    },
    async take(state, nowMs) {
      const doc = await states.findOneAndDelete({ stateHash: hashState(state) });
      if (!doc || doc.expiresAt <= nowMs) return undefined;
      return {
        teamId: doc.teamId,
        userId: doc.userId,
        codeVerifier: doc.codeVerifier,
        nonce: doc.nonce,
        createdAt: doc.createdAt,
        expiresAt: doc.expiresAt,
        ...(doc.maxAgeSeconds !== undefined ? { maxAgeSeconds: doc.maxAgeSeconds } : {}),
        ...(doc.decision ? { decision: { approvalId: doc.decision.approvalId, decision: doc.decision.decision, decisionId: doc.decision.decisionId, ...(doc.decision.reason !== undefined ? { reason: doc.decision.reason } : {}) } } : {}),
      };
    },
  };
}

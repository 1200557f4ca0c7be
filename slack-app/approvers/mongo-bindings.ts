import type { Collection, Db } from 'mongodb';
import { ensureIndexes } from '../../src/storage/indexes';
import type { BindingStore, SlackBinding } from './bindings';

export const SLACK_BINDINGS_COLLECTION = 'slack_bindings';

const DUPLICATE_KEY = 11000;

/**
 * Bindings in MongoDB (FerretDB in tests: no transactions, TTL indexes or change streams, none
 * of which this needs). A unique index on teamId + userId keeps one binding per Slack user.
 */
export async function openMongoBindingStore(db: Db, collectionName = SLACK_BINDINGS_COLLECTION): Promise<BindingStore> {
  const bindings = db.collection<SlackBinding>(collectionName);
  await ensureIndexes(bindings, [{ key: { teamId: 1, userId: 1 }, name: 'team_user', unique: true }]);
  return new MongoBindingStore(bindings);
}

class MongoBindingStore implements BindingStore {
  constructor(private readonly bindings: Collection<SlackBinding>) {}

  async get(teamId: string, userId: string): Promise<SlackBinding | undefined> {
    const found = await this.bindings.findOne({ teamId, userId }, { projection: { _id: 0 } });
    return found ? toBinding(found) : undefined;
  }

  async put(binding: SlackBinding): Promise<void> {
    const doc = toBinding(binding);
    try {
      await this.bindings.replaceOne({ teamId: doc.teamId, userId: doc.userId }, doc, { upsert: true });
    } catch (err) {
      // two upserts of a new key race: one inserts, the other hits the unique index; replace again
      if ((err as { code?: unknown }).code !== DUPLICATE_KEY) throw err;
      await this.bindings.replaceOne({ teamId: doc.teamId, userId: doc.userId }, doc);
    }
  }

  async remove(teamId: string, userId: string): Promise<void> {
    await this.bindings.deleteOne({ teamId, userId });
  }
}

/** Only the known fields, so nothing else stored in a document reaches a decision. */
function toBinding(doc: SlackBinding): SlackBinding {
  return {
    teamId: doc.teamId,
    userId: doc.userId,
    subject: doc.subject,
    ...(doc.email !== undefined ? { email: doc.email } : {}),
    groups: [...doc.groups],
    groupsVerifiedAt: doc.groupsVerifiedAt,
    source: doc.source,
    ...(typeof doc.authTime === 'number' ? { authTime: doc.authTime } : {}),
  };
}

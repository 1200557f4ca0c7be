import type { Collection, Document, IndexDescription } from 'mongodb';

/**
 * Creates the indexes a collection lacks, by name. Asking for an index that already exists is a
 * no-op on MongoDB but crashes the connection on FerretDB, so existing ones are never asked for.
 */
export async function ensureIndexes<T extends Document>(collection: Collection<T>, indexes: IndexDescription[]): Promise<void> {
  const existing = new Set((await collection.listIndexes().toArray().catch(() => [])).map((i: { name?: string }) => i.name));
  const missing = indexes.filter((i) => !existing.has(i.name));
  if (missing.length > 0) await collection.createIndexes(missing);
}

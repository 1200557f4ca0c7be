import type { CollectionIdentity, CollectionRef } from '../dialect/types';
import { VecgateError } from '../errors';

/** The collections of one tenant/database, as the upstream itself lists them. */
export type ListCollections = (scope: { tenant?: string; database?: string }) => Promise<CollectionIdentity[]>;

/**
 * id -> name for databases whose data operations name a collection by id (Chroma), so policy can
 * judge by name. Names come from the upstream's own answers, never from the caller.
 */
export class CollectionDirectory {
  private readonly names = new Map<string, string>();
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly list: ListCollections,
    private readonly maxEntries = 100_000,
  ) {}

  learn(collections: readonly CollectionIdentity[]): void {
    for (const c of collections) {
      const key = keyOf(c.tenant, c.database, c.id);
      this.names.delete(key);
      this.names.set(key, c.name);
      if (this.names.size > this.maxEntries) this.names.delete(this.names.keys().next().value as string);
    }
  }

  forget(ref: CollectionRef): void {
    if (ref.kind === 'id') this.names.delete(keyOf(ref.tenant, ref.database, ref.id));
  }

  /** Names for the refs; an id the upstream does not know is an error (404), never a guess. */
  async resolve(refs: readonly CollectionRef[]): Promise<string[]> {
    const out: string[] = [];
    for (const ref of refs) {
      if (ref.kind === 'name') {
        out.push(ref.name);
        continue;
      }
      const key = keyOf(ref.tenant, ref.database, ref.id);
      if (!this.names.has(key)) await this.refresh(ref.tenant, ref.database);
      const name = this.names.get(key);
      if (name === undefined) {
        throw new VecgateError('COLLECTION_UNRESOLVED', `No collection with id ${ref.id} exists in this database; get the collection again by name.`);
      }
      out.push(name);
    }
    return out;
  }

  /** One listing at a time per database, however many requests miss at once. */
  private refresh(tenant?: string, database?: string): Promise<void> {
    const scope = keyOf(tenant, database, '');
    let p = this.pending.get(scope);
    if (!p) {
      p = this.list({ tenant, database })
        .then((all) => this.learn(all))
        .finally(() => this.pending.delete(scope));
      this.pending.set(scope, p);
    }
    return p;
  }
}

function keyOf(tenant: string | undefined, database: string | undefined, id: string): string {
  return `${tenant ?? ''}\u0000${database ?? ''}\u0000${id}`;
}

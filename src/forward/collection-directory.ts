import type { Clock } from '../clock';
import type { CollectionIdentity, CollectionRef } from '../dialect/types';
import { VecgateError } from '../errors';
import type { LookupBudget } from './lookup-budget';

/** The collections of one tenant/database, as the upstream itself lists them. */
export type ListCollections = (scope: { tenant?: string; database?: string }) => Promise<CollectionIdentity[]>;

export interface DirectoryOptions {
  clock: Clock;
  /**
   * How long a learnt name is trusted. A collection renamed elsewhere (another gateway instance, or
   * directly in the database) is judged by its new name at most this long after the rename.
   */
  ttlMs: number;
  /** bounds, per caller, the look-ups of ids the directory does not know */
  lookups: LookupBudget;
  maxEntries?: number;
}

interface Entry {
  name: string;
  learntAt: number;
}

/**
 * id -> name for databases whose data operations name a collection by id (Chroma), so policy can
 * judge by name. Names come from the upstream's own answers, never from the caller, and expire:
 * an expired name is checked again by listing the collections of its tenant/database.
 */
export class CollectionDirectory {
  private readonly names = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly list: ListCollections,
    private readonly options: DirectoryOptions,
  ) {}

  learn(collections: readonly CollectionIdentity[]): void {
    const learntAt = this.options.clock.now();
    const max = this.options.maxEntries ?? 100_000;
    for (const c of collections) {
      const key = keyOf(c.tenant, c.database, c.id);
      this.names.delete(key);
      this.names.set(key, { name: c.name, learntAt });
      if (this.names.size > max) this.names.delete(this.names.keys().next().value as string);
    }
  }

  forget(ref: CollectionRef): void {
    if (ref.kind === 'id') this.names.delete(keyOf(ref.tenant, ref.database, ref.id));
  }

  /**
   * Names for the refs; an id the upstream does not know is an error (404), never a guess. An id
   * never seen costs `caller` one look-up from their budget (429 when spent); an expired one does not,
   * as its refresh serves every id of that tenant/database.
   */
  async resolve(refs: readonly CollectionRef[], caller: string): Promise<string[]> {
    const out: string[] = [];
    for (const ref of refs) {
      if (ref.kind === 'name') {
        out.push(ref.name);
        continue;
      }
      const key = keyOf(ref.tenant, ref.database, ref.id);
      const known = this.names.get(key);
      if (known && this.fresh(known.learntAt)) {
        out.push(known.name);
        continue;
      }
      if (!known && !this.options.lookups.take(caller)) {
        throw new VecgateError(
          'COLLECTION_LOOKUP_LIMITED',
          'Too many look-ups of unknown collection ids from you in a short time; wait a minute, and get collections by name rather than guessing ids.',
        );
      }
      const asked = this.options.clock.now();
      await this.refresh(ref.tenant, ref.database);
      const found = this.names.get(key);
      if (found === undefined || found.learntAt < asked) {
        // not in the current listing: deleted, or never there
        this.names.delete(key);
        throw new VecgateError('COLLECTION_UNRESOLVED', `No collection with id ${ref.id} exists in this database; get the collection again by name.`);
      }
      out.push(found.name);
    }
    return out;
  }

  private fresh(learntAt: number): boolean {
    return this.options.clock.now() - learntAt < this.options.ttlMs;
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

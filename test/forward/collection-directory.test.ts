import { CollectionDirectory } from '../../src/forward/collection-directory';
import { LookupBudget } from '../../src/forward/lookup-budget';
import type { CollectionIdentity, CollectionRef } from '../../src/dialect/types';
import { VecgateError } from '../../src/errors';
import { manualClock, type ManualClock } from '../identity/support/harness';

const ID = '0a6a4c1e-3b7a-4c52-9a57-0b9a1e2f3c4d';
const OTHER = '1b7b5d2f-4c8b-4d63-8b68-1c0b2f3a4d5e';
const scope = { tenant: 'default_tenant', database: 'default_database' };
const byId = (id: string): CollectionRef => ({ kind: 'id', id, ...scope });

/** A database whose listing the test edits, counting how often the directory asks for it. */
function database(initial: Record<string, string>) {
  const state = { names: { ...initial }, listings: 0 };
  const list = async (): Promise<CollectionIdentity[]> => {
    state.listings += 1;
    return Object.entries(state.names).map(([id, name]) => ({ id, name, ...scope }));
  };
  return { state, list };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof VecgateError) return err.code;
    throw err;
  }
  return 'resolved';
}

describe('collection directory: names expire and are checked again (THREATS 33)', () => {
  let clock: ManualClock;
  beforeEach(() => {
    clock = manualClock();
  });
  const directory = (list: () => Promise<CollectionIdentity[]>, perMinute = 100) =>
    new CollectionDirectory(list, { clock, ttlMs: 5_000, lookups: new LookupBudget({ perMinute, clock }) });

  test('a learnt name is used without asking the database until the TTL passes', async () => {
    const db = database({ [ID]: 'docs-x' });
    const dir = directory(db.list);
    await expect(dir.resolve([byId(ID)], 'alice')).resolves.toEqual(['docs-x']);
    clock.advance(4_999);
    await expect(dir.resolve([byId(ID)], 'alice')).resolves.toEqual(['docs-x']);
    expect(db.state.listings).toBe(1);
  });

  test('a rename made elsewhere takes effect once the TTL passes', async () => {
    const db = database({ [ID]: 'docs-x' });
    const dir = directory(db.list);
    await dir.resolve([byId(ID)], 'alice');
    db.state.names[ID] = 'hr-x';
    clock.advance(5_000);
    await expect(dir.resolve([byId(ID)], 'alice')).resolves.toEqual(['hr-x']);
    expect(db.state.listings).toBe(2);
  });

  test('a name learnt from an answer counts as fresh from then on', async () => {
    const db = database({ [ID]: 'docs-x' });
    const dir = directory(db.list);
    dir.learn([{ id: ID, name: 'docs-y', ...scope }]);
    await expect(dir.resolve([byId(ID)], 'alice')).resolves.toEqual(['docs-y']);
    expect(db.state.listings).toBe(0);
  });

  test('a collection deleted elsewhere is COLLECTION_UNRESOLVED after the TTL, and then counts as unknown', async () => {
    const db = database({ [ID]: 'docs-x' });
    const dir = directory(db.list, 1);
    await dir.resolve([byId(ID)], 'alice');
    delete db.state.names[ID];
    clock.advance(5_000);
    expect(await codeOf(dir.resolve([byId(ID)], 'alice'))).toBe('COLLECTION_UNRESOLVED');
    // the expired entry is gone: the next try is an unknown id, and alice's one look-up is spent
    expect(await codeOf(dir.resolve([byId(ID)], 'alice'))).toBe('COLLECTION_LOOKUP_LIMITED');
  });

  test('unknown ids spend the caller\'s budget, which refills over a minute; expired ones do not', async () => {
    const db = database({ [ID]: 'docs-x' });
    const dir = directory(db.list, 2);
    const codes = [];
    for (let i = 0; i < 3; i += 1) codes.push(await codeOf(dir.resolve([byId(OTHER)], 'mallory')));
    expect(codes).toEqual(['COLLECTION_UNRESOLVED', 'COLLECTION_UNRESOLVED', 'COLLECTION_LOOKUP_LIMITED']);
    expect(db.state.listings).toBe(2);
    // another caller is not held back by mallory
    await expect(dir.resolve([byId(ID)], 'alice')).resolves.toEqual(['docs-x']);
    clock.advance(30_000);
    expect(await codeOf(dir.resolve([byId(OTHER)], 'mallory'))).toBe('COLLECTION_UNRESOLVED');
    expect(await codeOf(dir.resolve([byId(OTHER)], 'mallory'))).toBe('COLLECTION_LOOKUP_LIMITED');
    // an expired, known id is checked again without spending any budget
    clock.advance(5_000);
    await expect(dir.resolve([byId(ID)], 'mallory')).resolves.toEqual(['docs-x']);
  });

  test('many requests missing at once share one listing', async () => {
    const db = database({ [ID]: 'docs-x' });
    const dir = directory(db.list);
    await Promise.all(Array.from({ length: 10 }, (_, i) => dir.resolve([byId(ID)], `caller-${i}`)));
    expect(db.state.listings).toBe(1);
  });

  test('a TTL of 0 checks every id again on every request', async () => {
    const db = database({ [ID]: 'docs-x' });
    const dir = new CollectionDirectory(db.list, { clock, ttlMs: 0, lookups: new LookupBudget({ perMinute: 1, clock }) });
    for (let i = 0; i < 3; i += 1) await expect(dir.resolve([byId(ID)], 'alice')).resolves.toEqual(['docs-x']);
    expect(db.state.listings).toBe(3);
  });
});

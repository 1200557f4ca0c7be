import canonicalize from 'canonicalize';
import { appendLeaf, EMPTY_TREE, leafHash, type TreeState } from './merkle';

/**
 * The hash chain, as pure functions: each event of an instance gets the next seq and the hash of
 * the event before it, and is hashed over its canonical form (RFC 8785 JSON, dates as ISO
 * strings, absent fields left out). The same hash is the event's Merkle leaf, so one pass over an
 * instance's events rebuilds both the chain and the tree.
 */

/** Where an instance's chain stands: the last seq, its hash and the tree over all events so far. */
export interface ChainHead {
  seq: number;
  /** hex leaf hash of event `seq`; '' before the first event */
  hash: string;
  tree: TreeState;
}

export const GENESIS: ChainHead = Object.freeze({ seq: 0, hash: '', tree: EMPTY_TREE }) as ChainHead;

/** The fields the chain adds to every event. */
export interface ChainLinks {
  instanceId: string;
  seq: number;
  /** hash of the previous event of this instance; '' for seq 1 */
  prevHash: string;
  /** RFC 6962 leaf hash of the canonical form of every other field */
  hash: string;
}

/** Appends one event to the chain: the sealed event and the new head. */
export function seal<T extends object>(head: ChainHead, instanceId: string, record: T): { event: T & ChainLinks; head: ChainHead } {
  const linked = { ...(withoutUndefined(record) as T), instanceId, seq: head.seq + 1, prevHash: head.hash };
  const leaf = leafHash(canonicalBytes(plainJson(linked)));
  const hash = leaf.toString('hex');
  return { event: { ...linked, hash }, head: { seq: linked.seq, hash, tree: appendLeaf(head.tree, leaf) } };
}

/**
 * seal() with the sealed event as JSON text built from the canonical bytes: the same hash, and
 * the trail serialises an event once for its hash and its spool frame alike (docs/performance.md).
 * `bytes` is the canonical form's size, which the trail bounds.
 */
export function sealJson(head: ChainHead, instanceId: string, record: object): { json: string; seq: number; head: ChainHead; bytes: number } {
  const linked = { ...record, instanceId, seq: head.seq + 1, prevHash: head.hash };
  // canonicalize follows JSON.stringify (toJSON for dates, undefined left out) but throws on NaN and
  // Infinity, which the JSON form turns into null: only such an event pays for that form
  let text: string | undefined;
  try {
    text = canonicalize(linked);
  } catch {
    text = canonicalize(plainJson(linked));
  }
  if (text === undefined) throw new TypeError('an audit event must be a JSON object');
  const bytes = Buffer.from(text, 'utf8');
  const leaf = leafHash(bytes);
  const hash = leaf.toString('hex');
  // canonical JSON of an object ends with its closing brace: the hash goes in as its last member
  return { json: `${text.slice(0, -1)},"hash":"${hash}"}`, seq: linked.seq, head: { seq: linked.seq, hash, tree: appendLeaf(head.tree, leaf) }, bytes: bytes.length };
}

/** The leaf hash an event should carry, recomputed from all its fields but `hash` (and MongoDB's `_id`). */
export function recomputeHash(event: Record<string, unknown>): string {
  const { hash: _hash, _id, ...rest } = event;
  return leafHash(canonicalBytes(plainJson(rest))).toString('hex');
}

export function canonicalBytes(value: unknown): Buffer {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('an audit event must be a JSON object');
  return Buffer.from(text, 'utf8');
}

/**
 * The event as JSON would carry it: dates become ISO strings, undefined fields disappear. What
 * MongoDB hands back (Date objects) normalises to the same value, so a stored event re-hashes
 * to the hash it was sealed with.
 */
export function plainJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The same value without undefined fields (which a store might keep as null), dates kept as dates. */
function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : withoutUndefined(v)));
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = withoutUndefined(v);
  return out;
}

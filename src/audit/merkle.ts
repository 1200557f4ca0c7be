import { createHash } from 'node:crypto';

/**
 * The Merkle tree of RFC 9162 (section 2.1, same hashing as RFC 6962) over audit events, as pure
 * functions: leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right). No npm package
 * does consistency proofs, so the algorithms are written here from the RFC's text and checked
 * against the published test vectors (test/fixtures/rfc6962).
 */

export type Hash = Buffer;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** MTH({}): the hash of the empty string. */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

export function leafHash(data: Uint8Array): Hash {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Hash {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** The largest power of two smaller than n (n > 1): where RFC 9162 splits a tree of n leaves. */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) over leaf hashes. */
export function rootOf(leaves: readonly Hash[]): Hash {
  return subtreeRoot(leaves, 0, leaves.length);
}

function subtreeRoot(leaves: readonly Hash[], from: number, to: number): Hash {
  const n = to - from;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[from] as Hash;
  const k = split(n);
  return nodeHash(subtreeRoot(leaves, from, from + k), subtreeRoot(leaves, from + k, to));
}

/**
 * Every hash in an RFC 9162 proof is the root of a run of consecutive leaves, MTH(D[from:to]), and
 * which runs depends on the sizes alone. The plans below are those runs; the proofs hash them from
 * the leaves in memory, and the evidence export folds them while the leaves stream by.
 */
export interface LeafRun {
  /** 0-based, `to` exclusive */
  from: number;
  to: number;
}

/** The runs whose roots make up PATH(index, D[size]), leaf to root. */
export function inclusionPlan(index: number, size: number): LeafRun[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  const plan: LeafRun[] = [];
  const walk = (m: number, from: number, to: number): void => {
    const n = to - from;
    if (n <= 1) return;
    const k = split(n);
    if (m < k) {
      walk(m, from, from + k);
      plan.push({ from: from + k, to });
    } else {
      walk(m - k, from + k, to);
      plan.push({ from, to: from + k });
    }
  };
  walk(index, 0, size);
  return plan;
}

/** The runs whose roots make up PROOF(size1, D[size2]). */
export function consistencyPlan(size1: number, size2: number): LeafRun[] {
  if (!Number.isSafeInteger(size1) || size1 < 1 || size1 > size2) throw new RangeError(`no consistency proof from size ${size1} to ${size2}`);
  const plan: LeafRun[] = [];
  const sub = (m: number, from: number, to: number, whole: boolean): void => {
    const n = to - from;
    if (m === n) {
      if (!whole) plan.push({ from, to });
      return;
    }
    const k = split(n);
    if (m <= k) {
      sub(m, from, from + k, whole);
      plan.push({ from: from + k, to });
    } else {
      sub(m - k, from + k, to, false);
      plan.push({ from, to: from + k });
    }
  };
  sub(size1, 0, size2, true);
  return plan;
}

/** PATH(m, D[n]): the audit path of leaf `index` in the tree of `leaves`. */
export function inclusionProof(index: number, leaves: readonly Hash[]): Hash[] {
  return inclusionPlan(index, leaves.length).map((run) => subtreeRoot(leaves, run.from, run.to));
}

/** PROOF(m, D[n]): proves that the first `size1` leaves are a prefix of `leaves`. */
export function consistencyProof(size1: number, leaves: readonly Hash[]): Hash[] {
  return consistencyPlan(size1, leaves.length).map((run) => subtreeRoot(leaves, run.from, run.to));
}

export type Verdict = { ok: true } | { ok: false; reason: string };

const OK: Verdict = { ok: true };
const bad = (reason: string): Verdict => ({ ok: false, reason });

/** RFC 9162 2.1.3.2: does `proof` show leaf `index` (hash `leaf`) in the tree of `size` with `root`? */
export function verifyInclusion(index: number, size: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): Verdict {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return bad(`leaf index ${index} is not inside a tree of size ${size}`);
  if (![leaf, root, ...proof].every(isHash)) return bad('every hash must be 32 bytes (SHA-256)');
  let fn = index;
  let sn = size - 1;
  let r: Hash = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return bad('the proof is longer than the path from the leaf to the root');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return bad('the proof is shorter than the path from the leaf to the root');
  return r.equals(root) ? OK : bad('the proof leads to another root');
}

/**
 * RFC 9162 2.1.4.2: is the tree of `size2` with `root2` an append-only extension of the tree of
 * `size1` with `root1`? A proof from the empty tree proves nothing and is refused.
 */
export function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): Verdict {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size2 < 0) return bad('tree sizes must be whole numbers');
  if (size1 > size2) return bad(`the first tree (${size1}) is larger than the second (${size2})`);
  if (size1 === 0) return bad('a consistency proof from the empty tree proves nothing');
  if (size1 === size2) {
    if (proof.length > 0) return bad('trees of equal size need an empty proof');
    return Buffer.from(root1).equals(root2) ? OK : bad('trees of equal size have different roots');
  }
  if (proof.length === 0) return bad('the proof is empty');
  if (![root1, root2, ...proof].every(isHash)) return bad('every hash must be 32 bytes (SHA-256)');
  const path: Uint8Array[] = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Hash = Buffer.from(path[0] as Uint8Array);
  let sr: Hash = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return bad('the proof is longer than the trees need');
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return bad('the proof is shorter than the trees need');
  if (!fr.equals(root1)) return bad('the proof does not lead to the first root');
  if (!sr.equals(root2)) return bad('the proof does not lead to the second root');
  return OK;
}

function isHash(h: Uint8Array): boolean {
  return h.length === 32;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * A tree kept by its right edge, so appending and taking the root cost O(log n) without the
 * leaves: `peaks` are the roots of the perfect subtrees that make up `size` leaves, largest first
 * (one per set bit of size). This is the instance head that survives restarts.
 */
export interface TreeState {
  size: number;
  peaks: Hash[];
}

export const EMPTY_TREE: TreeState = Object.freeze({ size: 0, peaks: [] as Hash[] }) as TreeState;

export function appendLeaf(state: TreeState, leaf: Hash): TreeState {
  const peaks = [...state.peaks];
  let carry = leaf;
  // merge equal-sized subtrees: one per trailing set bit of the old size
  for (let s = state.size; s % 2 === 1; s = Math.floor(s / 2)) carry = nodeHash(peaks.pop() as Hash, carry);
  peaks.push(carry);
  return { size: state.size + 1, peaks };
}

/** The root of a tree kept by its peaks: fold right to left, as MTH splits at powers of two. */
export function stateRoot(state: TreeState): Hash {
  if (state.peaks.length === 0) return EMPTY_ROOT;
  let root = state.peaks[state.peaks.length - 1] as Hash;
  for (let i = state.peaks.length - 2; i >= 0; i--) root = nodeHash(state.peaks[i] as Hash, root);
  return root;
}

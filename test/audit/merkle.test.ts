import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  appendLeaf,
  consistencyProof,
  EMPTY_ROOT,
  EMPTY_TREE,
  inclusionProof,
  leafHash,
  rootOf,
  stateRoot,
  verifyConsistency,
  verifyInclusion,
  type TreeState,
} from '../../src/audit/merkle';

const VECTORS = join(__dirname, '..', 'fixtures', 'rfc6962', 'testdata');

interface InclusionCase { leafIdx: number; treeSize: number; root: string; leafHash: string; proof: string[] | null; desc: string; wantErr: boolean }
interface ConsistencyCase { size1: number; size2: number; root1: string; root2: string; proof: string[] | null; desc: string; wantErr: boolean }

function cases<T>(kind: string): Array<[string, T]> {
  const root = join(VECTORS, kind);
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(join(root, f), 'utf8')) as T]);
}

const b64 = (s: string) => Buffer.from(s, 'base64');
const proofOf = (p: string[] | null) => (p ?? []).map(b64);

// The eight leaves of the reference tree behind the vectors (RFC 6962 test data, root 5dc9da79...).
const REFERENCE_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => leafHash(Buffer.from(h, 'hex')));

describe('RFC 6962 inclusion proofs against the published vectors', () => {
  const all = cases<InclusionCase>('inclusion');
  it('has the vectors', () => expect(all.length).toBeGreaterThan(50));
  it.each(all)('%s', (_name, c) => {
    const verdict = verifyInclusion(c.leafIdx, c.treeSize, b64(c.leafHash), proofOf(c.proof), b64(c.root));
    expect(verdict.ok).toBe(!c.wantErr);
  });
});

describe('RFC 6962 consistency proofs against the published vectors', () => {
  const all = cases<ConsistencyCase>('consistency');
  it('has the vectors', () => expect(all.length).toBeGreaterThan(50));
  it.each(all)('%s', (_name, c) => {
    const verdict = verifyConsistency(c.size1, c.size2, b64(c.root1), b64(c.root2), proofOf(c.proof));
    expect(verdict.ok).toBe(!c.wantErr);
  });
});

describe('proofs this module makes are the published ones', () => {
  it('the reference tree has the published root', () => {
    expect(rootOf(REFERENCE_LEAVES).toString('hex')).toBe('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
  });

  const happy = (kind: string) => cases<Record<string, unknown>>(kind).filter(([n]) => n.endsWith('happy-path.json'));
  it.each(happy('inclusion').filter(([, c]) => (c.treeSize as number) <= 8))('inclusion %s', (_n, c) => {
    const leaves = REFERENCE_LEAVES.slice(0, c.treeSize as number);
    expect(inclusionProof(c.leafIdx as number, leaves).map((h) => h.toString('base64'))).toEqual(c.proof ?? []);
    expect(rootOf(leaves).toString('base64')).toBe(c.root);
  });
  it.each(happy('consistency').filter(([, c]) => (c.size2 as number) <= 8 && (c.size1 as number) > 0))('consistency %s', (_n, c) => {
    const leaves = REFERENCE_LEAVES.slice(0, c.size2 as number);
    expect(consistencyProof(c.size1 as number, leaves).map((h) => h.toString('base64'))).toEqual(c.proof ?? []);
  });
});

describe('trees of every size up to 70', () => {
  const leaves = Array.from({ length: 70 }, (_, i) => leafHash(Buffer.from(`event ${i}`)));

  it('the tree kept by its peaks has the same root as the whole tree, at every size', () => {
    let state: TreeState = EMPTY_TREE;
    expect(stateRoot(state)).toEqual(EMPTY_ROOT);
    for (let n = 1; n <= leaves.length; n++) {
      state = appendLeaf(state, leaves[n - 1] as Buffer);
      expect(state.size).toBe(n);
      expect(state.peaks).toHaveLength(n.toString(2).replace(/0/g, '').length);
      expect(stateRoot(state)).toEqual(rootOf(leaves.slice(0, n)));
    }
  });

  it('every inclusion and consistency proof verifies, and fails for another leaf or root', () => {
    for (let n = 1; n <= leaves.length; n++) {
      const tree = leaves.slice(0, n);
      const root = rootOf(tree);
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(i, tree);
        expect(verifyInclusion(i, n, tree[i] as Buffer, proof, root)).toEqual({ ok: true });
        expect(verifyInclusion(i, n, leafHash(Buffer.from('forged')), proof, root).ok).toBe(false);
      }
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(m, tree);
        const root1 = rootOf(tree.slice(0, m));
        expect(verifyConsistency(m, n, root1, root, proof)).toEqual({ ok: true });
        if (m < n) expect(verifyConsistency(m, n, rootOf(leaves.slice(1, m + 1)), root, proof).ok).toBe(false);
      }
    }
  });

  it('names why a proof fails', () => {
    const tree = leaves.slice(0, 5);
    expect(verifyInclusion(5, 5, tree[0] as Buffer, [], rootOf(tree))).toEqual({ ok: false, reason: 'leaf index 5 is not inside a tree of size 5' });
    expect(verifyConsistency(0, 5, EMPTY_ROOT, rootOf(tree), [])).toEqual({ ok: false, reason: 'a consistency proof from the empty tree proves nothing' });
    expect(verifyConsistency(3, 5, rootOf(tree.slice(0, 3)), rootOf(leaves.slice(1, 6)), consistencyProof(3, tree))).toEqual({ ok: false, reason: 'the proof does not lead to the second root' });
  });
});

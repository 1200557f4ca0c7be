import { createHash } from 'node:crypto';
import { consistencyPlan, consistencyProof, inclusionPlan, inclusionProof, leafHash } from '../../src/audit/merkle';
import { RunRoots } from '../../src/evidence/streamed-proofs';

const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(createHash('sha256').update(String(i)).digest()));
const hex = (hs: Buffer[]) => hs.map((h) => h.toString('hex'));

describe('proofs computed while the leaves stream by', () => {
  const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 64, 100];

  test.each(sizes)('every inclusion proof in a tree of %i leaves equals the one built from all leaves', (n) => {
    const all = leaves(n);
    for (let m = 0; m < n; m++) {
      const plan = inclusionPlan(m, n);
      const roots = new RunRoots([plan]);
      all.forEach((l) => roots.push(l));
      expect(hex(roots.proof(plan))).toEqual(hex(inclusionProof(m, all)));
    }
  });

  test.each(sizes)('every consistency proof into a tree of %i leaves equals the one built from all leaves', (n) => {
    const all = leaves(n);
    for (let m = 1; m <= n; m++) {
      const plan = consistencyPlan(m, n);
      const roots = new RunRoots([plan]);
      all.forEach((l) => roots.push(l));
      expect(hex(roots.proof(plan))).toEqual(hex(consistencyProof(m, all)));
    }
  });

  test('several plans share one pass', () => {
    const all = leaves(37);
    const plans = [inclusionPlan(3, 37), inclusionPlan(36, 37), consistencyPlan(20, 37)];
    const roots = new RunRoots(plans);
    all.forEach((l) => roots.push(l));
    expect(hex(roots.proof(plans[0]!))).toEqual(hex(inclusionProof(3, all)));
    expect(hex(roots.proof(plans[1]!))).toEqual(hex(inclusionProof(36, all)));
    expect(hex(roots.proof(plans[2]!))).toEqual(hex(consistencyProof(20, all)));
  });

  test('a proof asked for before its leaves were all pushed is refused', () => {
    const plan = inclusionPlan(0, 8);
    const roots = new RunRoots([plan]);
    leaves(5).forEach((l) => roots.push(l));
    expect(() => roots.proof(plan)).toThrow(/were not all pushed/);
  });

  test.each([
    [0, 0],
    [5, 5],
    [-1, 3],
  ])('no inclusion plan for leaf %i of a tree of %i', (m, n) => {
    expect(() => inclusionPlan(m, n)).toThrow(RangeError);
  });
});

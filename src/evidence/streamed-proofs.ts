import { appendLeaf, EMPTY_TREE, stateRoot, type Hash, type TreeState } from '../audit/merkle';

/**
 * RFC 9162 inclusion and consistency proofs computed in one pass over the leaves, without holding
 * them: every hash in such a proof is the root of a run of consecutive leaves (MTH of D[from:to]),
 * so the runs are planned first from the sizes alone and their roots are folded while the leaves
 * stream by. Memory stays O(log n) however long the trail. The plans follow merkle.ts's
 * inclusionProof and consistencyProof step by step (the tests compare them).
 */

/** Leaves [from, to), 0-based. */
export interface LeafRun {
  from: number;
  to: number;
}

function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
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

/** Folds the roots of planned runs while leaves 0, 1, 2, ... are pushed in order. */
export class RunRoots {
  private readonly runs: Array<LeafRun & { tree: TreeState }>;
  private next = 0;

  constructor(plans: ReadonlyArray<readonly LeafRun[]>) {
    const unique = new Map<string, LeafRun>();
    for (const run of plans.flat()) unique.set(key(run), run);
    this.runs = [...unique.values()].sort((a, b) => a.from - b.from).map((r) => ({ ...r, tree: EMPTY_TREE }));
  }

  /** The leaves pushed so far. */
  get size(): number {
    return this.next;
  }

  push(leaf: Hash): void {
    const i = this.next;
    this.next += 1;
    for (const run of this.runs) {
      if (run.from > i) break;
      if (i < run.to) run.tree = appendLeaf(run.tree, leaf);
    }
  }

  /** The proof of a plan, once every leaf it spans was pushed. */
  proof(plan: readonly LeafRun[]): Hash[] {
    return plan.map((run) => {
      const r = this.runs.find((x) => x.from === run.from && x.to === run.to);
      if (!r || r.tree.size !== run.to - run.from) throw new RangeError(`leaves ${run.from}-${run.to - 1} were not all pushed`);
      return stateRoot(r.tree);
    });
  }
}

function key(run: LeafRun): string {
  return `${run.from}:${run.to}`;
}

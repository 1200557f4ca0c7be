import { appendLeaf, EMPTY_TREE, stateRoot, type Hash, type LeafRun, type TreeState } from '../audit/merkle';

/**
 * RFC 9162 inclusion and consistency proofs computed in one pass over the leaves, without holding
 * them: the runs a proof needs are planned from the sizes alone (merkle.ts inclusionPlan and
 * consistencyPlan, the same plans its in-memory proofs hash) and their roots are folded while the
 * leaves stream by. Memory stays O(log n) however long the trail.
 */

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

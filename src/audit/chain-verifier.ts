import { stateRoot, appendLeaf, EMPTY_TREE, type TreeState } from './merkle';
import { recomputeHash } from './sequencer';

/**
 * Checks one instance's chain, event by event in seq order, against the checkpoints signed for
 * it. Pure and streaming: memory stays constant however long the chain. Each finding names the
 * seq or range and what happened to it, in the words an auditor uses.
 */

export type FindingKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'rechained' | 'truncated' | 'unsigned-tail';

export interface Finding {
  kind: FindingKind;
  instanceId: string;
  /** first and last seq concerned */
  from: number;
  to: number;
  message: string;
}

const HASH = /^[0-9a-f]{64}$/;

/** Whether the event carries the hashes a chain seals it with (events from before the chain do not). */
export function sealedByChain(event: { hash?: unknown; prevHash?: unknown }): boolean {
  return typeof event.hash === 'string' && HASH.test(event.hash) && typeof event.prevHash === 'string';
}

/** A checkpoint whose signature was already checked: the tree of `size` events had `root`. */
export interface TrustedCheckpoint {
  size: number;
  root: Buffer;
}

export interface StoredEvent {
  seq: number;
  prevHash: string;
  hash: string;
  [field: string]: unknown;
}

export class ChainVerifier {
  private expected = 1;
  private prevHash = '';
  /** false right after a hole: the next event cannot be linked to its missing predecessor */
  private linkKnown = true;
  /** undefined once a hole makes the tree impossible to rebuild */
  private tree: TreeState | undefined = EMPTY_TREE;
  private readonly findings: Finding[] = [];
  private readonly checkpoints: TrustedCheckpoint[];
  private nextCheckpoint = 0;
  private lastGood = 0;
  /** once the rebuilt tree differs from a signed root, later roots differ too: only the first range is named */
  private diverged = false;
  /** hashes of the events just seen, to tell a reordering from a rebuilt chain */
  private readonly recent = new Map<string, number>();
  private unsealedRun: Finding | undefined;

  constructor(
    readonly instanceId: string,
    checkpoints: readonly TrustedCheckpoint[],
  ) {
    this.checkpoints = [...checkpoints].sort((a, b) => a.size - b.size);
  }

  push(event: StoredEvent): void {
    const seq = event.seq;
    if (!Number.isSafeInteger(seq) || seq < this.expected) {
      this.add('inserted', seq, seq, `an extra event claims seq ${seq}, which the chain already holds`);
      return;
    }
    if (seq > this.expected) {
      this.add('deleted', this.expected, seq - 1, seq - 1 === this.expected ? `event ${this.expected} is missing` : `events ${this.expected}-${seq - 1} are missing`);
      this.tree = undefined;
      this.linkKnown = false;
    }
    if (!sealedByChain(event)) {
      this.unsealed(seq);
      return;
    }
    if (recomputeHash(event) !== event.hash) {
      this.add('edited', seq, seq, `event ${seq} was changed after it was sealed: its content no longer matches its hash`);
    } else if (seq === 1 ? event.prevHash !== '' : this.linkKnown && event.prevHash !== this.prevHash) {
      const moved = this.recent.get(event.prevHash);
      if (moved !== undefined) this.add('reordered', seq, seq, `event ${seq} follows event ${moved} in the chain, not event ${seq - 1}: events were reordered`);
      else this.add('rechained', seq, seq, `event ${seq} does not link to event ${seq - 1}: the chain was rebuilt from here`);
    }
    this.recent.set(event.hash, seq);
    if (this.recent.size > 64) this.recent.delete(this.recent.keys().next().value as string);
    // The stored hash goes into the tree: an edit is reported above, not again as a rebuilt range.
    const leaf = Buffer.from(event.hash, 'hex');
    this.tree = this.tree && leaf.length === 32 ? appendLeaf(this.tree, leaf) : undefined;
    this.prevHash = event.hash;
    this.linkKnown = true;
    this.expected = seq + 1;
    this.checkReached(seq);
  }

  /**
   * An event without a chain hash (written by a gateway from before the hash chain, or inserted by
   * hand): nothing proves it, and the tree cannot be rebuilt past it. A run of them is one finding.
   */
  private unsealed(seq: number): void {
    const last = this.findings[this.findings.length - 1];
    if (last && last === this.unsealedRun && last.to === seq - 1) last.to = seq;
    else {
      this.add('edited', seq, seq, 'events carry no chain hash: the trail did not seal them (a gateway from before the hash chain wrote them, or they were inserted by hand), so nothing proves them');
      this.unsealedRun = this.findings[this.findings.length - 1];
    }
    this.tree = undefined;
    this.linkKnown = false;
    this.expected = seq + 1;
    this.checkReached(seq);
  }

  /** The findings, once every event has been pushed. */
  finish(): Finding[] {
    const last = this.expected - 1;
    const signed = this.checkpoints.length > 0 ? (this.checkpoints[this.checkpoints.length - 1] as TrustedCheckpoint).size : 0;
    if (signed > last) {
      this.add('truncated', last + 1, signed, `events ${last + 1}-${signed} were signed in a checkpoint but are gone: the chain was cut at its tail`);
    } else if (last > signed && !(this.unsealedRun && this.unsealedRun.from <= signed + 1 && this.unsealedRun.to === last)) {
      this.add('unsigned-tail', signed + 1, last, `events ${signed + 1}-${last} are chained but not yet covered by a signed checkpoint`);
    }
    return this.findings;
  }

  /** Compares the rebuilt tree with each checkpoint of this size. */
  private checkReached(seq: number): void {
    for (; this.nextCheckpoint < this.checkpoints.length; this.nextCheckpoint++) {
      const cp = this.checkpoints[this.nextCheckpoint] as TrustedCheckpoint;
      if (cp.size > seq) return;
      // a checkpoint inside a hole, or after one, cannot be recomputed: the hole is the finding
      if (cp.size < seq || !this.tree || this.diverged) continue;
      if (!stateRoot(this.tree).equals(cp.root)) {
        this.diverged = true;
        this.add(
          'rechained',
          this.lastGood + 1,
          cp.size,
          `events ${this.lastGood + 1}-${cp.size} differ from what checkpoint ${cp.size} signed: the chain was rebuilt without the signing key (later checkpoints cannot be compared past this range)`,
        );
      }
      this.lastGood = cp.size;
    }
  }

  private add(kind: FindingKind, from: number, to: number, message: string): void {
    this.findings.push({ kind, instanceId: this.instanceId, from, to, message: `instance ${this.instanceId}: ${message}` });
  }
}

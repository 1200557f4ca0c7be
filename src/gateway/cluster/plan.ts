import { join } from 'node:path';
import type { AuditConfig, GatewayConfig } from '../../config/schema';

/**
 * Decisions of a multi-process gateway, as plain data: how many workers, which audit instance
 * each one is, and what the primary does when one exits. No I/O: the primary and the workers
 * (primary.ts, worker.ts) act on them.
 */

/** `gateway.workers` as a number: "auto" is one worker per core the process may use. */
export function workerCount(setting: GatewayConfig['workers'], availableParallelism: number): number {
  return setting === 'auto' ? Math.max(1, availableParallelism) : setting;
}

/** Where a worker's audit trail lives: an instance of its own, stable across its restarts. */
export interface WorkerPlacement {
  /** `<instanceId>-w<slot>`: a restarted worker takes back this id's lease and chain */
  instanceId: string;
  /** `<spool.dir>/w<slot>`: the events only its spool holds are shipped by its next start */
  spoolDir: string;
  /** the JSON Lines sink with a file prefix of its own: two processes never rotate one file */
  sinks: AuditConfig['sinks'];
}

/**
 * The slot (1..N) names the worker, not its pid or cluster id: those change at every restart,
 * and an id that changed would leave the dead worker's spool unshipped and start a new chain.
 */
export function workerPlacement(baseInstanceId: string, slot: number, audit: Pick<AuditConfig, 'spool' | 'sinks'>): WorkerPlacement {
  const suffix = `w${slot}`;
  const { jsonl } = audit.sinks;
  return {
    instanceId: `${baseInstanceId}-${suffix}`,
    spoolDir: join(audit.spool.dir, suffix),
    sinks: { ...audit.sinks, ...(jsonl ? { jsonl: { ...jsonl, prefix: `${jsonl.prefix}-${suffix}` } } : {}) },
  };
}

/** How a slot has fared: what the restart policy looks at. */
export interface SlotRecord {
  /** exits without a clean stop since the slot last ran steadily */
  crashes: number;
  /** exits in a row before the worker was ready (a start that fails) */
  startFailures: number;
}

export interface WorkerExit {
  /** the worker had reported ready (its listeners were open) */
  wasReady: boolean;
  /** how long it ran, ms */
  upMs: number;
}

export type ExitDecision =
  | { action: 'restart'; delayMs: number; record: SlotRecord }
  | { action: 'give-up'; reason: string };

export const RESTART_POLICY = {
  /** first delay; doubled for each crash in a row */
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  /** a worker up this long has run steadily: its next crash starts the backoff again */
  steadyMs: 60_000,
  /** this many failed starts in a row of one slot stop the whole gateway: a restart will not fix it */
  maxStartFailures: 3,
} as const;

/**
 * What the primary does when a worker exits unasked. A crash is restarted after a delay that
 * doubles with each crash in a row, so a worker that dies at once never spins the machine; a slot
 * whose worker keeps failing to start ends the gateway with an error, since what stops it (the
 * database, the port, a file) is for the operator or the service manager to fix.
 */
export function decideAfterExit(record: SlotRecord, exit: WorkerExit, policy: typeof RESTART_POLICY = RESTART_POLICY): ExitDecision {
  const steady = exit.wasReady && exit.upMs >= policy.steadyMs;
  const crashes = steady ? 1 : record.crashes + 1;
  const startFailures = exit.wasReady ? 0 : record.startFailures + 1;
  if (startFailures >= policy.maxStartFailures) {
    return { action: 'give-up', reason: `a worker failed to start ${startFailures} times in a row` };
  }
  return { action: 'restart', delayMs: Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (crashes - 1)), record: { crashes, startFailures } };
}

/** One worker's answer to "are you ready?" (the same facts as a single gateway's /readyz). */
export interface WorkerHealth {
  slot: number;
  pid: number;
  instanceId: string;
  ready: boolean;
  auditPending: number;
}

/**
 * The gateway is ready while at least one worker answers and every worker that answers accepts
 * requests: the primary hands connections only to workers that listen, so a worker being
 * restarted takes none, but one whose audit refuses would answer 503 to its share.
 */
export function clusterReady(answers: readonly WorkerHealth[]): boolean {
  return answers.length > 0 && answers.every((a) => a.ready);
}

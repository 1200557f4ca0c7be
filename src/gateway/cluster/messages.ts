import type { Registry } from 'prom-client';
import type { WorkerHealth } from './plan';

/**
 * What the primary and its workers say to each other over the cluster's IPC channel, defined once
 * and imported by both sides. Every type starts with `vecgate:` so other users of the channel
 * (Node's own cluster messages) are told apart.
 */

/** The environment variable that tells a forked worker its slot (1..N). */
export const WORKER_SLOT_ENV = 'VECGATE_WORKER_SLOT';

export type PrimaryMessage =
  /** the configuration text the primary validated: every worker runs the same, even if the file changed since */
  | { type: 'vecgate:start'; source: string; text: string }
  | { type: 'vecgate:ask'; id: number; what: 'health' | 'metrics' }
  /** stop gracefully: flush the trail, release the lease, exit */
  | { type: 'vecgate:stop' };

export type WorkerMessage =
  | { type: 'vecgate:ready'; instanceId: string; url: string; connectionUrls: Record<string, string> }
  | { type: 'vecgate:health'; id: number; health: WorkerHealth }
  | { type: 'vecgate:metrics'; id: number; metrics: WorkerMetrics };

/** A worker's registry as JSON (what AggregatorRegistry.aggregate sums). */
export type WorkerMetrics = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

function isVecgateMessage(m: unknown): boolean {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('vecgate:');
}

export const isPrimaryMessage = (m: unknown): m is PrimaryMessage => isVecgateMessage(m);
export const isWorkerMessage = (m: unknown): m is WorkerMessage => isVecgateMessage(m);

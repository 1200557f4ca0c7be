import type { Client } from '@temporalio/client';
import type { Config } from '../config/schema';
import type { BundleWriter } from './bundle';
import type { ApprovalsSummary } from './summary';

/**
 * PLACEHOLDER (being built on branch h-approvals): every approval workflow of the period, its full
 * history as replayable JSON under `approvals/histories/`, and `approvals/approvals.csv`.
 */

export interface ApprovalsExportOptions {
  config: Config;
  /** absent when Temporal is not configured or not reachable: the section says approvals are not evidenced */
  temporal: { client: Client; namespace: string } | undefined;
  from: Date;
  to: Date;
  /** approval ids the trail's events of the period name: each should have a history */
  expectedApprovalIds: ReadonlySet<string>;
  /** renderings and histories unmasked (--unmasked) */
  unmasked: boolean;
}

export function exportApprovals(options: ApprovalsExportOptions, _writer: BundleWriter): Promise<ApprovalsSummary> {
  if (options.temporal) return Promise.reject(new Error('approval export not built yet'));
  return Promise.resolve({ total: 0, byStatus: [], rows: [], rowsOmitted: 0, decisions: 0, refusedDecisions: 0, executed: 0, missingHistories: [...options.expectedApprovalIds], temporalReached: false });
}

/** Replays each history file of a bundle against the workflow code; one verdict per file. */
export function replayBundleHistories(_dir: string, paths: readonly string[]): Promise<Array<{ path: string; ok: boolean; error?: string }>> {
  return Promise.resolve(paths.map((path) => ({ path, ok: false, error: 'replay not built yet' })));
}

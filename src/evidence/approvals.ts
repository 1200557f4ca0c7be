import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type History as ReplayHistory } from '@temporalio/worker';
import { stringify } from 'csv-stringify/sync';
import { APPROVAL_WORKFLOWS_PATH } from '../approval/worker';
import type { Config } from '../config/schema';
import { compileMasking, type Masker } from '../masking';
import { APPROVAL_WORKFLOW_TYPE } from '../../workflows/approval-contract';
import { APPROVALS_CSV_COLUMNS, approvalCsvRow, approvalRecordOf, approvalRowOf, historyFileName, historyFindings, maskHistory, type MaskText } from './approval-history';
import type { BundleStream, BundleWriter } from './bundle';
import { historyFromJson, historyToJson, type HistoryJson } from './history-json';
import type { ApprovalRow, ApprovalsSummary } from './summary';

/**
 * The approvals section of the evidence bundle: every approval workflow of the period, its full
 * history as replayable JSON under `approvals/histories/`, `approvals/approvals.csv` derived from
 * those histories alone, and `approvals/missing-histories.csv` for approvals the trail names whose
 * history Temporal no longer has. Streams: one small batch of histories in memory at a time.
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
  /** the masking token style's key (LoadedConfig.maskingTokenKey); needed when a rule uses that style */
  maskingTokenKey?: Buffer;
  /** rows of approvals.csv repeated in the summary for the report (default 500) */
  summaryRows?: number;
}

export const APPROVALS_CSV = 'approvals/approvals.csv';
export const MISSING_HISTORIES_CSV = 'approvals/missing-histories.csv';
export const HISTORIES_DIR = 'approvals/histories/';

const DEFAULT_SUMMARY_ROWS = 500;
/** histories fetched at once: enough to hide Temporal's round trips, few enough to keep memory flat */
const FETCH_BATCH = 8;

export class ApprovalsExportError extends Error {
  readonly code = 'EVIDENCE_APPROVALS';
}

/**
 * Every approval workflow active in [from, to]: started by `to` and closed at `from` or later (or
 * still running). That holds every approval started or closed in the period, and the few that span
 * it. Listed by visibility (WorkflowType, StartTime, CloseTime, ExecutionStatus).
 */
export function approvalsQuery(from: Date, to: Date): string {
  return `WorkflowType = '${APPROVAL_WORKFLOW_TYPE}' AND StartTime <= '${to.toISOString()}' AND (CloseTime >= '${from.toISOString()}' OR ExecutionStatus = 'Running')`;
}

/** Spreadsheets (Excel) read a csv as UTF-8 only when it starts with a byte order mark: names keep their accents. */
const UTF8_BOM = '\ufeff';

/** One csv line; a cell a spreadsheet would run as a formula (=, +, -, @ ...) is escaped with a quote. */
export const approvalsCsvLine = (cells: readonly string[]): string => stringify([cells], { escape_formulas: true, record_delimiter: 'unix' });
const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

export async function exportApprovals(options: ApprovalsExportOptions, writer: BundleWriter): Promise<ApprovalsSummary> {
  const maskText = options.unmasked ? undefined : maskTextOf(maskerOf(options));
  const tally = new Tally(options.summaryRows ?? DEFAULT_SUMMARY_ROWS);
  const csv = writer.stream(APPROVALS_CSV);
  await csv.write(`${UTF8_BOM}${approvalsCsvLine(APPROVALS_CSV_COLUMNS)}`);

  const missing: Array<{ id: string; reason: string }> = [];
  let reached = options.temporal !== undefined;
  if (!options.temporal) {
    for (const id of options.expectedApprovalIds) missing.push({ id, reason: 'Temporal is not configured or was not reached: no history exported' });
  } else {
    const { client } = options.temporal;
    const out = { writer, csv, tally, maskText };
    /** undefined when Temporal has no such history (retention removed it, or it never was) */
    const fetch = async (workflowId: string, runId: string | undefined): Promise<HistoryJson | undefined> => {
      try {
        return historyToJson(await client.workflow.getHandle(workflowId, runId).fetchHistory());
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    };
    const exported = new Set<string>();
    let listed = 0;
    let batch: Array<{ workflowId: string; runId: string }> = [];
    const flush = async () => {
      // fetched together, written in listing order
      const histories = await Promise.all(batch.map(async (b) => ({ ...b, history: await fetch(b.workflowId, b.runId) })));
      batch = [];
      for (const { workflowId, runId, history } of histories) {
        if (!history) continue;
        await writeHistory(history, workflowId, runId, out);
        exported.add(workflowId);
      }
    };
    try {
      for await (const info of client.workflow.list({ query: approvalsQuery(options.from, options.to) })) {
        listed++;
        batch.push({ workflowId: info.workflowId, runId: info.runId });
        if (batch.length >= FETCH_BATCH) await flush();
      }
      await flush();
    } catch (err) {
      // Temporal not answering the first page means approvals are not evidenced; a failure later is an export failure
      if (listed > 0) throw err;
      reached = false;
      for (const id of options.expectedApprovalIds) missing.push({ id, reason: `Temporal was not reached (${errorText(err)}): no history exported` });
    }
    if (reached) {
      // The trail names these but the listing did not return them (closed before the period, or
      // visibility behind): fetched by id, the latest run; not found means the history is gone or never was.
      for (const id of options.expectedApprovalIds) {
        if (exported.has(id)) continue;
        const history = await fetch(id, undefined);
        if (history) await writeHistory(history, id, undefined, out);
        else missing.push({ id, reason: 'no workflow history in Temporal: retention expired, or the approval was never started' });
      }
    }
  }
  await csv.close();
  await writeMissing(writer, missing);
  return tally.summary(missing.map((m) => m.id), reached);
}

async function writeHistory(
  history: HistoryJson,
  workflowId: string,
  runId: string | undefined,
  out: { writer: BundleWriter; csv: BundleStream; tally: Tally; maskText: MaskText | undefined },
): Promise<void> {
  const masked = out.maskText ? maskHistory(history, out.maskText).valuesMasked : 0;
  const record = approvalRecordOf(history, { workflowId, ...(runId ? { runId } : {}) });
  await out.writer.writeFile(historyFileName(record.workflowId, record.runId, sha256Hex), `${JSON.stringify(history, null, 2)}\n`);
  await out.csv.write(approvalsCsvLine(approvalCsvRow(record)));
  out.tally.add(approvalRowOf(record), masked);
}

async function writeMissing(writer: BundleWriter, missing: Array<{ id: string; reason: string }>): Promise<void> {
  const file = writer.stream(MISSING_HISTORIES_CSV);
  await file.write(`${UTF8_BOM}${approvalsCsvLine(['approval_id', 'reason'])}`);
  for (const m of [...missing].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) await file.write(approvalsCsvLine([m.id, m.reason]));
  await file.close();
}

class Tally {
  total = 0;
  private readonly rows: ApprovalRow[] = [];
  private readonly byStatus = new Map<string, number>();
  private decisions = 0;
  private refusedDecisions = 0;
  private executed = 0;
  private valuesMasked = 0;

  constructor(private readonly keep: number) {}

  add(row: ApprovalRow, masked: number): void {
    this.total++;
    if (this.rows.length < this.keep) this.rows.push(row);
    this.byStatus.set(row.status, (this.byStatus.get(row.status) ?? 0) + 1);
    this.decisions += row.decisions.length;
    this.refusedDecisions += row.refusals;
    if (row.execution) this.executed++;
    this.valuesMasked += masked;
  }

  summary(missingHistories: string[], temporalReached: boolean): ApprovalsSummary {
    return {
      total: this.total,
      byStatus: [...this.byStatus].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1)),
      rows: this.rows,
      rowsOmitted: this.total - this.rows.length,
      decisions: this.decisions,
      refusedDecisions: this.refusedDecisions,
      executed: this.executed,
      missingHistories: [...missingHistories].sort(),
      temporalReached,
      valuesMasked: this.valuesMasked,
    };
  }
}

function maskerOf(options: ApprovalsExportOptions): Masker {
  try {
    return compileMasking(options.config.masking.rules, { tokenKey: options.maskingTokenKey });
  } catch (err) {
    throw new ApprovalsExportError(`approval histories cannot be masked: ${errorText(err)}; or export with --unmasked (recorded in the manifest)`);
  }
}

/**
 * Approvers are not the caller, so no group exempts them: every rule of the approval's connection
 * and collections applies, as when the gateway rendered the request (src/approval/gate.ts).
 */
function maskTextOf(masker: Masker): MaskText {
  return (value, request) => {
    const plan = masker.planFor({ connection: String(request.connection), collections: Array.isArray(request.collections) ? request.collections : [], groups: [] });
    if (!plan) return { text: value, masked: 0 };
    const out = plan.maskText(value);
    return { text: out.text, masked: out.stats.valuesMasked };
  };
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; code?: number; cause?: { code?: number } };
  return e?.name === 'WorkflowNotFoundError' || e?.code === 5 || e?.cause?.code === 5;
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

// ---------------------------------------------------------------------------------------------
// replay

export interface ReplayVerdict {
  path: string;
  ok: boolean;
  error?: string;
}

/**
 * Replays each history file of a bundle against the workflow code; one verdict per file. A file
 * passes when it is a workflow history, its recorded answers agree with its inputs
 * (historyFindings: replay does not compare answers) and the workflow replays it without
 * nondeterminism, so it is shown to be a genuine execution of today's code. The workflow code is
 * bundled once (workflows/ from src under ts-jest/swc, dist/workflows from the built CLI).
 */
export async function replayBundleHistories(dir: string, paths: readonly string[], options: { workflowsPath?: string } = {}): Promise<ReplayVerdict[]> {
  const verdicts = new Map<string, ReplayVerdict>();
  const inconsistent = new Map<string, string>();
  if (paths.length === 0) return [];
  quietRuntime();
  const quiet = new DefaultLogger('ERROR', () => {});
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: options.workflowsPath ?? APPROVAL_WORKFLOWS_PATH, logger: quiet });

  async function* histories(): AsyncGenerator<{ workflowId: string; history: ReplayHistory }> {
    for (const path of paths) {
      let json: unknown;
      try {
        json = JSON.parse(await readFile(join(dir, ...path.split('/')), 'utf8'));
      } catch (err) {
        verdicts.set(path, { path, ok: false, error: `not readable JSON: ${errorText(err)}` });
        continue;
      }
      let history: ReplayHistory;
      try {
        history = historyFromJson(json) as ReplayHistory;
      } catch (err) {
        verdicts.set(path, { path, ok: false, error: `not a workflow history: ${errorText(err)}` });
        continue;
      }
      const findings = historyFindings(json as HistoryJson);
      if (findings.length > 0) inconsistent.set(path, `inconsistent history: ${findings.join('; ')}`);
      // replayed all the same: its verdict names what replay finds as well
      // the path is the replay's workflow id: unique per file, and how its result is found
      yield { workflowId: path, history };
    }
  }

  for await (const result of Worker.runReplayHistories({ workflowBundle, replayName: 'vecgate-evidence-verify' }, histories())) {
    const path = result.workflowId;
    const errors = [result.error ? replayErrorText(result.error) : undefined, inconsistent.get(path)].filter((e): e is string => e !== undefined);
    verdicts.set(path, errors.length > 0 ? { path, ok: false, error: errors.join('; ') } : { path, ok: true });
  }
  return paths.map((path) => verdicts.get(path) ?? { path, ok: false, error: 'not replayed' });
}

/**
 * A history that fails replay makes Temporal's core log the failed workflow task as a warning, and
 * the verdict already names it: in a process that has no Temporal runtime yet (the verify command)
 * only errors are printed. A runtime the caller installed keeps its own logging.
 */
function quietRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } });
  } catch {
    // already installed or in use
  }
}

/** The replayer's error, cut to the sentence that says what differed. */
function replayErrorText(err: Error): string {
  const core = /\[TMPRL\d+\][^"]*/.exec(err.message)?.[0];
  return `${err.name}: ${core ?? err.message.slice(0, 500)}`;
}

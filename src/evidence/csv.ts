import { stringify } from 'csv-stringify/sync';
import type { AuditEvent } from '../audit/event';

/**
 * The bundle's CSV files, as an auditor opens them in a spreadsheet. Collection names, principals
 * and error messages come from callers, so a cell that a spreadsheet would run as a formula
 * (starting with = + - @ or a control character) gets a leading apostrophe (OWASP's advice on CSV
 * injection); the JSON Lines file keeps the values as they were.
 */

export const EVENT_COLUMNS = [
  'time',
  'instance',
  'seq',
  'requestId',
  'principal',
  'email',
  'groups',
  'operation',
  'collections',
  'decision',
  'ruleId',
  'status',
  'errorCode',
  'approvalId',
  'recordsRequested',
  'recordsReturned',
  'valuesMasked',
  'bytesIn',
  'bytesOut',
  'system',
  'hash',
] as const;

type Cell = string | number;

export function eventRow(e: AuditEvent & { hash: string }): Cell[] {
  return [
    new Date(e.time).toISOString(),
    e.instanceId,
    e.seq,
    e.requestId,
    e.principal?.subject ?? '',
    e.principal?.email ?? '',
    e.principal?.groups.join(' ') ?? '',
    e.operation ?? '',
    e.collections.join(' '),
    e.decision.effect,
    e.decision.ruleId ?? '',
    e.status,
    e.error?.code ?? '',
    e.approval?.approvalId ?? '',
    e.records?.requested ?? '',
    e.records?.returned ?? '',
    e.masking?.valuesMasked ?? '',
    e.bytesIn,
    e.bytesOut,
    e.system ? (e.configuration !== undefined ? 'configuration' : 'yes') : '',
    e.hash,
  ];
}

export function csvLines(rows: ReadonlyArray<readonly Cell[]>): string {
  return rows.length === 0 ? '' : stringify(rows.map((r) => r.map(safeCell)), { record_delimiter: 'windows', quoted_match: /[\r\n]/ });
}

export function csvHeader(columns: readonly string[]): string {
  return stringify([[...columns]], { record_delimiter: 'windows', quoted_match: /[\r\n]/ });
}

export function safeCell(cell: Cell): Cell {
  // eslint-disable-next-line no-control-regex -- control characters are what is looked for
  return typeof cell === 'string' && /^[=+\-@\u0000-\u001f]/.test(cell) ? `'${cell}` : cell;
}

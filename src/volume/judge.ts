import type { OperationClass, RequestedRecords } from '../dialect/types';
import type { EffectiveLimits } from './limits';

/**
 * Is an allowed search or read an export by its volume (THREATS 31)? Pure: the dialect counted
 * what the request asks for, the usage store counted what this principal was already sent from
 * the collection within the window. A request over a limit is re-classed as export, and policy
 * then decides again (the export review rule fires).
 */

/** Records sent to one principal from one collection within the window, as far as this gateway knows. */
export interface Usage {
  records: number;
  /** false when the shared store could not be read or written lately: only the unreachable allowance applies */
  trusted: boolean;
}

export interface VolumeQuestion {
  operation: OperationClass;
  requested: RequestedRecords | undefined;
  limits: EffectiveLimits | undefined;
  /** needed only when limits has a window */
  usage?: Usage;
  /** records per window allowed while the store is unreachable */
  unreachableAllowance: number;
}

export type VolumeVerdict = { export: false } | { export: true; reason: string };

const WITHIN: VolumeVerdict = Object.freeze({ export: false });

/** Only searches and reads that return records are measured; everything else keeps its class. */
const MEASURED: ReadonlySet<OperationClass> = new Set(['search', 'read']);

export function judgeVolume(q: VolumeQuestion): VolumeVerdict {
  if (!q.limits || q.requested === undefined || !MEASURED.has(q.operation)) return WITHIN;
  const asked = q.requested === 'unbounded' ? 'an unbounded number of records (no limit)' : `${q.requested} record${q.requested === 1 ? '' : 's'}`;
  const max = q.limits.maxRecordsPerRequest;
  if (max && (q.requested === 'unbounded' || q.requested > max.records)) {
    return { export: true, reason: `it asks for ${asked}, more than the ${max.records} per request that ${max.source} allows` };
  }
  const window = q.limits.window;
  if (!window) return WITHIN;
  const usage = q.usage ?? { records: 0, trusted: false };
  const ceiling = usage.trusted ? window.records : Math.min(window.records, q.unreachableAllowance);
  const more = q.requested === 'unbounded' ? Infinity : q.requested;
  if (usage.records + more <= ceiling) return WITHIN;
  const sent = `you were sent ${usage.records} record${usage.records === 1 ? '' : 's'} from this collection within the last ${window.seconds} s`;
  if (!usage.trusted) {
    return { export: true, reason: `the shared usage store cannot be reached, so only ${ceiling} records per ${window.seconds} s are allowed as this gateway counts them; ${sent} and ask for ${asked}` };
  }
  return { export: true, reason: `${sent} and ask for ${asked}, which would pass the ${window.records} per ${window.seconds} s that ${window.source} allows` };
}

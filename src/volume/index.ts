import type { Classification } from '../dialect/types';
import type { Decision } from '../policy/evaluate';
import { judgeVolume } from './judge';
import type { VolumeLimitTable } from './limits';
import type { UsageKey, UsageStore } from './usage-store';

export { judgeVolume, type Usage, type VolumeQuestion, type VolumeVerdict } from './judge';
export { compileVolumeLimits, describeLimits, effectiveLimits, type EffectiveLimits, type VolumeLimitTable } from './limits';
export { openUsageStore, type UsageKey, type UsageStore } from './usage-store';

/** What the handler needs to measure reads: the limits, and the shared counts (absent when no window is configured). */
export interface VolumeControl {
  limits: VolumeLimitTable;
  usage?: UsageStore;
  unreachableAllowance: number;
}

/**
 * Why an allowed search or read counts as export, or undefined when it stays as it is. Reads the
 * usage store only when the limits in force have a window.
 */
export async function volumeExportReason(v: VolumeControl, q: { connection: string; decision: Decision; classification: Classification; key: UsageKey | undefined }): Promise<string | undefined> {
  if (q.decision.effect !== 'allow' || q.classification.requested === undefined) return undefined;
  const limits = v.limits.limitsFor(q.connection, q.decision.ruleId);
  if (!limits) return undefined;
  const usage = limits.window && v.usage && q.key ? await v.usage.usage(q.key, limits.window.seconds) : undefined;
  const verdict = judgeVolume({ operation: q.classification.operation, requested: q.classification.requested, limits, usage, unreachableAllowance: v.unreachableAllowance });
  return verdict.export ? verdict.reason : undefined;
}

/**
 * One record of a response as masking sees it: `data` holds the parts that may carry personal data
 * (for Chroma: document, metadata, uri), never vectors, ids or distances. Masking edits `data` in
 * place; `commit()` writes the edited values back into the response.
 */
export interface RecordView {
  data: Record<string, unknown>;
  commit(): void;
}

/**
 * What masking did to one response, for the audit event. Names and counts only: never a value.
 */
export interface MaskStats {
  /** rules that applied and masked (or would have masked) this response */
  rulesApplied: string[];
  /** rules that applied but that the caller's groups exempt: clear text, audited as exempt */
  rulesExempted: string[];
  /** masked values per detector (email, phone, ..., custom pattern names) */
  detectorsFired: Record<string, number>;
  /** masked locations per designated field path */
  fieldsMasked: Record<string, number>;
  /** leaf values changed */
  valuesMasked: number;
}

export function emptyStats(rulesApplied: readonly string[] = [], rulesExempted: readonly string[] = []): MaskStats {
  return { rulesApplied: [...rulesApplied], rulesExempted: [...rulesExempted], detectorsFired: {}, fieldsMasked: {}, valuesMasked: 0 };
}

/** Adds the counts of `from` to `into` (rule lists are the plan's, the same in both). */
export function addStats(into: MaskStats, from: MaskStats): MaskStats {
  for (const [k, n] of Object.entries(from.detectorsFired)) into.detectorsFired[k] = (into.detectorsFired[k] ?? 0) + n;
  for (const [k, n] of Object.entries(from.fieldsMasked)) into.fieldsMasked[k] = (into.fieldsMasked[k] ?? 0) + n;
  into.valuesMasked += from.valuesMasked;
  return into;
}

import type { JsonNode } from './json-scan';

/**
 * One record of a scanned response as masking sees it: `parts` are the nodes that may carry
 * personal data (for Chroma: document, metadata, uri), never vectors or distances. Designated field
 * paths start at a part name (metadata.email). The id is searched by the detectors (scanIds) but
 * never masked whole as a field. Masking adds replacements of these nodes' source text; it never
 * changes anything else.
 */
export interface RecordView {
  parts: Record<string, JsonNode | undefined>;
  id?: JsonNode;
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

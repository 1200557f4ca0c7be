import type { FilterTests } from '../dialect/types';
import type { MaskGuard } from '../masking';

/**
 * Filters on masked data (THREATS 32). A caller who sees a value masked must not learn it by
 * asking the database to match guesses against it: `where: {email: guess}` or
 * `where_document: {$contains: guess}` answers yes or no through which ids come back. Pure: the
 * dialect says what a filter tests, the masking plan says what is masked for this caller.
 */
export type FilterVerdict =
  | { verdict: 'pass' }
  /** what `tested` lists is masked for the caller; the plan says refuse or review */
  | { verdict: 'refuse' | 'review'; tested: string[]; reason: string };

/** names the refusal where a decision names its rule (audit events, policy explain) */
export const FILTER_ON_MASKED_RULE = 'filter-on-masked';

const PASS: FilterVerdict = Object.freeze({ verdict: 'pass' });

/** `guard` is the plan's, and only when the plan masks (not for an exempt caller). */
export function judgeFilters(filters: FilterTests | undefined, guard: MaskGuard | undefined): FilterVerdict {
  if (!filters || !guard) return PASS;
  const tested: string[] = [];
  if (filters.unreadable) tested.push('a filter vecgate cannot read');
  for (const key of filters.metadataKeys) if (guards(guard, ['metadata', ...key.split('.')])) tested.push(`metadata.${key}`);
  if (filters.documentOperators.length > 0 && (guard.documentDetectors || guards(guard, ['document']))) {
    tested.push(`the document (${filters.documentOperators.join(', ')})`);
  }
  if (tested.length === 0) return PASS;
  const what = tested.join(', ');
  const verdict = guard.onFilter;
  const outcome = verdict === 'refuse' ? 'so the request is refused' : 'so the request counts as an export and needs approval';
  return {
    verdict,
    tested,
    reason: `The filter tests ${what}, which is masked for you: matching guesses against it would reveal the hidden values, ${outcome}. Filters on unmasked metadata keys, reads by id and searches without such a filter still work.`,
  };
}

/** True when a designated field path covers this location (`*` is any one key; a parent covers its children). */
function guards(guard: MaskGuard, location: readonly string[]): boolean {
  return guard.fields.some((path) => {
    const parts = path.split('.');
    if (parts.length > location.length) return false;
    return parts.every((p, i) => p === '*' || p === location[i]);
  });
}

import type { RequestDetail } from '../dialect/types';
import type { MaskPlan } from '../masking';
import { REQUEST_RENDERING_MAX_CHARS, type RequestRendering } from '../../workflows/approval-contract';

/**
 * The request as approvers are shown it (THREATS 34), as a pure function of what the gateway will
 * send: the first line is the method and target, then one `label: value` line per detail the
 * dialect picked. Values are canonical JSON (keys sorted, one spelling per value), so the same
 * request always renders the same text. Masking runs on the values before printing and cutting,
 * so no value is cut in half before a detector could see it whole.
 */

export interface RenderRequestInput {
  /** upper case */
  method: string;
  /** path and query, as the upstream will receive them */
  target: string;
  bodyBytes: number;
  bodySha256: string;
  /** what the dialect says the body asks for; undefined when the body is not JSON */
  details: readonly RequestDetail[] | undefined;
  /** masks the values in place; absent when no masking rule applies */
  mask?: MaskPlan;
  maxChars?: number;
}

/** strings longer than this are cut in summaries (filters are shown whole) */
const SUMMARY_STRING_MAX = 120;
/** longer lists show this many of their first entries and a count (a list one longer is shown whole) */
const SUMMARY_LIST_FIRST = 3;
/** a list of at least this many numbers is a vector: shown by its length */
const VECTOR_MIN = 5;

export function renderRequest(input: RenderRequestInput): RequestRendering {
  const max = input.maxChars ?? REQUEST_RENDERING_MAX_CHARS;
  const lines = [`${input.method} ${visible(input.target)}`];
  if (input.details === undefined) {
    if (input.bodyBytes > 0) lines.push(`body: ${input.bodyBytes} bytes, not JSON: not shown; the grant is bound to it by its sha256`);
  } else {
    for (const detail of input.details) lines.push(`${visible(detail.label)}: ${valueOf(detail, input.mask)}`);
  }
  return cut(lines.join('\n'), max, input.bodySha256);
}

function valueOf(detail: RequestDetail, mask: MaskPlan | undefined): string {
  if ('note' in detail) return detail.note;
  try {
    if ('exact' in detail) return print(masked(detail.exact, mask), false);
    if ('summary' in detail) return print(masked(detail.summary, mask), true);
    const records = detail.records.map((r) => {
      const data = structuredClone(r.data);
      mask?.maskRecord(data);
      return print(r.id === undefined ? data : { id: r.id, ...data }, true);
    });
    const more = detail.total > records.length ? `\n  … ${detail.total - records.length} more` : '';
    return `${detail.total} in all${records.map((r) => `\n  ${r}`).join('')}${more}`;
  } catch {
    // masking refuses JSON nested past its depth limit: withhold rather than show it unmasked
    return '(not shown: too deeply nested to mask)';
  }
}

function masked(value: unknown, mask: MaskPlan | undefined): unknown {
  return mask ? mask.maskLooseJson(structuredClone(value)).value : value;
}

/** Canonical JSON on one line: keys sorted; in a summary, long strings and lists are cut and vectors counted. */
export function print(value: unknown, summarise: boolean): string {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'string') {
    if (summarise && value.length > SUMMARY_STRING_MAX) return `${quote(value.slice(0, SUMMARY_STRING_MAX))}…(${value.length} characters)`;
    return quote(value);
  }
  if (Array.isArray(value)) {
    if (summarise && value.length >= VECTOR_MIN && value.every((v) => typeof v === 'number')) return `<${value.length} numbers>`;
    const shown = summarise && value.length > SUMMARY_LIST_FIRST + 1 ? value.slice(0, SUMMARY_LIST_FIRST) : value;
    const rest = value.length - shown.length;
    const items = shown.map((v) => print(v, summarise));
    if (rest > 0) items.push(`… ${rest} more, ${value.length} in all`);
    return `[${items.join(', ')}]`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${quote(k)}: ${print(v, summarise)}`).join(', ')}}`;
  }
  return JSON.stringify(String(value));
}

/**
 * A JSON string whose invisible characters are spelled out: text that hides or reorders what an
 * approver reads (bidi overrides, zero-width spaces) must not make a filter look like another.
 */
function quote(text: string): string {
  return visible(JSON.stringify(text));
}

function visible(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is spelled out
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** At most `max` characters; a cut ends with a note that says how much is missing. */
export function cut(text: string, max: number, bodySha256: string): RequestRendering {
  if (text.length <= max) return { text, truncated: false };
  const note = (omitted: number) => `\n… ${omitted} more characters not shown; the grant is bound to the whole body (sha256 ${bodySha256.slice(0, 16)}…)`;
  // the note's length depends on the count it names: size it for the largest count
  const keep = Math.max(0, max - note(text.length).length);
  return { text: `${text.slice(0, keep)}${note(text.length - keep)}`, truncated: true };
}

import { isUtf8 } from 'node:buffer';
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync, type ZlibOptions } from 'node:zlib';
import { VecgateError } from '../errors';
import { type JsonEdit, JsonTooDeepError, type ScannedJson, scanJson, splice } from './json-scan';
import { MAX_MASK_DEPTH, type MaskPlan } from './masker';
import { addStats, emptyStats, type MaskStats, type RecordView } from './types';

/**
 * A whole upstream response in, the same response masked out. Anything that stands in the way of
 * masking safely (a coding or content type vecgate cannot read, malformed JSON, a body over the
 * limit, a shape the dialect does not know) refuses the response: it is never passed on unmasked.
 * The JSON is scanned once and the masked strings are spliced into the original bytes: numbers keep
 * their exact digits and vectors are only validated, never rebuilt.
 */

export interface BufferedResponse {
  status: number;
  /** lower-case names, as undici and node:http give them */
  headers: Record<string, string | string[] | undefined>;
  /** the whole body as received, still content-encoded */
  body: Buffer;
}

export interface MaskedResponse {
  headers: Record<string, string | string[]>;
  /** plain (identity-encoded) */
  body: Buffer;
  stats: MaskStats;
}

export interface MaskResponseOptions {
  plan: MaskPlan;
  /** the dialect's record views of a successful response's JSON; undefined for a shape it does not know */
  records: (json: ScannedJson) => RecordView[] | undefined;
  /** record-shaped parts of an error body, where designated fields apply too; none when left out */
  errorRecords?: (json: ScannedJson) => RecordView[];
  /** cap on the body as received and as decoded */
  maxBodyBytes: number;
}

/** Add `MASKING_FAILED: 502` to ERROR_STATUS (src/errors/codes.ts). */
export const MASKING_FAILED = 'MASKING_FAILED';

const WITHHELD = 'vecgate withheld the database response because it could not mask personal data in it';

function refuse(reason: string, cause?: unknown): VecgateError {
  // The cast keeps this file compiling until the code is in ERROR_STATUS; then it is a no-op.
  return new VecgateError(MASKING_FAILED, `${WITHHELD}: ${reason}. Ask the operators to check the masking configuration and the database.`, { cause });
}

/** Headers that describe the bytes as they came from upstream, no longer true after masking. */
const STALE = new Set(['content-encoding', 'content-length', 'transfer-encoding', 'etag', 'content-md5', 'digest', 'content-digest', 'repr-digest', 'accept-ranges']);

export function maskHttpResponse(response: BufferedResponse, options: MaskResponseOptions): MaskedResponse {
  const { plan, maxBodyBytes } = options;
  const stats = emptyStats(plan.rulesApplied, plan.rulesExempted);
  const headers = lowerCased(response.headers);

  // Exempt callers read clear text; an empty body carries nothing to mask.
  if (!plan.masks || response.body.length === 0 || response.status === 204 || response.status === 304) {
    return { headers: withoutUndefined(headers), body: response.body, stats };
  }
  if (response.body.length > maxBodyBytes) throw refuse(`the body is larger than ${maxBodyBytes} bytes, the masking limit (masking.settings.maxBodyBytes)`);
  if (headers['content-range'] !== undefined || response.status === 206) throw refuse('it is a partial (range) response, which cannot be masked as a whole');

  const decoded = decode(response.body, single(headers['content-encoding']), maxBodyBytes);
  const media = mediaType(single(headers['content-type']));
  const isError = response.status >= 400;
  // isUtf8 runs at memory speed; the body is decoded only where a string is looked at
  if (!isUtf8(decoded)) throw refuse('the body is not valid UTF-8');

  let body: Buffer;
  try {
    if (media.kind === 'json') {
      let json: ScannedJson;
      try {
        json = scanJson(decoded, MAX_MASK_DEPTH);
      } catch (err) {
        if (err instanceof JsonTooDeepError) throw refuse(`its JSON nests deeper than ${MAX_MASK_DEPTH} levels`, err);
        throw refuse('the body is not valid JSON although its content type says so', err);
      }
      const edits: JsonEdit[] = [];
      if (isError) {
        addStats(stats, plan.maskScannedError(json, options.errorRecords?.(json) ?? [], edits));
      } else {
        const views = options.records(json);
        if (views === undefined) throw refuse('its JSON is not a shape vecgate knows for this endpoint');
        for (const view of views) plan.maskScannedRecord(json, view, edits, stats);
      }
      body = splice(decoded, edits);
    } else if (media.kind === 'text' && isError) {
      // Plain-text error bodies (proxies, some server errors) carry no records: the detectors run on the whole text.
      const masked = plan.maskText(decoded.toString('utf8'));
      addStats(stats, masked.stats);
      body = Buffer.from(masked.text, 'utf8');
    } else {
      throw refuse(`its content type ${media.shown} cannot be masked (only application/json and +json, and text/plain for errors)`);
    }
  } catch (err) {
    if (err instanceof VecgateError) throw err;
    throw refuse('masking failed on its content', err);
  }

  const out = withoutUndefined(headers);
  for (const name of STALE) delete out[name];
  out['content-length'] = String(body.length);
  return { headers: out, body, stats };
}

/** Undoes each content coding, last applied first, never producing more than `max` bytes. */
function decode(body: Buffer, header: string | undefined, max: number): Buffer {
  const codings = (header ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  let data = body;
  const opts: ZlibOptions = { maxOutputLength: max };
  for (const coding of codings.reverse()) {
    try {
      if (coding === 'gzip' || coding === 'x-gzip') data = gunzipSync(data, opts);
      else if (coding === 'br') data = brotliDecompressSync(data, { maxOutputLength: max });
      else if (coding === 'deflate') data = inflateDeflate(data, opts);
      else throw refuse(`it is encoded as ${JSON.stringify(coding).slice(0, 40)}, which vecgate cannot decode (gzip, deflate and br only)`);
    } catch (err) {
      if (err instanceof VecgateError) throw err;
      if (isTooLarge(err)) throw refuse(`the body decodes to more than ${max} bytes, the masking limit (masking.settings.maxBodyBytes)`, err);
      throw refuse(`its ${coding} encoding is corrupt`, err);
    }
  }
  return data;
}

/** HTTP "deflate" is zlib-wrapped, but some servers send raw deflate. */
function inflateDeflate(data: Buffer, opts: ZlibOptions): Buffer {
  try {
    return inflateSync(data, opts);
  } catch (err) {
    if (isTooLarge(err)) throw err;
    return inflateRawSync(data, opts);
  }
}

function isTooLarge(err: unknown): boolean {
  return err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
}

type Media = { kind: 'json' | 'text' | 'other'; shown: string };

/** application/json and application/*+json (problem+json) in UTF-8; text/plain; anything else is other. */
function mediaType(header: string | undefined): Media {
  if (header === undefined) return { kind: 'other', shown: '(none)' };
  const [type = '', ...params] = header.split(';').map((p) => p.trim());
  const essence = type.toLowerCase();
  const shown = JSON.stringify(essence.slice(0, 80));
  const charset = params.map((p) => /^charset\s*=\s*"?([^";\s]+)"?$/i.exec(p)?.[1]?.toLowerCase()).find((c) => c !== undefined);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return { kind: 'other', shown: `${shown} with charset ${JSON.stringify(charset.slice(0, 40))}` };
  if (essence === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(essence)) return { kind: 'json', shown };
  if (essence === 'text/plain') return { kind: 'text', shown };
  return { kind: 'other', shown };
}

function lowerCased(headers: Record<string, string | string[] | undefined>): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

function withoutUndefined(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value;
  return out;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

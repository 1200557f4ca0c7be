import type { IncomingMessage } from 'node:http';
import { VecgateError } from '../errors';

export interface BodyLimits {
  maxBytes: number;
  timeoutMs: number;
}

/**
 * Reads the whole request body, bounded in size and time, so it can be inspected and then
 * forwarded byte for byte.
 */
export function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limits.maxBytes) {
    return Promise.reject(tooLarge(limits.maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: VecgateError | undefined) => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (err) {
        req.pause();
        reject(err);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) return finish(tooLarge(limits.maxBytes));
      chunks.push(chunk);
    };
    const onEnd = () => finish(undefined);
    const onError = () => finish(new VecgateError('BAD_REQUEST', 'The request body could not be read completely.'));
    const onClose = () => {
      if (!req.complete) finish(new VecgateError('BAD_REQUEST', 'The client closed the connection before the body was complete.'));
    };
    const timer = setTimeout(
      () => finish(new VecgateError('BODY_TIMEOUT', `The request body did not arrive within ${limits.timeoutMs} ms; send it faster or in smaller requests.`)),
      limits.timeoutMs,
    );
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

function tooLarge(max: number): VecgateError {
  return new VecgateError('BODY_TOO_LARGE', `The request body is larger than the gateway accepts (${max} bytes); split it into smaller requests.`);
}

/**
 * The body as JSON, for classification only; the bytes forwarded stay the original ones.
 * A body that looks like JSON is parsed whatever its content type, so a mislabelled body cannot
 * slip past inspection. Nesting is bounded before parsing.
 */
export function parseJsonBody(body: Buffer, contentType: string | undefined, maxDepth: number): unknown {
  if (body.length === 0) return undefined;
  const declaredJson = contentType !== undefined && /\bjson\b/i.test(contentType);
  const first = firstNonSpace(body);
  const looksJson = first === 0x7b || first === 0x5b; // { or [
  if (!declaredJson && !looksJson) return undefined;
  checkDepth(body, maxDepth);
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new VecgateError('BAD_REQUEST', 'The request body is not valid JSON.');
  }
}

function firstNonSpace(body: Buffer): number | undefined {
  for (const b of body) if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return b;
  return undefined;
}

function checkDepth(body: Buffer, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const b = body[i];
    if (inString) {
      if (b === 0x5c) i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x7b || b === 0x5b) {
      if (++depth > maxDepth) {
        throw new VecgateError('BODY_TOO_DEEP', `The JSON body is nested deeper than ${maxDepth} levels.`);
      }
    } else if (b === 0x7d || b === 0x5d) depth--;
  }
}

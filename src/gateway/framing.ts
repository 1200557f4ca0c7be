import { VecgateError } from '../errors';

/**
 * Request smuggling guard: a request whose length is ambiguous never reaches the upstream.
 * `rawHeaders` is Node's flat [name, value, name, value, ...] list, which keeps repetitions.
 */
export function checkFraming(rawHeaders: readonly string[]): void {
  let contentLength = 0;
  let transferEncoding = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (name === 'content-length') contentLength += 1;
    else if (name === 'transfer-encoding') transferEncoding += 1;
  }
  if (contentLength > 1) throw new VecgateError('BAD_FRAMING', 'The request has more than one Content-Length header; send exactly one.');
  if (contentLength > 0 && transferEncoding > 0) {
    throw new VecgateError('BAD_FRAMING', 'The request has both Content-Length and Transfer-Encoding; send one of them.');
  }
}

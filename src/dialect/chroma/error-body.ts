import type { ErrorBody } from '../types';

/**
 * An error as a Chroma server writes it: `{"error": "<ErrorName>", "message": "<text>"}`, with the
 * names the Rust server gives its error codes (anything else is "ChromaError"). The Python client
 * raises the matching chromadb.errors class with our message; the JS client (3.x) decides by status
 * alone and shows the message only for 400 (see test/dialect/chroma-client-errors.test.ts).
 */
export function chromaErrorBody(error: { status: number; code: string; message: string }): ErrorBody {
  return {
    contentType: 'application/json',
    body: JSON.stringify({ error: chromaErrorName(error.status), message: error.message }),
  };
}

function chromaErrorName(status: number): string {
  switch (status) {
    case 400:
      return 'InvalidArgumentError';
    case 404:
      return 'NotFoundError';
    case 500:
      return 'InternalError';
    default:
      return 'ChromaError';
  }
}

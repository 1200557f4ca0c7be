import { type ErrorCode, statusOf } from './codes';

/**
 * An error with a stable code. `message` is shown to the client: it says what happened and what
 * to do next. Internal causes go in `cause` and reach the logs only.
 */
export class VecgateError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VecgateError';
    this.code = code;
  }

  get status(): number {
    return statusOf(this.code);
  }
}

export function isVecgateError(err: unknown): err is VecgateError {
  return err instanceof VecgateError;
}

/** Any thrown value as a VecgateError; unknown failures become INTERNAL with a neutral message. */
export function asVecgateError(err: unknown): VecgateError {
  if (isVecgateError(err)) return err;
  return new VecgateError('INTERNAL', 'vecgate hit an internal error; the request was not completed. Report the request id to the operators.', { cause: err });
}

/** Why the dev stack could not do what was asked; callers switch on `code`, never on the text. */
export type DevStackErrorCode =
  | 'SERVER_START_FAILED'
  | 'SERVER_UNREACHABLE'
  | 'SERVERS_NOT_INSTALLED'
  | 'PROJECT_ROOT_NOT_FOUND'
  | 'TOKEN_REQUEST_FAILED';

export class DevStackError extends Error {
  readonly code: DevStackErrorCode;

  constructor(code: DevStackErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DevStackError';
    this.code = code;
  }
}

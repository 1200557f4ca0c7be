import pino, { type Logger } from 'pino';

/** Structured JSON logs on stdout; secrets never reach them (tokens and credentials are redacted). */
export function createLogger(level: string, name = 'vecgate'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['*.authorization', '*.headers.authorization', '*["x-chroma-token"]', '*.token', '*.credential'], censor: '[redacted]' },
  });
}

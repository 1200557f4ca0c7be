import pino, { type Logger } from 'pino';
import type { Clock } from '../../../src/clock';
import type { IdentityConfig } from '../../../src/identity/types';

export interface ManualClock extends Clock {
  advance(ms: number): void;
}

/** Starts on a whole second so token times in seconds line up exactly. */
export function manualClock(startMs = Math.floor(Date.now() / 1000) * 1000): ManualClock {
  let now = startMs;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

export interface CapturedLogs {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
}

export function captureLogs(): CapturedLogs {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

export function identityConfig(issuer: string, overrides: Partial<IdentityConfig> = {}): IdentityConfig {
  return {
    issuer,
    audience: ['vecgate'],
    groupsClaim: 'groups',
    emailClaim: 'email',
    algorithms: ['RS256'],
    clockSkewSeconds: 30,
    jwksCooldownSeconds: 30,
    jwksCacheMaxAgeSeconds: 600,
    httpTimeoutMs: 300,
    ...overrides,
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

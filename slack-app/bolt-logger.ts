import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from 'pino';
import { format } from 'node:util';

/** Bolt, the Web API client and the Socket Mode client log through our pino logger. */
export function boltLoggerFrom(logger: Logger): BoltLogger {
  const log = logger.child({ component: 'slack-bolt' });
  const write = (level: 'debug' | 'info' | 'warn' | 'error') => (...msg: unknown[]) => {
    if (log.isLevelEnabled(level)) log[level](format(...msg));
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    // the level is the application's pino level; Bolt does not get to change it
    setLevel: () => undefined,
    getLevel: () => {
      if (log.isLevelEnabled('debug')) return LogLevel.DEBUG;
      if (log.isLevelEnabled('info')) return LogLevel.INFO;
      if (log.isLevelEnabled('warn')) return LogLevel.WARN;
      return LogLevel.ERROR;
    },
    setName: () => undefined,
  };
}

import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { DevStackError } from './errors';
import { tailLog } from './log-tail';

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface EnsureInstalledOptions {
  projectRoot: string;
  cacheDir: string;
  /** binaries the caller is about to run */
  binaries: string[];
  logFile: string;
  logger?: Logger;
}

/**
 * Runs scripts/install-servers.sh once when any needed binary is missing from the cache. The
 * script pins the versions; a first install builds FerretDB with Go and can take minutes.
 */
export async function ensureServersInstalled(options: EnsureInstalledOptions): Promise<void> {
  const missing = options.binaries.filter((b) => !isExecutable(b));
  if (missing.length === 0) return;

  const script = join(options.projectRoot, 'scripts', 'install-servers.sh');
  options.logger?.info({ missing, script }, 'installing dev stack servers');
  mkdirSync(dirname(options.logFile), { recursive: true });
  const fd = openSync(options.logFile, 'a');
  const child = spawn('bash', [script], {
    cwd: options.projectRoot,
    env: { ...process.env, VECGATE_CACHE: options.cacheDir },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exit = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, error }));
    child.once('exit', (code) => resolve({ code }));
  });

  const stillMissing = options.binaries.filter((b) => !isExecutable(b));
  if (exit.code !== 0 || stillMissing.length > 0) {
    const why = exit.error ? exit.error.message : exit.code !== 0 ? `exited with code ${exit.code}` : `left ${stillMissing.join(', ')} missing`;
    throw new DevStackError(
      'SERVERS_NOT_INSTALLED',
      `installing servers failed: bash ${script} ${why}\nlog: ${options.logFile}\n${tailLog(options.logFile, 20)}`,
      { cause: exit.error },
    );
  }
}

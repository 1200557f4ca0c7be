import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { serverBinaries } from './paths';
import { findFreePort } from './ports';
import { temporalAnswers } from './probes';
import { startServerProcess, type ServerProcess, type ServerProcessOptions } from './server-process';

export interface StartTemporalOptions {
  /** the `temporal` CLI (scripts/install-servers.sh puts it in the cache's bin/) */
  binary: string;
  /** holds temporal.db, so workflows survive a restart */
  dataDir: string;
  logFile: string;
  /** gRPC frontend port; a free one when absent */
  port?: number;
  /** created at start besides `default` */
  namespaces?: string[];
  process: ServerProcessOptions;
}

export interface TemporalServer {
  /** host:port of the gRPC frontend */
  address: string;
  process: ServerProcess;
}

/** `temporal server start-dev` on SQLite, headless, on 127.0.0.1; ready when `default` describes. */
export async function startTemporal(options: StartTemporalOptions): Promise<TemporalServer> {
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await findFreePort());
  const address = `127.0.0.1:${port}`;
  const args = [
    'server', 'start-dev',
    '--db-filename', join(options.dataDir, 'temporal.db'),
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--headless',
    // the HTTP API and metrics ports default to free ones; pinning them would only add clashes
    ...(options.namespaces ?? []).flatMap((ns) => ['--namespace', ns]),
  ];
  const server = await startServerProcess(
    { name: 'temporal', command: options.binary, args, logFile: options.logFile },
    temporalAnswers(address),
    options.process,
  );
  return { address, process: server };
}

/**
 * The time-skipping test server installed next to the CLI, for
 * TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } }).
 */
export function temporalTestServerPath(cacheDir: string): string {
  return serverBinaries(cacheDir).temporalTestServer;
}

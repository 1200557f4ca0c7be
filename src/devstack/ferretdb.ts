import { mkdirSync } from 'node:fs';
import { findFreePort } from './ports';
import { mongoAnswers } from './probes';
import { startServerProcess, type ServerProcess, type ServerProcessOptions } from './server-process';

export interface StartFerretDbOptions {
  /** the `ferretdb` binary (scripts/install-servers.sh puts it in the cache's bin/) */
  binary: string;
  /** SQLite databases and FerretDB's state file */
  dataDir: string;
  logFile: string;
  port?: number;
  process: ServerProcessOptions;
}

export interface FerretDbServer {
  /** mongodb://127.0.0.1:PORT/ */
  uri: string;
  process: ServerProcess;
}

/**
 * FerretDB speaks the MongoDB wire protocol over SQLite: our stand-in for MongoDB where no registry
 * ships mongod. It lacks transactions, change streams and TTL indexes (see shared STACK.md).
 */
export async function startFerretDb(options: StartFerretDbOptions): Promise<FerretDbServer> {
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await findFreePort());
  const uri = `mongodb://127.0.0.1:${port}/`;
  const args = [
    '--handler=sqlite',
    // FerretDB wants a directory URI with a trailing slash
    `--sqlite-url=file:${options.dataDir.replace(/\/?$/, '/')}`,
    `--listen-addr=127.0.0.1:${port}`,
    `--state-dir=${options.dataDir}`,
    '--debug-addr=-',
    '--telemetry=disable',
  ];
  const server = await startServerProcess(
    { name: 'ferretdb', command: options.binary, args, logFile: options.logFile },
    mongoAnswers(uri),
    options.process,
  );
  return { uri, process: server };
}

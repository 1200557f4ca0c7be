import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { DevStackError } from './errors';
import { findFreePort } from './ports';
import { chromaAnswers } from './probes';
import { startServerProcess, type ServerProcess, type ServerProcessOptions } from './server-process';

/**
 * Which Chroma server: `pinned` is the 1.0.0 server inside the npm package chromadb (the version
 * package.json pins); `current` is the newest release, PyPI chromadb (1.5.x) in a cached venv.
 */
export type ChromaRelease = 'pinned' | 'current';

export const CHROMA_RELEASES: readonly ChromaRelease[] = Object.freeze(['pinned', 'current']);

export interface StartChromaOptions {
  release: ChromaRelease;
  /** pinned: node_modules/.bin/chroma (paths.chromaCli); current: the venv's `chroma` (serverBinaries().chromaPy) */
  cli: string;
  dataDir: string;
  logFile: string;
  port?: number;
  process: ServerProcessOptions;
}

export interface ChromaServer {
  /** http://127.0.0.1:PORT */
  url: string;
  process: ServerProcess;
}

/** `chroma run` of either release; ready when the v2 heartbeat answers. */
export async function startChroma(options: StartChromaOptions): Promise<ChromaServer> {
  if (!existsSync(options.cli)) {
    const fix = options.release === 'pinned' ? 'run `npm ci` (Chroma ships in the chromadb package)' : 'run `bash scripts/install-servers.sh` (it installs PyPI chromadb)';
    throw new DevStackError('SERVERS_NOT_INSTALLED', `chroma (${options.release}): ${options.cli} is missing; ${fix}`);
  }
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await findFreePort());
  const url = `http://127.0.0.1:${port}`;
  const runArgs = ['run', '--path', options.dataDir, '--host', '127.0.0.1', '--port', String(port)];
  // the npm CLI is a Node script: run it with this very Node rather than whichever `node` PATH names
  const [command, args] = options.release === 'pinned' ? [process.execPath, [realpathSync(options.cli), ...runArgs]] : [options.cli, runArgs];
  const server = await startServerProcess(
    { name: options.release === 'pinned' ? 'chroma' : 'chroma-current', command, args, env: { ANONYMIZED_TELEMETRY: 'False' }, logFile: options.logFile },
    chromaAnswers(url),
    options.process,
  );
  return { url, process: server };
}

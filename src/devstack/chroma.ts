import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { DevStackError } from './errors';
import { findFreePort } from './ports';
import { chromaAnswers } from './probes';
import { startServerProcess, type ServerProcess, type ServerProcessOptions } from './server-process';

export interface StartChromaOptions {
  /** node_modules/.bin/chroma of the project (see paths.chromaCli) */
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

/** `chroma run` from the chromadb npm package; ready when the v2 heartbeat answers. */
export async function startChroma(options: StartChromaOptions): Promise<ChromaServer> {
  if (!existsSync(options.cli)) {
    throw new DevStackError('SERVERS_NOT_INSTALLED', `chroma: ${options.cli} is missing; run \`npm ci\` (Chroma ships in the chromadb package)`);
  }
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await findFreePort());
  const url = `http://127.0.0.1:${port}`;
  // run the CLI script with this very Node rather than whichever `node` PATH names
  const args = [realpathSync(options.cli), 'run', '--path', options.dataDir, '--host', '127.0.0.1', '--port', String(port)];
  const server = await startServerProcess(
    { name: 'chroma', command: process.execPath, args, env: { ANONYMIZED_TELEMETRY: 'False' }, logFile: options.logFile },
    chromaAnswers(url),
    options.process,
  );
  return { url, process: server };
}

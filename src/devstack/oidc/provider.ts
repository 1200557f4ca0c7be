import { existsSync, mkdirSync } from 'node:fs';
import { DevStackError } from '../errors';
import { findFreePort } from '../ports';
import { oidcAnswers } from '../probes';
import { startServerProcess, type ServerProcess, type ServerProcessOptions } from '../server-process';
import { DEFAULT_AUDIENCE, DEMO_CLIENT, type DemoClient } from './directory';

export interface StartOidcProviderOptions {
  /** oidc-server.mjs (see paths.oidcServerScript) */
  script: string;
  /** a DemoDirectory JSON file */
  directoryFile: string;
  /** keeps the signing key, so tokens outlive a restart */
  dataDir: string;
  logFile: string;
  port?: number;
  /** audiences tokens may be issued for; the first is the default. Default ['vecgate']. */
  audiences?: string[];
  client?: DemoClient;
  accessTokenTtlSeconds?: number;
  process: ServerProcessOptions;
}

export interface OidcProviderServer {
  /** http://127.0.0.1:PORT, also the discovery base */
  issuer: string;
  process: ServerProcess;
}

/** Runs the demo OpenID provider (oidc-provider, ESM-only, so in its own Node process). */
export async function startOidcProvider(options: StartOidcProviderOptions): Promise<OidcProviderServer> {
  if (!existsSync(options.directoryFile)) {
    throw new DevStackError('SERVER_START_FAILED', `oidc: the user directory ${options.directoryFile} does not exist`);
  }
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await findFreePort());
  const issuer = `http://127.0.0.1:${port}`;
  const client = options.client ?? DEMO_CLIENT;
  const args = [
    options.script,
    '--host', '127.0.0.1',
    '--port', String(port),
    '--directory', options.directoryFile,
    '--data-dir', options.dataDir,
    '--client-id', client.clientId,
    '--client-secret', client.clientSecret,
    '--access-token-ttl', String(options.accessTokenTtlSeconds ?? 3600),
    ...(options.audiences ?? [DEFAULT_AUDIENCE]).flatMap((a) => ['--audience', a]),
  ];
  const server = await startServerProcess(
    { name: 'oidc', command: process.execPath, args, logFile: options.logFile },
    oidcAnswers(issuer),
    options.process,
  );
  return { issuer, process: server };
}

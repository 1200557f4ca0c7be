import { findFreePort } from './ports';
import { startServerProcess, type ServerProcess, type ServerProcessOptions } from './server-process';
import type { Probe } from './wait';

/**
 * An S3-compatible server for the checkpoint bucket: moto's server (PyPI moto[server], Apache-2.0;
 * scripts/install-servers.sh puts it in the cache), with versioning and Object Lock. It keeps
 * everything in memory: a restart on the same port is an empty store.
 */

export interface StartS3ServerOptions {
  /** `moto_server` (serverBinaries().motoServer) */
  binary: string;
  logFile: string;
  port?: number;
  process: ServerProcessOptions;
}

export interface S3Server {
  /** http://127.0.0.1:PORT, for an S3 client's endpoint (path-style) */
  endpoint: string;
  port: number;
  process: ServerProcess;
}

/** Any access key and secret work: moto checks no signatures. */
export const S3_SERVER_CREDENTIALS = Object.freeze({ accessKeyId: 'vecgate-dev', secretAccessKey: 'vecgate-dev-secret' });

export async function startS3Server(options: StartS3ServerOptions): Promise<S3Server> {
  const port = options.port ?? (await findFreePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const server = await startServerProcess({ name: 's3 (moto)', command: options.binary, args: ['-H', '127.0.0.1', '-p', String(port)], logFile: options.logFile }, s3Answers(endpoint), options.process);
  return { endpoint, port, process: server };
}

/** Answers when listing buckets (GET /) returns 200. */
function s3Answers(endpoint: string): Probe {
  return async () => {
    const res = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET / answered ${res.status}`);
  };
}

import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { ConfigError } from '../config/load';
import type { TemporalConfig } from '../config/schema';

/** What both connection kinds (the client's Connection, the worker's NativeConnection) take. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

type ReadFile = (path: string) => Buffer;

/**
 * The options of every Temporal connection (gateway, worker, CLI), built once from the validated
 * configuration: TLS with a private CA and server name, mTLS with a client certificate, or an API key
 * (Temporal Cloud; TLS then is on, since a bearer key must never travel in clear). Files are read
 * here, at start, so a missing certificate stops the start with the key that names it.
 */
export function temporalConnectionOptions(temporal: TemporalConfig, apiKey: string | undefined, readFile: ReadFile = readFileSync): TemporalConnectionOptions {
  const issues: { key: string; message: string }[] = [];
  const read = (key: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFile(path);
    } catch (err) {
      issues.push({ key: `approvals.temporal.tls.${key}`, message: `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}): point it at the PEM file` });
      return undefined;
    }
  };
  if (temporal.apiKeyEnv && !apiKey) {
    issues.push({ key: 'approvals.temporal.apiKeyEnv', message: `environment variable ${temporal.apiKeyEnv} is not set: export the Temporal API key there` });
  }
  let tls: TLSConfig | undefined;
  if (temporal.tls || apiKey) {
    const t = temporal.tls ?? {};
    const ca = read('serverCaFile', t.serverCaFile);
    const crt = read('clientCertFile', t.clientCertFile);
    const key = read('clientKeyFile', t.clientKeyFile);
    tls = {
      ...(t.serverName ? { serverNameOverride: t.serverName } : {}),
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    };
  }
  if (issues.length > 0) throw new ConfigError('configuration', issues);
  return { address: temporal.address, ...(tls ? { tls } : {}), ...(apiKey ? { apiKey } : {}) };
}

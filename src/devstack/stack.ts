import { join } from 'node:path';
import type { Logger } from 'pino';
import { startChroma, type ChromaRelease } from './chroma';
import type { ExternalAddresses } from './env';
import { DevStackError } from './errors';
import { startFerretDb } from './ferretdb';
import { ensureServersInstalled } from './install';
import type { DemoClient } from './oidc/directory';
import { startOidcProvider } from './oidc/provider';
import { startOrphanGuard, type OrphanGuard } from './orphan-guard';
import { chromaCli, defaultDemoDirectory, findProjectRoot, oidcServerScript, orphanGuardScript, serverBinaries } from './paths';
import { chromaAnswers, mongoAnswers, oidcAnswers, temporalAnswers } from './probes';
import type { ServerProcess, ServerProcessOptions } from './server-process';
import { startTemporal } from './temporal';
import { describe, waitUntilAnswers, type Probe } from './wait';

export type DevServerName = 'temporal' | 'mongo' | 'chroma' | 'chroma-current' | 'oidc';

export interface DevStackOptions {
  /** data dirs and one log file per server live here (logs/NAME.log) */
  runDir: string;
  /** the pinned server binaries (readDevStackEnv gives VECGATE_CACHE or ~/.cache/vecgate) */
  cacheDir: string;
  /** servers run elsewhere; those are only checked, never started */
  external?: ExternalAddresses;
  /**
   * The Chroma servers to run, default ['pinned'] (npm chromadb, server 1.0.0); 'current' is PyPI
   * chromadb 1.5.x. `chromaUrl` is the first one listed.
   */
  chroma?: readonly ChromaRelease[];
  /** fixed ports for the servers this stack starts; free ones otherwise */
  ports?: Partial<Record<DevServerName, number>>;
  oidc?: {
    /** DemoDirectory JSON; default src/devstack/oidc/demo-directory.json */
    directoryFile?: string;
    /** default ['vecgate'] */
    audiences?: string[];
    client?: DemoClient;
    accessTokenTtlSeconds?: number;
  };
  /** how long each server may take to answer; default 60 s */
  readyTimeoutMs?: number;
  /** SIGTERM, then SIGKILL after this; default 10 s */
  stopGraceMs?: number;
  /** stop the servers when this process gets SIGINT, SIGTERM or SIGHUP; default true */
  stopOnSignals?: boolean;
  /** default: found from this file's location */
  projectRoot?: string;
  logger?: Logger;
}

export interface DevStack {
  temporalAddress: string;
  mongoUri: string;
  /** the first of `chroma` */
  chromaUrl: string;
  /** every Chroma server of the stack by release */
  chromaUrls: Partial<Record<ChromaRelease, string>>;
  /** the Python of the venv that holds the official Python client; installed when 'current' runs */
  chromaPythonPath: string;
  oidcIssuer: string;
  /** the time-skipping test server binary, for TestWorkflowEnvironment.createTimeSkipping */
  testServerPath: string;
  runDir: string;
  /** the servers this stack started; the others came from `external` */
  started: DevServerName[];
  /** from the call until every server answered */
  readyInMs: number;
  /** stops what this stack started, nothing else. Safe to call twice. */
  stop(): Promise<void>;
}

interface Endpoint {
  address: string;
  process?: ServerProcess;
}

const ENV_KEY: Record<DevServerName, string> = {
  temporal: 'TEMPORAL_ADDRESS',
  mongo: 'MONGODB_URI',
  chroma: 'CHROMA_URL',
  'chroma-current': 'CHROMA_CURRENT_URL',
  oidc: 'OIDC_ISSUER',
};

/**
 * Temporal, FerretDB (MongoDB wire), Chroma (one or both releases) and the demo OpenID provider on
 * 127.0.0.1, started in parallel, each ready when returned. An address in `external` replaces
 * starting that server.
 */
export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const began = Date.now();
  const external = options.external ?? {};
  const projectRoot = options.projectRoot ?? findProjectRoot();
  const binaries = serverBinaries(options.cacheDir);
  const logs = join(options.runDir, 'logs');
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const chromaReleases: ChromaRelease[] = options.chroma?.length ? [...new Set(options.chroma)] : ['pinned'];
  const runsCurrent = chromaReleases.includes('current');

  await ensureServersInstalled({
    projectRoot,
    cacheDir: options.cacheDir,
    binaries: [
      binaries.temporalTestServer,
      ...(external.temporalAddress ? [] : [binaries.temporal]),
      ...(external.mongoUri ? [] : [binaries.ferretdb]),
      ...(runsCurrent ? [binaries.chromaPython, ...(external.chromaCurrentUrl ? [] : [binaries.chromaPy])] : []),
    ],
    logFile: join(logs, 'install.log'),
    logger: options.logger,
  });

  const needsGuard = !(
    external.temporalAddress &&
    external.mongoUri &&
    external.oidcIssuer &&
    (!chromaReleases.includes('pinned') || external.chromaUrl) &&
    (!runsCurrent || external.chromaCurrentUrl)
  );
  const guard: OrphanGuard | undefined = needsGuard ? startOrphanGuard(orphanGuardScript(projectRoot)) : undefined;
  const processOptions: ServerProcessOptions = {
    readyTimeoutMs,
    stopGraceMs: options.stopGraceMs ?? 10_000,
    guard,
    logger: options.logger,
  };
  const checkExternal = async (name: DevServerName, address: string, probe: Probe): Promise<Endpoint> => {
    try {
      await waitUntilAnswers(probe, { timeoutMs: readyTimeoutMs });
    } catch (err) {
      throw new DevStackError('SERVER_UNREACHABLE', `${name}: ${ENV_KEY[name]}=${address} does not answer: ${describe(err)}`, { cause: err });
    }
    return { address };
  };
  const chroma = (release: ChromaRelease): Promise<Endpoint | undefined> => {
    if (!chromaReleases.includes(release)) return Promise.resolve(undefined);
    const name: DevServerName = release === 'pinned' ? 'chroma' : 'chroma-current';
    const given = release === 'pinned' ? external.chromaUrl : external.chromaCurrentUrl;
    if (given) return checkExternal(name, given, chromaAnswers(given));
    return startChroma({
      release,
      cli: release === 'pinned' ? chromaCli(projectRoot) : binaries.chromaPy,
      dataDir: join(options.runDir, name),
      logFile: join(logs, `${name}.log`),
      port: options.ports?.[name],
      process: processOptions,
    }).then((s) => ({ address: s.url, process: s.process }));
  };

  const results = await Promise.allSettled<Endpoint | undefined>([
    external.temporalAddress
      ? checkExternal('temporal', external.temporalAddress, temporalAnswers(external.temporalAddress))
      : startTemporal({
          binary: binaries.temporal,
          dataDir: join(options.runDir, 'temporal'),
          logFile: join(logs, 'temporal.log'),
          port: options.ports?.temporal,
          process: processOptions,
        }).then((s) => ({ address: s.address, process: s.process })),
    external.mongoUri
      ? checkExternal('mongo', external.mongoUri, mongoAnswers(external.mongoUri))
      : startFerretDb({
          binary: binaries.ferretdb,
          dataDir: join(options.runDir, 'ferretdb'),
          logFile: join(logs, 'ferretdb.log'),
          port: options.ports?.mongo,
          process: processOptions,
        }).then((s) => ({ address: s.uri, process: s.process })),
    external.oidcIssuer
      ? checkExternal('oidc', external.oidcIssuer, oidcAnswers(external.oidcIssuer))
      : startOidcProvider({
          script: oidcServerScript(projectRoot),
          directoryFile: options.oidc?.directoryFile ?? defaultDemoDirectory(projectRoot),
          dataDir: join(options.runDir, 'oidc'),
          logFile: join(logs, 'oidc.log'),
          port: options.ports?.oidc,
          audiences: options.oidc?.audiences,
          client: options.oidc?.client,
          accessTokenTtlSeconds: options.oidc?.accessTokenTtlSeconds,
          process: processOptions,
        }).then((s) => ({ address: s.issuer, process: s.process })),
    chroma('pinned'),
    chroma('current'),
  ]);

  const processes = results.flatMap((r) => (r.status === 'fulfilled' && r.value?.process ? [r.value.process] : []));
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      removeSignalHandlers();
      await Promise.all(processes.map((p) => p.stop()));
      guard?.close();
    })());
  const removeSignalHandlers = options.stopOnSignals === false ? () => {} : stopOnSignals(stopAll);

  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    await stopAll();
    throw combine(failures);
  }

  const [temporal, mongo, oidc, pinned, current] = results.map((r) => (r as PromiseFulfilledResult<Endpoint | undefined>).value) as [
    Endpoint,
    Endpoint,
    Endpoint,
    Endpoint | undefined,
    Endpoint | undefined,
  ];
  const endpoints: Record<DevServerName, Endpoint | undefined> = { temporal, mongo, chroma: pinned, 'chroma-current': current, oidc };
  const started = (Object.keys(endpoints) as DevServerName[]).filter((name) => endpoints[name]?.process);
  const chromaUrls: Partial<Record<ChromaRelease, string>> = {
    ...(pinned ? { pinned: pinned.address } : {}),
    ...(current ? { current: current.address } : {}),
  };
  const stack: DevStack = {
    temporalAddress: temporal.address,
    mongoUri: mongo.address,
    chromaUrl: chromaUrls[chromaReleases[0] as ChromaRelease] as string,
    chromaUrls,
    chromaPythonPath: binaries.chromaPython,
    oidcIssuer: oidc.address,
    testServerPath: binaries.temporalTestServer,
    runDir: options.runDir,
    started,
    readyInMs: Date.now() - began,
    stop: stopAll,
  };
  options.logger?.info({ ...stack, stop: undefined }, 'dev stack ready');
  return stack;
}

/**
 * Stops the stack on SIGINT/SIGTERM/SIGHUP, then lets the signal do what it would have done: if
 * nobody else listens, it is raised again and ends the process. Returns the unregistration.
 */
function stopOnSignals(stop: () => Promise<void>): () => void {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const handler = (signal: NodeJS.Signals) => {
    void stop().finally(() => {
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}

function combine(failures: unknown[]): unknown {
  if (failures.length === 1) return failures[0];
  const first = failures[0];
  const code = first instanceof DevStackError ? first.code : 'SERVER_START_FAILED';
  return new DevStackError(code, failures.map((f) => (f instanceof Error ? f.message : String(f))).join('\n\n'), { cause: first });
}

import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tailLog } from '../../../src/devstack/log-tail';
import type { OrphanGuard } from '../../../src/devstack/orphan-guard';
import { findProjectRoot } from '../../../src/devstack/paths';

export interface WorkerProcess {
  pid: number;
  logFile: string;
  /** the Slack app's address, http://127.0.0.1:PORT */
  slackUrl: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL to the whole process group; resolves once the process is gone */
  kill(): Promise<void>;
}

export interface WorkerProcessOptions {
  configFile: string;
  slackPort: number;
  logFile: string;
  env: Record<string, string>;
  readyTimeoutMs: number;
  guard?: OrphanGuard;
}

/** `node bin/vecgate ARGS` in its own process group, its output appended to `logFile`. */
function spawnVecgate(args: string[], logFile: string, env: Record<string, string | undefined>, guard: OrphanGuard | undefined) {
  const root = findProjectRoot(__dirname);
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['bin/vecgate', ...args], { cwd: root, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn vecgate ${args[0] ?? ''}: see ${logFile}`);
  guard?.track(pid);
  let gone: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      gone = { code, signal };
      resolve(gone);
    }),
  );
  return { pid, exited, gone: () => gone };
}

/** Sends `signal` to a process group; false when it is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * `node bin/vecgate worker -c FILE` as a real child process in its own process group (the built
 * CLI in dist/), ready once it logs that it runs and its Slack app answers HTTP.
 */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const { pid, exited, gone } = spawnVecgate(['worker', '-c', options.configFile], options.logFile, { LOG_LEVEL: 'info', ...options.env }, options.guard);
  const slackUrl = `http://127.0.0.1:${options.slackPort}`;
  const worker: WorkerProcess = {
    pid,
    logFile: options.logFile,
    slackUrl,
    exited,
    async kill() {
      signalGroup(pid, 'SIGKILL');
      await exited;
      for (let i = 0; i < 20 && signalGroup(pid, 0); i++) await sleep(50);
      options.guard?.untrack(pid);
    },
  };

  const deadline = Date.now() + options.readyTimeoutMs;
  for (;;) {
    const ended = gone();
    if (ended) throw new Error(`the worker exited (${ended.signal ?? `code ${ended.code}`}) before it was ready:\n${tailLog(options.logFile, 30)}`);
    const running = readFileSync(options.logFile, 'utf8').includes('vecgate worker running');
    const answers = running && (await fetch(slackUrl, { signal: AbortSignal.timeout(1000) }).then((r) => r.arrayBuffer().then(() => true), () => false));
    if (answers) return worker;
    if (Date.now() > deadline) {
      await worker.kill();
      throw new Error(`the worker was not ready within ${options.readyTimeoutMs} ms:\n${tailLog(options.logFile, 30)}`);
    }
    await sleep(100);
  }
}


export interface GatewayProcess {
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL to the whole process group, as a crash would end it */
  kill(): Promise<void>;
}

/** `node bin/vecgate gateway -c FILE` as a real child process in its own group, ready once /readyz answers 200. */
export async function startGatewayProcess(options: { configFile: string; adminUrl: string; logFile: string; readyTimeoutMs: number; guard?: OrphanGuard }): Promise<GatewayProcess> {
  const { pid, exited, gone } = spawnVecgate(['gateway', '-c', options.configFile, '--log-level', 'warn'], options.logFile, {}, options.guard);
  const gateway: GatewayProcess = {
    pid,
    exited,
    async kill() {
      signalGroup(pid, 'SIGKILL');
      await exited;
      options.guard?.untrack(pid);
    },
  };
  const deadline = Date.now() + options.readyTimeoutMs;
  for (;;) {
    const ended = gone();
    if (ended) throw new Error(`the gateway exited (${ended.signal ?? `code ${ended.code}`}) before it was ready:\n${tailLog(options.logFile, 30)}`);
    const ready = await fetch(`${options.adminUrl}/readyz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status === 200, () => false);
    if (ready) return gateway;
    if (Date.now() > deadline) {
      await gateway.kill();
      throw new Error(`the gateway was not ready within ${options.readyTimeoutMs} ms:\n${tailLog(options.logFile, 30)}`);
    }
    await sleep(100);
  }
}

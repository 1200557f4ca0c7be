import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { DevStackError } from './errors';
import { tailLog } from './log-tail';
import type { OrphanGuard } from './orphan-guard';
import { describe, waitUntilAnswers, type Probe } from './wait';

export interface ServerCommand {
  /** names the server in logs and errors: 'temporal', 'ferretdb', ... */
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  /** added to this process's environment */
  env?: Record<string, string>;
  /** stdout and stderr are appended here */
  logFile: string;
}

export interface ServerProcessOptions {
  readyTimeoutMs: number;
  /** SIGTERM first; SIGKILL when the process is still there after this */
  stopGraceMs: number;
  guard?: OrphanGuard;
  logger?: Logger;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A server process this stack started, ready when returned. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** settles when the process has exited */
  readonly exited: Promise<ProcessExit>;
  /** stops its whole process group; resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

export function commandLine(cmd: Pick<ServerCommand, 'command' | 'args'>): string {
  return [cmd.command, ...cmd.args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * Starts `cmd` in its own process group (so stop() also reaches anything it spawned) with its
 * output in its log file, and waits until `probe` succeeds. On failure the process is stopped and
 * the error names the server, the command and the end of its log.
 */
export async function startServerProcess(cmd: ServerCommand, probe: Probe, options: ServerProcessOptions): Promise<ServerProcess> {
  const started = Date.now();
  mkdirSync(dirname(cmd.logFile), { recursive: true });
  const logFd = openSync(cmd.logFile, 'a');
  writeSync(logFd, `\n=== ${new Date().toISOString()} ${commandLine(cmd)}\n`);
  const child = spawn(cmd.command, cmd.args, {
    cwd: cmd.cwd,
    env: { ...process.env, ...cmd.env },
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);

  let exit: ProcessExit | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
    child.once('error', (err) => {
      spawnError = err;
      // a process that never ran emits no 'exit'
      if (child.pid === undefined) resolve({ code: null, signal: null });
    });
  });

  const failure = (reason: string, cause?: unknown) =>
    new DevStackError(
      'SERVER_START_FAILED',
      `${cmd.name} did not start: ${reason}\ncommand: ${commandLine(cmd)}\nlog: ${cmd.logFile}\n${tailLog(cmd.logFile, 20) || '(log is empty)'}`,
      { cause },
    );

  const pid = child.pid;
  if (pid === undefined) {
    await exited;
    throw failure(`cannot run ${cmd.command}: ${spawnError?.message ?? 'unknown error'}`, spawnError);
  }
  options.guard?.track(pid);

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stopGroup(pid, exited, () => exit !== undefined, options.stopGraceMs).then(() => options.guard?.untrack(pid)));
  const server: ServerProcess = { name: cmd.name, pid, logFile: cmd.logFile, exited, stop };

  try {
    await waitUntilAnswers(probe, {
      timeoutMs: options.readyTimeoutMs,
      gaveUp: () => (exit ? `the process exited (${exit.signal ?? `code ${exit.code}`}) before it answered` : undefined),
    });
  } catch (err) {
    await stop();
    throw failure(describe(err), err);
  }
  options.logger?.info({ server: cmd.name, serverPid: pid, ms: Date.now() - started }, 'dev stack server ready');
  return server;
}

async function stopGroup(pgid: number, exited: Promise<ProcessExit>, hasExited: () => boolean, graceMs: number): Promise<void> {
  if (!hasExited()) {
    signalGroup(pgid, 'SIGTERM');
    // the timer is cancelled once the process exits, so it cannot hold this process open
    const cancel = new AbortController();
    const timer = sleep(graceMs, 'timeout' as const, { signal: cancel.signal }).catch(() => 'cancelled' as const);
    const first = await Promise.race([exited, timer]);
    cancel.abort();
    if (first === 'timeout') signalGroup(pgid, 'SIGKILL');
    await exited;
  }
  // whatever the leader left behind in its group goes too; SIGKILL lands asynchronously, so wait
  // (briefly: a reparented zombie stays in the group until init reaps it) for the group to empty
  signalGroup(pgid, 'SIGKILL');
  for (let i = 0; i < 20 && signalGroup(pgid, 0); i++) await sleep(50);
}

/** false when the group is gone (ESRCH) */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

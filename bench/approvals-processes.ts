/**
 * The bench's child processes: `vecgate gateway` and `vecgate worker`, each as its own Node process
 * with the bench's preload (approvals-preload.ts) for a memory probe, its output in a log file,
 * its RSS read from /proc, and a stop that waits for the exit (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** the message type the preload answers (see approvals-preload.ts) */
const MEMORY_PROBE = 'vecgate-bench-memory';

/** What the preload answers: after a forced GC of the child's main isolate. */
export interface ChildMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** V8's heap_size_limit, which sets the Temporal worker's default workflow cache size */
  heapLimit: number;
  gcForced: boolean;
}

export interface ProcStatus {
  /** resident set size, bytes (VmRSS) */
  rss: number;
  /** peak resident set size, bytes (VmHWM) */
  hwm: number;
  threads: number;
}

export interface VecgateProcess {
  name: string;
  pid: number;
  logFile: string;
  /** VmRSS / VmHWM of the process, from /proc/<pid>/status */
  status(): ProcStatus;
  /** forces a GC in the child's main isolate and reports its memory */
  memory(timeoutMs?: number): Promise<ChildMemory>;
  /** resolves when `probe` succeeds; rejects if the process exits first or after timeoutMs */
  ready(probe: () => Promise<boolean>, timeoutMs: number): Promise<void>;
  /** the last lines of its log */
  tail(lines?: number): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves once it has exited. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  root: string;
  command: 'gateway' | 'worker';
  configFile: string;
  logDir: string;
  /** suffix of the log file, e.g. "latency" */
  label: string;
  env?: Record<string, string>;
  /** extra node flags (BENCH_NODE_ARGS) */
  nodeArgs?: string[];
  logLevel?: string;
}

export function spawnVecgate(options: SpawnOptions): VecgateProcess {
  const { root, command, configFile } = options;
  const logFile = join(options.logDir, `${command}-${options.label}.log`);
  const fd = openSync(logFile, 'a');
  const preload = join(__dirname, 'approvals-preload.js');
  let child: ChildProcess;
  try {
    child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), '--expose-gc', '--require', preload, join(root, 'bin', 'vecgate'), command, '--config', configFile, '--log-level', options.logLevel ?? 'warn'],
      { stdio: ['ignore', fd, fd, 'ipc'], env: { ...process.env, ...options.env } },
    );
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start vecgate ${command}`);
  let exitCode: number | string | null | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitCode = code ?? signal;
      resolve();
    });
  });
  child.on('error', () => undefined);
  let stopping: Promise<void> | undefined;

  const tail = (lines = 30) => {
    try {
      return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };

  return {
    name: command,
    pid,
    logFile,
    status: () => procStatus(pid),
    memory(timeoutMs = 15_000) {
      return new Promise<ChildMemory>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          reject(new Error(`vecgate ${command} did not answer the memory probe within ${timeoutMs} ms`));
        }, timeoutMs);
        const onMessage = (message: unknown) => {
          const m = message as { type?: unknown } & ChildMemory;
          if (m?.type !== MEMORY_PROBE) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve({ rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, heapLimit: m.heapLimit, gcForced: m.gcForced });
        };
        child.on('message', onMessage);
        child.send({ type: MEMORY_PROBE });
      });
    },
    async ready(probe, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (exitCode !== undefined) throw new Error(`vecgate ${command} exited (${String(exitCode)}) before it was ready; its log ${logFile} ends:\n${tail()}`);
        if (await probe().catch(() => false)) return;
        await sleep(100);
      }
      throw new Error(`vecgate ${command} was not ready within ${timeoutMs} ms; its log ${logFile} ends:\n${tail()}`);
    },
    tail,
    stop(graceMs = 30_000) {
      stopping ??= (async () => {
        if (exitCode !== undefined) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
        if (child.connected) child.disconnect();
      })();
      return stopping;
    },
  };
}

export function procStatus(pid: number): ProcStatus {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), threads: Number(/^Threads:\s+(\d+)/m.exec(text)?.[1] ?? NaN) };
}

/** true once something answers HTTP at `url` with a status accepted by `ok` */
export function answers(url: string, ok: (status: number) => boolean = (s) => s < 500): () => Promise<boolean> {
  return async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return ok(res.status);
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

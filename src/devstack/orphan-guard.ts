import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';

/** Kills tracked process groups if this process dies before it stops them (see orphan-guard.mjs). */
export interface OrphanGuard {
  track(pgid: number): void;
  untrack(pgid: number): void;
  /** lets the guard exit; it then stops whatever is still tracked */
  close(): void;
}

export function startOrphanGuard(script: string, graceMs = 5000): OrphanGuard {
  const child = spawn(process.execPath, [script, String(graceMs)], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // neither the guard nor its pipe may keep this process alive: it exists for when we are gone
  child.unref();
  const stdin = child.stdin as Writable & { unref?: () => void };
  stdin.unref?.();
  // a guard that died cannot be helped; stopping the stack normally still works without it
  stdin.on('error', () => {});
  child.on('error', () => {});

  const send = (line: string) => {
    if (!stdin.destroyed && stdin.writable) stdin.write(`${line}\n`);
  };
  return {
    track: (pgid) => send(`+${pgid}`),
    untrack: (pgid) => send(`-${pgid}`),
    close: () => stdin.end(),
  };
}

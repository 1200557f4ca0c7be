import { setTimeout as sleep } from 'node:timers/promises';

/** One readiness check: resolves when the server answers, throws (with the reason) while it does not. Bounded in time. */
export type Probe = () => Promise<void>;

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** why waiting is pointless now (say, the process exited), or undefined to keep waiting */
  gaveUp?: () => string | undefined;
}

/** Runs `probe` until it succeeds; throws its last error after `timeoutMs`, or at once when `gaveUp` says so. */
export async function waitUntilAnswers(probe: Probe, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 150;
  let lastError: unknown = new Error('no check ran');
  for (;;) {
    const reason = options.gaveUp?.();
    if (reason) throw new Error(reason, { cause: lastError });
    try {
      await probe();
      return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`did not answer within ${options.timeoutMs} ms: ${describe(lastError)}`, { cause: lastError });
    }
    await sleep(interval);
  }
}

/** An error's message with its direct cause, which is where fetch and the drivers put the reason. */
export function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error && err.cause.message !== err.message ? ` (${err.cause.message})` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}

/**
 * Loaded into the bench's gateway and worker child processes (`node --expose-gc --require THIS`),
 * nothing else: it answers a memory probe over the IPC channel the bench opens (a forced GC of the
 * main isolate, then process.memoryUsage and the V8 heap limit), and stops the child with SIGTERM,
 * its ordinary graceful stop, when the bench process goes away, so no child outlives it.
 */
import { getHeapStatistics } from 'node:v8';

/** the message type both sides use (approvals-processes.ts MEMORY_PROBE); answers are ChildMemory there */
const MEMORY_PROBE = 'vecgate-bench-memory';

if (process.send) {
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', (message: unknown) => {
    if ((message as { type?: unknown } | null)?.type !== MEMORY_PROBE) return;
    gc?.();
    // a second pass after the finalizers and weak callbacks the first one queued
    setTimeout(() => {
      gc?.();
      const u = process.memoryUsage();
      process.send?.({ type: MEMORY_PROBE, rss: u.rss, heapUsed: u.heapUsed, heapTotal: u.heapTotal, external: u.external, heapLimit: getHeapStatistics().heap_size_limit, gcForced: gc !== undefined });
    }, 200);
  });
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  // the channel alone must not keep a child alive that has finished its work
  process.channel?.unref();
}

import type { Logger } from 'pino';
import type { CheckpointRecord, CheckpointSink } from './checkpoint-store';

/**
 * Delivers checkpoints to a sink across the network (the bucket) without holding up the shipper:
 * queued in order, retried with backoff while the store is away, the backlog and the failures
 * counted for the metrics. Each checkpoint covers all events before it, so when the queue is full
 * the oldest waiting one is dropped (and counted) and the newest are kept.
 */

export interface OutboxStats {
  sink: string;
  /** checkpoints waiting to be written */
  waiting: number;
  /** failed attempts since start */
  failures: number;
  /** checkpoints given up on because the queue was full */
  dropped: number;
}

export interface OutboxOptions {
  maxQueue: number;
  /** the first retry waits this long, doubling up to maxBackoffMs */
  firstBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_OUTBOX_OPTIONS: OutboxOptions = { maxQueue: 1000, firstBackoffMs: 500, maxBackoffMs: 60_000 };

export class CheckpointOutbox implements CheckpointSink {
  readonly name: string;
  private readonly queue: CheckpointRecord[] = [];
  private running: Promise<void> | undefined;
  private cancelSleep: (() => void) | undefined;
  private stopped = false;
  private failures = 0;
  private dropped = 0;

  constructor(
    private readonly sink: CheckpointSink,
    private readonly logger: Logger,
    private readonly options: OutboxOptions = DEFAULT_OUTBOX_OPTIONS,
  ) {
    this.name = sink.name;
  }

  /** Queues the checkpoint and returns at once; it is written in the background. */
  write(record: CheckpointRecord): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.queue.push(record);
    if (this.queue.length > this.options.maxQueue) {
      const lost = this.queue.shift() as CheckpointRecord;
      this.dropped += 1;
      this.logger.error({ sink: this.name, instanceId: lost.instanceId, size: lost.size }, `the ${this.name} checkpoint queue is full: checkpoint ${lost.size} is not written there (later ones cover it)`);
    }
    this.running ??= this.deliver();
    return Promise.resolve();
  }

  stats(): OutboxStats {
    return { sink: this.name, waiting: this.queue.length, failures: this.failures, dropped: this.dropped };
  }

  /** Waits up to `timeoutMs` for the queue to empty (at stop); true when it did. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    // one more try now rather than after the backoff
    this.cancelSleep?.();
    while (this.queue.length > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.queue.length === 0;
  }

  /** Stops retrying; what still waits is logged, it stays in MongoDB and in the directory. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelSleep?.();
    await this.running;
    if (this.queue.length > 0) {
      this.logger.error({ sink: this.name, waiting: this.queue.length, sizes: this.queue.map((c) => c.size) }, `stopping with checkpoints not yet written to ${this.name}`);
    }
  }

  private async deliver(): Promise<void> {
    let attempt = 0;
    while (this.queue.length > 0 && !this.stopped) {
      const next = this.queue[0] as CheckpointRecord;
      try {
        await this.sink.write(next);
        if (this.queue[0] === next) this.queue.shift();
        if (attempt > 0) this.logger.info({ sink: this.name, size: next.size, attempts: attempt + 1 }, `checkpoints are written to ${this.name} again`);
        attempt = 0;
      } catch (err) {
        this.failures += 1;
        attempt += 1;
        const waitMs = Math.min(this.options.maxBackoffMs, this.options.firstBackoffMs * 2 ** (attempt - 1));
        this.logger.warn({ err, sink: this.name, instanceId: next.instanceId, size: next.size, attempt, waiting: this.queue.length, retryInMs: waitMs }, `a checkpoint could not be written to ${this.name}; it is retried (the trail goes on meanwhile)`);
        await this.sleep(waitMs);
      }
    }
    this.running = undefined;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.cancelSleep = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.cancelSleep = done;
    });
  }
}

import type { Logger } from 'pino';
import type { Clock } from '../../clock';
import { parseConfig } from '../../config/load';
import { startGateway, type RunningGateway } from '../server';
import { isPrimaryMessage, type PrimaryMessage, type WorkerMessage } from './messages';

type Env = Readonly<Record<string, string | undefined>>;

export interface ClusterWorkerOptions {
  /** this worker's slot (1..N), from the primary */
  slot: number;
  env: Env;
  clock: Clock;
  logger: Logger;
  /** the IPC channel to the primary (process.send and process.on('message') in a real worker) */
  channel: WorkerChannel;
  /** ends the process once a stop asked by the primary is done */
  exit(code: number): void;
}

export interface WorkerChannel {
  send(message: WorkerMessage): void;
  onMessage(listener: (message: PrimaryMessage) => void): void;
  /** the primary went away (it crashed): a worker never outlives it */
  onDisconnect(listener: () => void): void;
}

/**
 * One worker of a multi-process gateway: waits for the configuration the primary validated,
 * starts the gateway as audit instance `<id>-w<slot>` on the shared listeners, and answers the
 * primary's health and metrics questions. Stops (flushing the trail, releasing the lease) when
 * the primary asks, or when the primary is gone.
 */
export async function runClusterWorker(options: ClusterWorkerOptions): Promise<{ gateway: RunningGateway; stop(): Promise<void> }> {
  const { slot, channel, logger } = options;
  // set once the gateway has started; a stop asked before that has nothing to close
  const started: { gateway?: RunningGateway } = {};
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= started.gateway?.close() ?? Promise.resolve());
  const stopAndExit = () => {
    // asked while still starting (waiting for its lease, say): nothing is served yet, so it just
    // ends; what its spool holds is shipped at its next start
    if (!started.gateway) return options.exit(0);
    void stop().then(
      () => options.exit(0),
      (err: unknown) => {
        logger.error({ err, worker: slot }, 'the worker did not stop cleanly');
        options.exit(1);
      },
    );
  };
  channel.onMessage((m) => {
    if (m.type === 'vecgate:stop') stopAndExit();
  });
  channel.onDisconnect(() => {
    logger.error({ worker: slot }, 'the gateway primary is gone: this worker stops');
    stopAndExit();
  });
  const start = await new Promise<Extract<PrimaryMessage, { type: 'vecgate:start' }>>((resolve) => {
    channel.onMessage((m) => {
      if (m.type === 'vecgate:start') resolve(m);
    });
  });
  const loaded = parseConfig(start.text, start.source, options.env);
  const running = await startGateway(loaded, { clock: options.clock, logger: logger.child({ worker: slot }), worker: { slot } });
  started.gateway = running;

  channel.onMessage((m) => {
    if (m.type !== 'vecgate:ask') return;
    if (m.what === 'health') channel.send({ type: 'vecgate:health', id: m.id, health: { slot, pid: process.pid, instanceId: running.instanceId, ...running.health() } });
    else void running.metricsRegistry.getMetricsAsJSON().then((metrics) => channel.send({ type: 'vecgate:metrics', id: m.id, metrics }));
  });
  channel.send({ type: 'vecgate:ready', instanceId: running.instanceId, url: running.url, connectionUrls: running.connectionUrls });
  return { gateway: running, stop };
}

/** The channel of a process forked by node:cluster. */
export function processChannel(proc: NodeJS.Process): WorkerChannel {
  return {
    send: (message) => {
      // the primary may be gone already: nothing to tell then
      if (proc.connected) proc.send?.(message);
    },
    onMessage: (listener) => void proc.on('message', (m: unknown) => isPrimaryMessage(m) && listener(m)),
    onDisconnect: (listener) => void proc.once('disconnect', listener),
  };
}

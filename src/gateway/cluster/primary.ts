import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:http';
import express from 'express';
import type { Logger } from 'pino';
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { resolveInstanceId } from '../../audit/settings';
import type { Clock } from '../../clock';
import type { LoadedConfig } from '../../config/load';
import { isWorkerMessage, WORKER_SLOT_ENV, type PrimaryMessage, type WorkerMessage, type WorkerMetrics } from './messages';
import { listenOn } from '../listen-on';
import { clusterReady, decideAfterExit, workerPlacement, type SlotRecord, type WorkerHealth } from './plan';

/**
 * The primary of a multi-process gateway (gateway.workers > 1). It serves no request itself:
 * node:cluster accepts on the shared listeners and hands each connection to a worker (round
 * robin). It forks one worker per slot, restarts a worker that dies (backoff, logged), serves the
 * admin port for all of them (metrics summed, health per worker), and at SIGTERM asks every
 * worker to stop cleanly (flush its trail, release its lease).
 */

export interface PrimaryOptions {
  loaded: LoadedConfig;
  /** the configuration file's text and name, handed to each worker so all run the one validated here */
  configText: string;
  configSource: string;
  workers: number;
  clock: Clock;
  logger: Logger;
  /** ends the process: the gateway gave up on a worker that keeps failing to start */
  exit(code: number): void;
}

export interface RunningPrimary {
  instanceId: string;
  adminUrl: string;
  stop(): Promise<void>;
}

interface Slot {
  slot: number;
  instanceId: string;
  worker: Worker | undefined;
  state: 'starting' | 'ready' | 'waiting to restart';
  startedAt: number;
  readyAt?: number;
  record: SlotRecord;
  restarts: number;
  timer?: NodeJS.Timeout;
}

/** How long a worker may take to answer a health or metrics question before it is left out. */
const ASK_TIMEOUT_MS = 2000;
/** At stop, how long the workers may take to flush their trails before they are killed. */
const STOP_TIMEOUT_MS = 30_000;

export async function runPrimary(options: PrimaryOptions): Promise<RunningPrimary> {
  const { loaded, logger, clock } = options;
  const { config } = loaded;
  // made (or read) once here, before any fork: workers read the kept id and never race to make it
  const instanceId = resolveInstanceId(config.gateway.instanceId, config.audit.spool.dir);
  const slots = new Map<number, Slot>();
  for (let slot = 1; slot <= options.workers; slot++) {
    slots.set(slot, { slot, instanceId: workerPlacement(instanceId, slot, config.audit).instanceId, worker: undefined, state: 'starting', startedAt: 0, record: { crashes: 0, startFailures: 0 }, restarts: 0 });
  }

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const restarts = new Counter({ name: 'vecgate_cluster_worker_restarts_total', help: 'Workers restarted by the gateway primary after they exited unasked', registers: [registry] });
  new Gauge({
    name: 'vecgate_cluster_workers',
    help: 'Worker processes of the gateway, by state (starting, ready, waiting to restart)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      for (const state of ['starting', 'ready', 'waiting to restart'] as const) this.set({ state }, [...slots.values()].filter((s) => s.state === state).length);
    },
  });
  const missing = new Gauge({ name: 'vecgate_cluster_metrics_workers_missing', help: 'Workers whose metrics this scrape lacks (starting, or did not answer in time)', registers: [registry] });

  // questions to workers, answered over IPC; kept here, not at module level
  let nextQuestion = 0;
  const waiting = new Map<number, (m: WorkerMessage) => void>();
  const ask = <T extends WorkerMessage>(worker: Worker, what: 'health' | 'metrics'): Promise<T | undefined> =>
    new Promise((resolve) => {
      if (!worker.isConnected()) return resolve(undefined);
      const id = nextQuestion++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolve(undefined);
      }, ASK_TIMEOUT_MS);
      waiting.set(id, (m) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(m as T);
      });
      send(worker, { type: 'vecgate:ask', id, what });
    });
  const readyWorkers = () => [...slots.values()].flatMap((s) => (s.state === 'ready' && s.worker ? [s.worker] : []));

  let stopping = false;
  let announced = false;
  const fork = (s: Slot) => {
    s.state = 'starting';
    s.startedAt = clock.now();
    delete s.readyAt;
    const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(s.slot) });
    s.worker = worker;
    send(worker, { type: 'vecgate:start', source: options.configSource, text: options.configText });
    worker.on('message', (m: unknown) => {
      if (!isWorkerMessage(m)) return;
      if (m.type === 'vecgate:ready') {
        s.state = 'ready';
        s.readyAt = clock.now();
        logger.info({ worker: s.slot, workerPid: worker.process.pid, instanceId: m.instanceId }, 'gateway worker ready');
        if (!announced && [...slots.values()].every((x) => x.state === 'ready')) {
          announced = true;
          logger.info({ instanceId, workers: options.workers, url: m.url, connectionUrls: m.connectionUrls, adminUrl }, 'vecgate gateway listening');
        }
      } else {
        waiting.get(m.id)?.(m);
      }
    });
    worker.once('exit', (code, signal) => onExit(s, worker, code, signal));
  };

  const onExit = (s: Slot, worker: Worker, code: number | null, signal: string | null) => {
    if (s.worker !== worker) return;
    s.worker = undefined;
    if (stopping) return;
    const wasReady = s.readyAt !== undefined;
    const decision = decideAfterExit(s.record, { wasReady, upMs: clock.now() - (s.readyAt ?? s.startedAt) });
    const exit = { worker: s.slot, workerPid: worker.process.pid, instanceId: s.instanceId, code, signal, wasReady };
    if (decision.action === 'give-up') {
      logger.error({ ...exit, alarm: true }, `${decision.reason}: the gateway stops (see the worker's own error above)`);
      void stop().finally(() => options.exit(1));
      return;
    }
    s.record = decision.record;
    s.state = 'waiting to restart';
    logger.error({ ...exit, restartInMs: decision.delayMs, crashesInARow: decision.record.crashes }, 'gateway worker exited unasked: restarting it as the same audit instance');
    s.timer = setTimeout(() => {
      delete s.timer;
      if (stopping) return;
      s.restarts += 1;
      restarts.inc();
      fork(s);
    }, decision.delayMs);
  };

  const admin = express();
  admin.disable('x-powered-by');
  admin.get('/healthz', (_req, res) => {
    const workers = [...slots.values()].map((s) => ({ slot: s.slot, instanceId: s.instanceId, pid: s.worker?.process.pid ?? null, state: s.state, restarts: s.restarts, since: new Date(s.readyAt ?? s.startedAt).toISOString() }));
    res.json({ status: 'ok', instanceId, primaryPid: process.pid, workers });
  });
  admin.get('/readyz', (_req, res, next) => {
    Promise.all(readyWorkers().map((w) => ask<Extract<WorkerMessage, { type: 'vecgate:health' }>>(w, 'health')))
      .then((answers) => {
        const workers: WorkerHealth[] = answers.flatMap((a) => (a ? [a.health] : []));
        const ready = clusterReady(workers);
        res.status(ready ? 200 : 503).json({ ready, auditPending: workers.reduce((n, w) => n + w.auditPending, 0), workers });
      })
      .catch(next);
  });
  admin.get('/metrics', (_req, res, next) => {
    const workers = readyWorkers();
    Promise.all(workers.map((w) => ask<Extract<WorkerMessage, { type: 'vecgate:metrics' }>>(w, 'metrics')))
      .then(async (answers) => {
        const got: WorkerMetrics[] = answers.flatMap((a) => (a ? [a.metrics] : []));
        missing.set(options.workers - got.length);
        // summed as prom-client sums a cluster (counters and histograms add up, version info is
        // taken once); the primary's own process metrics are part of the sum, so
        // process_cpu_seconds_total is the CPU of the whole gateway
        const summed = AggregatorRegistry.aggregate([...got, await registry.getMetricsAsJSON()]);
        res.type(registry.contentType).send(await summed.metrics());
      })
      .catch(next);
  });
  const adminServer = createServer(admin);
  const adminUrl = await listenOn(adminServer, config.gateway.adminListen);

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopping = true;
      const live: Worker[] = [];
      for (const s of slots.values()) {
        if (s.timer) clearTimeout(s.timer);
        if (s.worker && !s.worker.isDead()) live.push(s.worker);
      }
      logger.info({ workers: live.length }, 'stopping the gateway workers: each flushes its audit trail and releases its instance');
      await Promise.all(
        live.map(
          (w) =>
            new Promise<void>((resolve) => {
              if (w.isDead()) return resolve();
              const kill = setTimeout(() => {
                logger.error({ workerPid: w.process.pid }, `a worker did not stop within ${STOP_TIMEOUT_MS} ms: killed (its spool keeps what MongoDB lacks)`);
                w.process.kill('SIGKILL');
              }, STOP_TIMEOUT_MS);
              w.once('exit', () => {
                clearTimeout(kill);
                resolve();
              });
              send(w, { type: 'vecgate:stop' });
            }),
        ),
      );
      await new Promise<void>((resolve) => {
        adminServer.close(() => resolve());
        adminServer.closeAllConnections();
      });
    })());

  for (const s of slots.values()) fork(s);
  return { instanceId, adminUrl, stop };
}

function send(worker: Worker, message: PrimaryMessage): void {
  // a worker that just died cannot be told anything; its exit is handled on its own
  if (worker.isConnected()) worker.send(message);
}

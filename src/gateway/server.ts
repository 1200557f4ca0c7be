import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import express from 'express';
import { MongoClient } from 'mongodb';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AuditLog } from '../audit/event';
import { configurationEvidence } from '../audit/configuration';
import { resolveInstanceId, trailSettingsFrom } from '../audit/settings';
import { sinksFrom } from '../audit/sink-config';
import { openAuditTrail } from '../audit/trail';
import type { Clock } from '../clock';
import type { LoadedConfig } from '../config/load';
import { createCachingVerifier } from '../identity/cached-verifier';
import { createTokenVerifier } from '../identity/verifier';
import type { TokenVerifier } from '../identity/types';
import { compilePolicy } from '../policy/evaluate';
import { Client, Connection } from '@temporalio/client';
import { createApprovalGate } from '../approval/gate';
import { temporalConnectionOptions } from '../approval/temporal-connection';
import { compileMasking } from '../masking';
import { compileVolumeLimits, openUsageStore } from '../volume';
import { createConnections } from './connections';
import { createRequestHandler, type HandlerDeps } from './handler';
import { createGatewayMetrics, registerCheckpointMetrics } from './metrics';
import { workerPlacement } from './cluster/plan';
import { listenOn } from './listen-on';

export interface RunningGateway {
  instanceId: string;
  /** the shared listener: http://host:port/c/{connection} */
  url: string;
  /** absent in a cluster worker: the primary serves the admin port for all workers */
  adminUrl?: string;
  /** connection name -> URL of its own listener */
  connectionUrls: Record<string, string>;
  audit: AuditLog;
  /** what /readyz reports: the audit trail accepts events, and how many wait for MongoDB */
  health(): { ready: boolean; auditPending: number };
  /** this process's metrics (the primary of a cluster sums its workers') */
  metricsRegistry: Registry;
  close(): Promise<void>;
}

export interface GatewayOptions {
  clock: Clock;
  logger: Logger;
  /** replaces the verifier built from the identity config (used by benchmarks of the proxy alone) */
  verifier?: TokenVerifier;
  /**
   * This process is worker `slot` (1..N) of a cluster (src/gateway/cluster/): its own audit
   * instance and spool, and no admin listener (the primary serves it for all workers).
   */
  worker?: { slot: number };
}

/** Starts the data listeners and the admin listener; everything is validated and connected first. */
export async function startGateway(loaded: LoadedConfig, options: GatewayOptions): Promise<RunningGateway> {
  const { config } = loaded;
  const { logger, clock } = options;
  const baseInstanceId = resolveInstanceId(config.gateway.instanceId, config.audit.spool.dir);
  const placement = options.worker ? workerPlacement(baseInstanceId, options.worker.slot, config.audit) : undefined;
  const instanceId = placement?.instanceId ?? baseInstanceId;
  const mongo = await MongoClient.connect(config.audit.mongodbUri, { serverSelectionTimeoutMS: 5000, appName: 'vecgate-gateway' });
  const evidence = configurationEvidence(config);
  const sinks = sinksFrom(placement?.sinks ?? config.audit.sinks, logger);
  const trailSettings = trailSettingsFrom(config.audit, loaded.checkpointBucketCredentials);
  const audit = await openAuditTrail(mongo.db(config.audit.database), placement ? { ...trailSettings, spoolDir: placement.spoolDir } : trailSettings, {
    instanceId,
    holderName: `${hostname()} pid ${process.pid}`,
    clock,
    logger,
    configSha256: evidence.sha256,
    sinks,
  });
  // the policy in force at any time can be shown: each configuration a gateway starts with is an event
  audit.recordSystem('vecgate.configuration', `This gateway started with configuration sha256 ${evidence.sha256}.`, { configuration: evidence.configuration });
  const connections = createConnections(loaded, clock);
  const temporal = config.approvals ? await Connection.lazy(temporalConnectionOptions(config.approvals.temporal, loaded.temporalApiKey)) : undefined;
  const metrics = createGatewayMetrics(() => audit.pending());
  registerCheckpointMetrics(metrics.registry, () => audit.checkpointBacklog());
  const masker = compileMasking(config.masking.rules, { tokenKey: loaded.maskingTokenKey });
  const volumeLimits = compileVolumeLimits(config);
  // counts are shared through the audit database only when some window needs them
  const usage = volumeLimits.longestWindowSeconds > 0
    ? await openUsageStore(mongo.db(config.audit.database), config.usage, { clock, logger, longestWindowSeconds: volumeLimits.longestWindowSeconds })
    : undefined;
  const deps: HandlerDeps = {
    gateway: config.gateway,
    connections,
    verifier: options.verifier ?? buildVerifier(config.identity, clock, logger),
    policy: compilePolicy(config.policy.rules),
    reviewRules: new Map(config.policy.rules.flatMap((r) => (r.approval ? [[r.id, r.approval] as const] : []))),
    ...(config.approvals && temporal
      ? {
          approvals: createApprovalGate({
            client: new Client({ connection: temporal, namespace: config.approvals.temporal.namespace }),
            taskQueue: config.approvals.temporal.taskQueue,
            holdMs: config.approvals.holdSeconds * 1000,
            deciderKeys: config.approvals.deciderPublicKeys,
            where: config.approvals.slack?.channelName ?? 'the approvals channel',
            ...(config.approvals.slack ? { maxGroupAgeMs: config.approvals.slack.maxGroupAgeSeconds * 1000 } : {}),
            instanceId,
            masker,
            maxNewPerRequester: config.approvals.maxNewPerRequester,
            clock,
            logger,
          }),
        }
      : {}),
    masker,
    maskingMaxBodyBytes: config.masking.settings.maxBodyBytes,
    volume: { limits: volumeLimits, ...(usage ? { usage } : {}), unreachableAllowance: config.usage.unreachableAllowance },
    audit,
    metrics,
    clock,
    logger,
  };

  const servers: Server[] = [];
  const listen = async (handler: ReturnType<typeof createRequestHandler>, host: string, port: number) => {
    // a bare node:http listener: the handler routes by itself, and Express's router and
    // request/response decoration cost about 8 % of the CPU of a trivial request (docs/performance.md)
    const server = createServer({ requireHostHeader: false }, handler);
    server.requestTimeout = config.gateway.bodyTimeoutMs + 5000;
    server.keepAliveTimeout = 65_000;
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => refuseMalformed(deps, err, socket));
    servers.push(server);
    return listenOn(server, { host, port });
  };

  const url = await listen(createRequestHandler(deps), config.gateway.listen.host, config.gateway.listen.port);
  const connectionUrls: Record<string, string> = {};
  for (const c of config.connections) {
    if (c.listen) connectionUrls[c.name] = await listen(createRequestHandler(deps, c.name), c.listen.host, c.listen.port);
  }

  const health = () => ({ ready: audit.accepting(), auditPending: audit.pending() });
  let adminUrl: string | undefined;
  if (!options.worker) {
    const admin = express();
    admin.disable('x-powered-by');
    admin.get('/healthz', (_req, res) => void res.json({ status: 'ok', instanceId }));
    admin.get('/readyz', (_req, res) => {
      const h = health();
      res.status(h.ready ? 200 : 503).json(h);
    });
    admin.get('/metrics', (_req, res, next) => {
      metrics.registry.metrics().then((text) => res.type(metrics.registry.contentType).send(text), next);
    });
    const adminServer = createServer(admin);
    servers.push(adminServer);
    adminUrl = await listenOn(adminServer, config.gateway.adminListen);
  }

  logger.info({ instanceId, url, connectionUrls, adminUrl }, 'vecgate gateway listening');
  return {
    instanceId,
    url,
    ...(adminUrl ? { adminUrl } : {}),
    connectionUrls,
    audit,
    health,
    metricsRegistry: metrics.registry,
    async close() {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => { s.close(() => resolve()); s.closeAllConnections(); })));
      await Promise.all([...connections.values()].map((c) => c.upstream.close()));
      await deps.approvals?.drain();
      await usage?.close();
      await audit.close();
      await Promise.all(sinks.map((sink) => sink.close()));
      await mongo.close();
      await temporal?.close();
    },
  };
}

function buildVerifier(identity: LoadedConfig['config']['identity'], clock: Clock, logger: Logger): TokenVerifier {
  const verifier = createTokenVerifier(identity, { clock, logger });
  if (identity.verifiedTokenCacheSeconds === 0) return verifier;
  return createCachingVerifier(verifier, { clock, ttlMs: identity.verifiedTokenCacheSeconds * 1000, maxEntries: 10_000 });
}

/** A request Node could not even parse (smuggling attempts among them): answered 400 and audited. */
function refuseMalformed(deps: HandlerDeps, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const message = 'The request is malformed HTTP (conflicting or repeated length headers, bad header syntax); it was refused.';
  const body = JSON.stringify({ error: 'BAD_FRAMING', message });
  const committed = deps.audit.commit({
    requestId: randomUUID(),
    time: new Date(deps.clock.now()),
    principal: null,
    client: { ip: socket.remoteAddress ?? '' },
    connection: null,
    dialect: null,
    request: { method: '', path: '', endpoint: null },
    operation: null,
    collections: [],
    bulk: false,
    decision: { effect: 'none', ruleId: null, explanation: `Refused before a policy decision: BAD_FRAMING (${String(err.code ?? 'parse error')}).` },
    status: 400,
    error: { code: 'BAD_FRAMING', message },
    latencyMs: 0,
    bytesIn: 0,
    bytesOut: Buffer.byteLength(body),
  });
  committed.then(
    () => socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`),
    (e: unknown) => {
      deps.logger.error({ err: e }, 'the audit event of a malformed request could not be made durable');
      socket.destroy();
    },
  );
}

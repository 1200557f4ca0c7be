import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one gateway, in a registry of its own (no global default registry). */
export interface GatewayMetrics {
  registry: Registry;
  requests: Counter<'connection' | 'operation' | 'effect' | 'status'>;
  duration: Histogram<'connection' | 'operation'>;
  /** where a request's time went: the upstream's answer, and making its audit event durable */
  steps: Histogram<'step'>;
  auditPending: Gauge;
}

export function createGatewayMetrics(auditPending: () => number): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({
      name: 'vecgate_requests_total',
      help: 'Requests by connection, operation class, policy effect and status returned',
      labelNames: ['connection', 'operation', 'effect', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'vecgate_request_duration_seconds',
      help: 'Time from request arrival to the end of the response',
      labelNames: ['connection', 'operation'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    steps: new Histogram({
      name: 'vecgate_request_step_duration_seconds',
      help: 'Time of the steps that wait: step="upstream" from forwarding to the database answer\'s headers, step="audit" from sealing the audit event to its being durable in the spool (the answer waits for it)',
      labelNames: ['step'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    auditPending: new Gauge({
      name: 'vecgate_audit_pending_events',
      help: 'Audit events waiting to be written to MongoDB',
      registers: [registry],
      collect() {
        this.set(auditPending());
      },
    }),
  };
}

/** The checkpoint sinks written in the background (the bucket): what waits, and failed attempts. */
export function registerCheckpointMetrics(registry: Registry, backlog: () => ReadonlyArray<{ sink: string; waiting: number; failures: number; dropped: number }>): void {
  new Gauge({
    name: 'vecgate_audit_checkpoints_waiting',
    help: 'Signed checkpoints not yet written to a sink outside MongoDB (the S3 bucket), by sink',
    labelNames: ['sink'],
    registers: [registry],
    collect() {
      for (const b of backlog()) this.set({ sink: b.sink }, b.waiting);
    },
  });
  new Gauge({
    name: 'vecgate_audit_checkpoint_write_failures',
    help: 'Failed attempts to write a checkpoint to a sink outside MongoDB since start, by sink (each is retried)',
    labelNames: ['sink'],
    registers: [registry],
    collect() {
      for (const b of backlog()) this.set({ sink: b.sink }, b.failures);
    },
  });
  new Gauge({
    name: 'vecgate_audit_checkpoints_dropped',
    help: 'Checkpoints never written to a sink because its queue was full (later checkpoints cover them), by sink',
    labelNames: ['sink'],
    registers: [registry],
    collect() {
      for (const b of backlog()) this.set({ sink: b.sink }, b.dropped);
    },
  });
}

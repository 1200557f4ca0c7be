import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one gateway, in a registry of its own (no global default registry). */
export interface GatewayMetrics {
  registry: Registry;
  requests: Counter<'connection' | 'operation' | 'effect' | 'status'>;
  duration: Histogram<'connection' | 'operation'>;
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

import type { AuditRecord } from '../src/audit/event';

/** The audit benchmarks' event: an allowed search by one of 50 users, about 900 bytes of BSON. */
export function searchEvent(i: number, requestId: string, time: Date): AuditRecord {
  return {
    requestId,
    time,
    principal: { subject: `user-${i % 50}`, email: `user${i % 50}@example.test`, groups: ['data-scientists'], issuer: 'http://idp.example' },
    client: { ip: '127.0.0.1', userAgent: 'bench' },
    connection: 'demo',
    dialect: 'chroma',
    request: { method: 'POST', path: '/api/v2/tenants/default_tenant/databases/default_database/collections/0f0e/query', endpoint: 'chroma.collection_query', bodySha256: 'a'.repeat(64) },
    operation: 'search',
    collections: ['docs-bench'],
    bulk: false,
    decision: { effect: 'allow', ruleId: 'scientists-use-docs', explanation: 'Rule "scientists-use-docs" allows search on collection "docs-bench" of connection "demo".' },
    status: 200,
    records: { requested: 10, returned: 10 },
    upstream: { status: 200, latencyMs: 1.2 },
    latencyMs: 1.9,
    bytesIn: 600,
    bytesOut: 4000,
  };
}

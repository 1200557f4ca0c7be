import { randomBytes } from 'node:crypto';
import type { AuditRecord } from '../../../src/audit/event';

/** An ordinary request's audit record for trail tests; `over` replaces any field. */
export function sampleRecord(over: Partial<AuditRecord> = {}): AuditRecord {
  return {
    requestId: randomBytes(8).toString('hex'),
    time: new Date(),
    principal: { subject: 'alice', groups: ['g'], issuer: 'http://idp' },
    client: { ip: '127.0.0.1' },
    connection: 'demo',
    dialect: 'chroma',
    request: { method: 'POST', path: '/api/v2/x', endpoint: 'chroma.collection_add' },
    operation: 'write',
    collections: ['docs'],
    bulk: false,
    decision: { effect: 'allow', ruleId: 'r', explanation: 'x' },
    status: 200,
    latencyMs: 1.25,
    bytesIn: 10,
    bytesOut: 20,
    ...over,
  };
}

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Filter } from 'mongodb';
import pino from 'pino';
import { stringify } from 'yaml';
import type { AuditEvent } from '../../../src/audit/event';
import { systemClock } from '../../../src/clock';
import { parseConfig } from '../../../src/config/load';
import { startGateway, type RunningGateway } from '../../../src/gateway/server';
import { testStack } from '../../support/stack';

/** The policy the integration tests run with; it mirrors config/demo.yaml. */
export const TEST_RULES = [
  { id: 'everyone-meta', groups: ['*'], operations: ['meta'], effect: 'allow' },
  { id: 'scientists-use-docs', groups: ['data-scientists'], collections: ['docs-*'], operations: ['search', 'read', 'write'], effect: 'allow' },
  { id: 'scientists-bulk-review', groups: ['data-scientists'], collections: ['docs-*'], operations: ['export', 'delete', 'schema'], effect: 'review', approval: { approverGroups: ['data-stewards'] } },
  { id: 'stewards-manage', groups: ['data-stewards'], collections: ['docs-*', 'secret-*'], operations: ['*'], effect: 'allow' },
  { id: 'stewards-list', groups: ['data-stewards'], collections: ['*'], operations: ['read'], effect: 'allow' },
  { id: 'no-secrets-for-scientists', groups: ['data-scientists'], collections: ['secret-*'], operations: ['*'], effect: 'deny' },
];

export interface TestGatewayOptions {
  upstream?: string;
  gateway?: Record<string, unknown>;
  audit?: Record<string, unknown>;
  identity?: Record<string, unknown>;
  credential?: { env: string; header?: string };
  masking?: Record<string, unknown>;
  policy?: unknown[];
  approvals?: Record<string, unknown>;
  env?: Record<string, string>;
  mongoUri?: string;
  /** the MongoDB database; gateways given the same one share audit store and usage counts */
  database?: string;
  connection?: Record<string, unknown>;
  usage?: Record<string, unknown>;
}

export interface TestGateway {
  gateway: RunningGateway;
  /** the demo connection's own listener, e.g. http://127.0.0.1:PORT */
  url: string;
  host: string;
  port: number;
  /** audit events of this gateway, after writing what is queued */
  events(filter?: Filter<AuditEvent>): Promise<AuditEvent[]>;
  close(): Promise<void>;
}

export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const stack = testStack();
  const mongoUri = options.mongoUri ?? stack.mongoUri;
  const database = options.database ?? `vecgate_it_${randomBytes(4).toString('hex')}`;
  // each gateway its own spool (and so its own instance id) and checkpoint directory
  const scratch = mkdtempSync(join(tmpdir(), 'vecgate-gw-'));
  const yaml = stringify({
    gateway: { listen: { port: 0 }, adminListen: { port: 0 }, ...options.gateway },
    identity: { issuer: stack.oidcIssuer, audience: 'vecgate', jwksCooldownSeconds: 1, ...options.identity },
    connections: [{ name: 'demo', dialect: 'chroma', upstream: options.upstream ?? stack.chromaUrl, listen: { port: 0 }, ...(options.credential ? { credential: options.credential } : {}), ...options.connection }],
    policy: { rules: options.policy ?? TEST_RULES },
    audit: {
      mongodbUri: mongoUri,
      database,
      spool: { dir: join(scratch, 'spool') },
      checkpoints: { keyFile: checkpointKeyFile(), dir: join(scratch, 'checkpoints'), everySeconds: 1 },
      leaseSeconds: 3,
      ...options.audit,
    },
    ...(options.masking ? { masking: options.masking } : {}),
    ...(options.approvals ? { approvals: options.approvals } : {}),
    ...(options.usage ? { usage: options.usage } : {}),
  });
  const loaded = parseConfig(yaml, 'test gateway', { ...options.env });
  const gateway = await startGateway(loaded, { clock: systemClock, logger: pino({ level: process.env.VECGATE_TEST_LOG ?? 'silent' }) });
  const url = gateway.connectionUrls.demo as string;
  const parsed = new URL(url);
  const mongo = await MongoClient.connect(mongoUri);
  return {
    gateway,
    url,
    host: parsed.hostname,
    port: Number(parsed.port),
    async events(filter: Filter<AuditEvent> = {}) {
      await gateway.audit.flush();
      // the requests' events; the gateway's own (its configuration) are left out
      return mongo.db(database).collection<AuditEvent>('audit_events').find({ instanceId: gateway.instanceId, system: { $exists: false }, ...filter }).sort({ seq: 1 }).toArray();
    },
    async close() {
      await gateway.close();
      await mongo.close();
    },
  };
}

let keyFile: string | undefined;

/** One Ed25519 checkpoint key for the test run's gateways, in a file as operators keep it. */
export function checkpointKeyFile(): string {
  if (!keyFile) {
    keyFile = join(mkdtempSync(join(tmpdir(), 'vecgate-key-')), 'checkpoint.pem');
    writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
  }
  return keyFile;
}

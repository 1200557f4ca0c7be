import { Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import type { Probe } from './wait';

// Each probe is bounded so a wait loop around it keeps to its own deadline.
const PROBE_TIMEOUT_MS = 2000;

/** Temporal answers when its frontend serves DescribeNamespace for `namespace`. */
export function temporalAnswers(address: string, namespace = 'default'): Probe {
  return async () => {
    const connection = await Connection.connect({ address, connectTimeout: PROBE_TIMEOUT_MS });
    try {
      await connection.withDeadline(Date.now() + PROBE_TIMEOUT_MS, () => connection.workflowService.describeNamespace({ namespace }));
    } finally {
      await connection.close();
    }
  };
}

/** A MongoDB-wire server answers when `ping` succeeds. */
export function mongoAnswers(uri: string): Probe {
  return async () => {
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: PROBE_TIMEOUT_MS, connectTimeoutMS: PROBE_TIMEOUT_MS });
    try {
      await client.db('admin').command({ ping: 1 });
    } finally {
      await client.close();
    }
  };
}

/** Chroma answers when its v2 heartbeat returns 200. */
export function chromaAnswers(url: string): Probe {
  return async () => {
    const res = await fetch(new URL('/api/v2/heartbeat', url), { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET /api/v2/heartbeat answered ${res.status}`);
  };
}

/** An OpenID provider answers when its discovery document names `issuer`. */
export function oidcAnswers(issuer: string): Probe {
  return async () => {
    const res = await fetch(discoveryUrl(issuer), { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    if (res.status !== 200) {
      await res.arrayBuffer();
      throw new Error(`discovery answered ${res.status}`);
    }
    const doc = (await res.json()) as { issuer?: unknown };
    if (doc.issuer !== issuer) throw new Error(`discovery names issuer ${String(doc.issuer)}, expected ${issuer}`);
  };
}

export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

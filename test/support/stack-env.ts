import type { DevStack } from '../../src/devstack';

/** How global-setup hands the stack's addresses to test workers (they inherit its environment). */
export const TEST_STACK_ENV = {
  temporalAddress: 'VECGATE_TEST_TEMPORAL_ADDRESS',
  mongoUri: 'VECGATE_TEST_MONGODB_URI',
  chromaUrl: 'VECGATE_TEST_CHROMA_URL',
  chromaCurrentUrl: 'VECGATE_TEST_CHROMA_CURRENT_URL',
  chromaPython: 'VECGATE_TEST_CHROMA_PYTHON',
  oidcIssuer: 'VECGATE_TEST_OIDC_ISSUER',
  temporalTestServerPath: 'VECGATE_TEST_TEMPORAL_TEST_SERVER',
} as const;

/** Audiences the test provider issues tokens for: the gateway's, and one the gateway must refuse. */
export const TEST_AUDIENCES = ['vecgate', 'other-api'] as const;

// jest loads globalSetup and globalTeardown as separate modules in one process: the running stack
// passes between them on globalThis, the one thing they share.
const HANDLE = Symbol.for('vecgate.test.devStack');

interface Handle {
  stack: DevStack;
  runDir: string;
}

export function keepStackHandle(handle: Handle): void {
  (globalThis as Record<symbol, unknown>)[HANDLE] = handle;
}

export function takeStackHandle(): Handle | undefined {
  const store = globalThis as Record<symbol, unknown>;
  const handle = store[HANDLE] as Handle | undefined;
  delete store[HANDLE];
  return handle;
}

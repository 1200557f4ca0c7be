import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchDemoToken, fetchServiceToken, type DemoDirectory, type DemoServiceAccount, type DemoUser } from '../../src/devstack';
import { TEST_STACK_ENV } from './stack-env';

export { TEST_AUDIENCES, TEST_STACK_ENV } from './stack-env';

/** Addresses of the servers jest's global setup started (or took from TEMPORAL_ADDRESS etc.). */
export interface TestStack {
  temporalAddress: string;
  mongoUri: string;
  /** the pinned Chroma 1.0.0 (npm chromadb) */
  chromaUrl: string;
  /** the current Chroma release (PyPI chromadb 1.5.x) */
  chromaCurrentUrl: string;
  /** the Python whose venv holds the official Python client, chromadb 1.5.x */
  chromaPython: string;
  oidcIssuer: string;
  /** for TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } }) */
  temporalTestServerPath: string;
}

export function testStack(): TestStack {
  const read = (key: keyof TestStack) => {
    const name = TEST_STACK_ENV[key];
    const value = process.env[name];
    if (!value) {
      throw new Error(`${name} is not set: test/support/global-setup.ts publishes it; run the tests through jest (npx jest), whose config names that global setup`);
    }
    return value;
  };
  return {
    temporalAddress: read('temporalAddress'),
    mongoUri: read('mongoUri'),
    chromaUrl: read('chromaUrl'),
    chromaCurrentUrl: read('chromaCurrentUrl'),
    chromaPython: read('chromaPython'),
    oidcIssuer: read('oidcIssuer'),
    temporalTestServerPath: read('temporalTestServerPath'),
  };
}

/** A Chroma server the integration suites run against, named for test titles. */
export interface TestChroma {
  /** e.g. "Chroma 1.0.0 (pinned)" */
  label: string;
  url: string;
}

/**
 * Both Chroma servers the global setup runs, for `describe.each`: the pinned 1.0.0 the npm client
 * was built for, and the current release. Read at collection time, after the global setup.
 */
export function testChromas(): TestChroma[] {
  const stack = testStack();
  return [
    { label: 'Chroma 1.0.0 (pinned, npm)', url: stack.chromaUrl },
    { label: 'Chroma 1.5 (current, PyPI)', url: stack.chromaCurrentUrl },
  ];
}

export type TestUserName = 'alice' | 'bob' | 'carol' | 'dave';

/** The directory the test OpenID provider serves (test/support/users.json). */
export function testDirectory(): DemoDirectory {
  return JSON.parse(readFileSync(join(__dirname, 'users.json'), 'utf8')) as DemoDirectory;
}

export function testUser(name: TestUserName): DemoUser {
  const user = testDirectory().users.find((u) => u.username === name);
  if (!user) throw new Error(`no user ${name} in test/support/users.json`);
  return user;
}

export function testServiceAccount(clientId = 'svc-indexer'): DemoServiceAccount {
  const account = testDirectory().serviceAccounts?.find((s) => s.clientId === clientId);
  if (!account) throw new Error(`no service account ${clientId} in test/support/users.json`);
  return account;
}

/** A JWT access token for a test user, from the test OpenID provider. */
export function tokenFor(name: TestUserName, audience = 'vecgate'): Promise<string> {
  const user = testUser(name);
  return fetchDemoToken(testStack().oidcIssuer, { username: user.username, password: user.password, audience });
}

/** A JWT access token for a test service account (client_credentials), for the default audience. */
export function serviceTokenFor(clientId = 'svc-indexer'): Promise<string> {
  const account = testServiceAccount(clientId);
  return fetchServiceToken(testStack().oidcIssuer, { clientId: account.clientId, clientSecret: account.clientSecret });
}

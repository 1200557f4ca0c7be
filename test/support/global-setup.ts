import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDevStackEnv, startDevStack } from '../../src/devstack';
import { keepStackHandle, TEST_AUDIENCES, TEST_STACK_ENV } from './stack-env';

/** Starts the real servers once for the whole run, each on a free port under a fresh temp dir. */
export default async function globalSetup(): Promise<void> {
  const runDir = mkdtempSync(join(tmpdir(), 'vecgate-test-'));
  const stack = await startDevStack({
    runDir,
    ...readDevStackEnv(process.env),
    // the integration suites run against both the pinned Chroma 1.0 and the current release
    chroma: ['pinned', 'current'],
    oidc: { directoryFile: join(__dirname, 'users.json'), audiences: [...TEST_AUDIENCES] },
    // jest's own Ctrl-C handling may skip globalTeardown; stop the servers ourselves then
    stopOnSignals: true,
  });
  keepStackHandle({ stack, runDir });

  process.env[TEST_STACK_ENV.temporalAddress] = stack.temporalAddress;
  process.env[TEST_STACK_ENV.mongoUri] = stack.mongoUri;
  process.env[TEST_STACK_ENV.chromaUrl] = stack.chromaUrl;
  process.env[TEST_STACK_ENV.chromaCurrentUrl] = stack.chromaUrls.current;
  process.env[TEST_STACK_ENV.chromaPython] = stack.chromaPythonPath;
  process.env[TEST_STACK_ENV.oidcIssuer] = stack.oidcIssuer;
  process.env[TEST_STACK_ENV.temporalTestServerPath] = stack.testServerPath;
  process.stderr.write(`\ndev stack ready in ${stack.readyInMs} ms (started: ${stack.started.join(', ') || 'none'}; logs in ${join(runDir, 'logs')})\n`);
}

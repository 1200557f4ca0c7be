import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevStackError, readDevStackEnv, startDevStack } from '../../src/devstack';
import { testStack } from '../support/stack';

describe('a dev stack given addresses from the environment', () => {
  let runDir: string;
  beforeEach(() => {
    runDir = mkdtempSync(join(tmpdir(), 'vecgate-external-'));
  });
  afterEach(() => rmSync(runDir, { recursive: true, force: true }));

  it('reads TEMPORAL_ADDRESS, MONGODB_URI, CHROMA_URL, OIDC_ISSUER and VECGATE_CACHE', () => {
    expect(
      readDevStackEnv({ TEMPORAL_ADDRESS: 't:7233', MONGODB_URI: 'mongodb://m/', CHROMA_URL: 'http://c', OIDC_ISSUER: 'http://i', VECGATE_CACHE: '/c', CHROMA_PORT: 'x' }),
    ).toEqual({ external: { temporalAddress: 't:7233', mongoUri: 'mongodb://m/', chromaUrl: 'http://c', oidcIssuer: 'http://i' }, cacheDir: '/c' });
    expect(readDevStackEnv({ TEMPORAL_ADDRESS: ' ' }).external.temporalAddress).toBeUndefined();
  });

  it('starts nothing and hands the addresses back once they answer', async () => {
    const running = testStack();
    const external = {
      temporalAddress: running.temporalAddress,
      mongoUri: running.mongoUri,
      chromaUrl: running.chromaUrl,
      oidcIssuer: running.oidcIssuer,
    };
    const stack = await startDevStack({ runDir, cacheDir: readDevStackEnv(process.env).cacheDir, external, stopOnSignals: false });
    try {
      expect(stack.started).toEqual([]);
      expect(stack).toMatchObject(external);
    } finally {
      await stack.stop();
    }
    // stopping it stopped nothing: the shared servers still answer
    expect((await fetch(`${running.chromaUrl}/api/v2/heartbeat`)).status).toBe(200);
  });

  it('that does not answer fails naming the variable and the address', async () => {
    const running = testStack();
    const attempt = startDevStack({
      runDir,
      cacheDir: readDevStackEnv(process.env).cacheDir,
      external: { temporalAddress: running.temporalAddress, mongoUri: running.mongoUri, chromaUrl: 'http://127.0.0.1:1', oidcIssuer: running.oidcIssuer },
      readyTimeoutMs: 500,
      stopOnSignals: false,
    });
    await expect(attempt).rejects.toBeInstanceOf(DevStackError);
    await expect(attempt).rejects.toMatchObject({ code: 'SERVER_UNREACHABLE' });
    await expect(attempt).rejects.toThrow(/^chroma: CHROMA_URL=http:\/\/127\.0\.0\.1:1 does not answer: did not answer within 500 ms/);
  });
});

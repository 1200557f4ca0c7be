import { SignJWT, generateKeyPair } from 'jose';
import { createCachingVerifier } from '../../src/identity/cached-verifier';
import type { Principal, TokenVerifier } from '../../src/identity/types';
import { VecgateError } from '../../src/errors';

/** A verifier that counts its calls and accepts only tokens it was told about. */
function countingVerifier(valid: Set<string>): TokenVerifier & { calls: number } {
  const v = {
    calls: 0,
    async verify(token: string): Promise<Principal> {
      v.calls += 1;
      if (!valid.has(token)) throw new VecgateError('TOKEN_INVALID', 'no');
      return { subject: 'alice', groups: ['g'], issuer: 'http://idp' };
    },
  };
  return v;
}

async function token(expSeconds: number): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('alice').setExpirationTime(expSeconds).sign(privateKey);
}

describe('verified-token cache', () => {
  const start = 1_700_000_000_000;

  test('a token that verified is not checked again within the ttl, and is after it', async () => {
    const now = { t: start };
    const t = await token(start / 1000 + 3600);
    const inner = countingVerifier(new Set([t]));
    const v = createCachingVerifier(inner, { clock: { now: () => now.t }, ttlMs: 30_000, maxEntries: 10 });
    await v.verify(t);
    await v.verify(t);
    expect(inner.calls).toBe(1);
    now.t += 30_001;
    await v.verify(t);
    expect(inner.calls).toBe(2);
  });

  test('never past the token\'s own expiry', async () => {
    const now = { t: start };
    const t = await token(start / 1000 + 5);
    const inner = countingVerifier(new Set([t]));
    const v = createCachingVerifier(inner, { clock: { now: () => now.t }, ttlMs: 30_000, maxEntries: 10 });
    await v.verify(t);
    now.t += 6_000;
    await v.verify(t).catch(() => undefined);
    expect(inner.calls).toBe(2);
  });

  test('failures are never cached', async () => {
    const t = await token(start / 1000 + 3600);
    const inner = countingVerifier(new Set());
    const v = createCachingVerifier(inner, { clock: { now: () => start }, ttlMs: 30_000, maxEntries: 10 });
    await expect(v.verify(t)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await expect(v.verify(t)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    expect(inner.calls).toBe(2);
  });

  test('the cache is bounded: the oldest entry goes first', async () => {
    const tokens = await Promise.all([1, 2, 3].map(() => token(start / 1000 + 3600)));
    const inner = countingVerifier(new Set(tokens));
    const v = createCachingVerifier(inner, { clock: { now: () => start }, ttlMs: 30_000, maxEntries: 2 });
    for (const t of tokens) await v.verify(t);
    await v.verify(tokens[2] as string);
    expect(inner.calls).toBe(3);
    await v.verify(tokens[0] as string);
    expect(inner.calls).toBe(4);
  });
});

import { exportSPKI, SignJWT } from 'jose';
import { VecgateError } from '../../src/errors';
import { createTokenVerifier } from '../../src/identity/verifier';
import type { IdentityConfig, TokenVerifier } from '../../src/identity/types';
import { base64url, closedIssuer, FakeIdp, newSigningKey, signToken, type SigningKey, type TokenOptions } from './support/fake-idp';
import { captureLogs, identityConfig, manualClock, sleep, type CapturedLogs, type ManualClock } from './support/harness';

let idp: FakeIdp;
let keyA: SigningKey;
let attackerKey: SigningKey;
let clock: ManualClock;
let logs: CapturedLogs;
const extraIdps: FakeIdp[] = [];

beforeAll(async () => {
  keyA = await newSigningKey('key-a');
  attackerKey = await newSigningKey('attacker');
});

beforeEach(async () => {
  idp = await FakeIdp.start();
  idp.publish(keyA);
  clock = manualClock();
  logs = captureLogs();
});

afterEach(async () => {
  await idp.stop();
  await Promise.all(extraIdps.splice(0).map((extra) => extra.stop()));
});

function verifierFor(overrides: Partial<IdentityConfig> = {}, issuer = idp.issuer): TokenVerifier {
  return createTokenVerifier(identityConfig(issuer, overrides), { clock, logger: logs.logger });
}

function tokenFor(key: SigningKey, opts: TokenOptions = {}): Promise<string> {
  return signToken(key, idp, clock.now(), opts);
}

async function rejectionOf(promise: Promise<unknown>): Promise<VecgateError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(VecgateError);
    return err as VecgateError;
  }
  throw new Error('expected the token to be rejected, but it was accepted');
}

function unsignedToken(header: Record<string, unknown>, claims: Record<string, unknown> = {}): string {
  const now = Math.floor(clock.now() / 1000);
  const payload = { iss: idp.issuer, aud: 'vecgate', sub: 'mallory', exp: now + 300, ...claims };
  return `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}.`;
}

describe('a valid token', () => {
  it('yields the principal with subject, email, groups and issuer', async () => {
    const token = await tokenFor(keyA, { claims: { email: 'alice@example.com', groups: ['search', 'admin'] } });
    await expect(verifierFor().verify(token)).resolves.toEqual({
      subject: 'alice',
      email: 'alice@example.com',
      groups: ['search', 'admin'],
      issuer: idp.issuer,
    });
    expect(idp.requests).toEqual({ discovery: 1, jwks: 1 });
  });

  it('is verified from cache on later calls: discovery and JWKS are fetched once', async () => {
    const verifier = verifierFor();
    for (let i = 0; i < 5; i++) await verifier.verify(await tokenFor(keyA, { claims: { sub: `user-${i}` } }));
    expect(idp.requests).toEqual({ discovery: 1, jwks: 1 });
  });

  it('reads email and groups from the configured claims', async () => {
    const token = await tokenFor(keyA, { claims: { mail: 'a@example.com', roles: ['r1'], email: 'other', groups: ['g'] } });
    const principal = await verifierFor({ emailClaim: 'mail', groupsClaim: 'roles' }).verify(token);
    expect(principal).toMatchObject({ email: 'a@example.com', groups: ['r1'] });
  });

  it('is accepted when the audience is an array naming one accepted audience', async () => {
    const token = await tokenFor(keyA, { claims: { aud: ['other-api', 'vecgate'] } });
    await expect(verifierFor().verify(token)).resolves.toMatchObject({ subject: 'alice' });
  });

  it.each(['/realms/acme', '/realms/acme/'])('works with the issuer path %s, discovered below it', async (issuerPath) => {
    const pathIdp = await FakeIdp.start({ issuerPath });
    extraIdps.push(pathIdp);
    pathIdp.publish(keyA);
    const token = await signToken(keyA, pathIdp, clock.now());
    await expect(verifierFor({}, pathIdp.issuer).verify(token)).resolves.toMatchObject({ issuer: pathIdp.issuer });
    expect(pathIdp.requests).toEqual({ discovery: 1, jwks: 1 });
  });
});

describe('groups and email claims', () => {
  it.each([
    ['an array of strings', ['a', 'b'], ['a', 'b'], false],
    ['a single string, kept whole', 'team-a', ['team-a'], false],
    ['a space-separated string, not split', 'a b', ['a b'], false],
    ['missing', undefined, [], false],
    ['an empty array', [], [], false],
    ['a number', 42, [], true],
    ['an object', { a: 1 }, [], true],
    ['an array with a non-string', ['a', 1], [], true],
  ])('groups claim as %s', async (_label, groups, expected, warns) => {
    const token = await tokenFor(keyA, { claims: groups === undefined ? {} : { groups } });
    const principal = await verifierFor().verify(token);
    expect(principal.groups).toEqual(expected);
    expect(logs.lines.some((line) => line.event === 'identity.claim_ignored')).toBe(warns);
  });

  it('leaves email undefined when the claim is missing', async () => {
    const principal = await verifierFor().verify(await tokenFor(keyA));
    expect(principal.email).toBeUndefined();
    expect('email' in principal).toBe(false);
  });

  it('ignores an email claim that is not a string, with a warning', async () => {
    const principal = await verifierFor().verify(await tokenFor(keyA, { claims: { email: ['a@example.com'] } }));
    expect(principal.email).toBeUndefined();
    expect(logs.lines.some((line) => line.event === 'identity.claim_ignored')).toBe(true);
  });
});

describe('token shape', () => {
  it('an empty token is TOKEN_MISSING', async () => {
    expect((await rejectionOf(verifierFor().verify(''))).code).toBe('TOKEN_MISSING');
  });

  it.each([
    ['garbage', 'not-a-token'],
    ['two parts', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0'],
    ['five parts (a JWE)', 'a.b.c.d.e'],
    ['a header that is not JSON', `${base64url('{nope')}.${base64url('{}')}.sig`],
    ['a header without alg', `${base64url('{"kid":"key-a"}')}.${base64url('{}')}.sig`],
    ['a numeric alg', `${base64url('{"alg":256}')}.${base64url('{}')}.sig`],
  ])('%s is TOKEN_INVALID without contacting the provider', async (_label, token) => {
    expect((await rejectionOf(verifierFor().verify(token))).code).toBe('TOKEN_INVALID');
    expect(idp.requests).toEqual({ discovery: 0, jwks: 0 });
  });

  it('an oversized token (over 16 KB) is TOKEN_INVALID without contacting the provider', async () => {
    const token = await tokenFor(keyA, { claims: { padding: 'x'.repeat(17 * 1024) } });
    const error = await rejectionOf(verifierFor().verify(token));
    expect(error.code).toBe('TOKEN_INVALID');
    expect(error.message).toMatch(/larger than/);
    expect(idp.requests).toEqual({ discovery: 0, jwks: 0 });
  });

  it.each([
    ['no sub', { omit: ['sub'] }],
    ['an empty sub', { claims: { sub: '' } }],
    ['a numeric sub', { claims: { sub: 42 as unknown as string } }],
    ['no exp', { omit: ['exp'] }],
    ['a string exp', { claims: { exp: 'tomorrow' as unknown as number } }],
  ])('a signed token with %s is TOKEN_INVALID', async (_label, opts) => {
    const error = await rejectionOf(verifierFor().verify(await tokenFor(keyA, opts)));
    expect(error.code).toBe('TOKEN_INVALID');
  });
});

// THREATS 1
describe('unsigned tokens (alg none)', () => {
  it.each(['none', 'NONE', 'nOnE', 'None'])('alg "%s" with an empty signature is TOKEN_INVALID, nothing fetched', async (alg) => {
    const error = await rejectionOf(verifierFor().verify(unsignedToken({ alg, kid: 'key-a' })));
    expect(error.code).toBe('TOKEN_INVALID');
    expect(error.status).toBe(401);
    expect(idp.requests).toEqual({ discovery: 0, jwks: 0 });
  });

  it('alg none is refused even when the configuration (unvalidated) lists it', async () => {
    const error = await rejectionOf(verifierFor({ algorithms: ['RS256', 'none'] }).verify(unsignedToken({ alg: 'none', kid: 'key-a' })));
    expect(error.code).toBe('TOKEN_INVALID');
    expect(idp.requests).toEqual({ discovery: 0, jwks: 0 });
  });

  it('an RS256 header with the signature stripped is TOKEN_INVALID', async () => {
    const token = (await tokenFor(keyA)).split('.').slice(0, 2).join('.') + '.';
    expect((await rejectionOf(verifierFor().verify(token))).code).toBe('TOKEN_INVALID');
  });

  it('a valid token with its payload swapped is TOKEN_INVALID', async () => {
    const [header, , signature] = (await tokenFor(keyA)).split('.');
    const payload = base64url(JSON.stringify({ iss: idp.issuer, aud: 'vecgate', sub: 'root', exp: Math.floor(clock.now() / 1000) + 60 }));
    expect((await rejectionOf(verifierFor().verify(`${header}.${payload}.${signature}`))).code).toBe('TOKEN_INVALID');
  });
});

// THREATS 2
describe('algorithm confusion (HS256 with the public key as secret)', () => {
  async function hmacToken(secret: Uint8Array): Promise<string> {
    const now = Math.floor(clock.now() / 1000);
    return new SignJWT({ iss: idp.issuer, aud: 'vecgate', sub: 'mallory', exp: now + 300 })
      .setProtectedHeader({ alg: 'HS256', kid: 'key-a' })
      .sign(secret);
  }

  const secrets: Array<[string, () => Promise<Uint8Array>]> = [
    ['the PEM public key', async () => new TextEncoder().encode(await exportSPKI(keyA.publicKey))],
    ['the JWK JSON', async () => new TextEncoder().encode(JSON.stringify(keyA.publicJwk))],
    ['the RSA modulus', async () => Buffer.from(keyA.publicJwk.n ?? '', 'base64url')],
  ];

  it.each(secrets)('signed with %s is TOKEN_INVALID, nothing fetched', async (_label, secret) => {
    const error = await rejectionOf(verifierFor().verify(await hmacToken(await secret())));
    expect(error.code).toBe('TOKEN_INVALID');
    expect(idp.requests).toEqual({ discovery: 0, jwks: 0 });
  });

  it.each(secrets)('signed with %s is TOKEN_INVALID even if HS256 were configured', async (_label, secret) => {
    const error = await rejectionOf(verifierFor({ algorithms: ['RS256', 'HS256'] }).verify(await hmacToken(await secret())));
    expect(error.code).toBe('TOKEN_INVALID');
  });
});

// THREATS 3
describe('forged signatures', () => {
  it('the right kid signed by another key is TOKEN_INVALID', async () => {
    const forged = await signToken(attackerKey, idp, clock.now(), { kid: 'key-a' });
    const error = await rejectionOf(verifierFor().verify(forged));
    expect(error.code).toBe('TOKEN_INVALID');
    expect(error.message).not.toContain(forged.slice(0, 20));
  });

  it('a token without kid signed by another key is TOKEN_INVALID', async () => {
    const forged = await signToken(attackerKey, idp, clock.now(), { kid: null });
    expect((await rejectionOf(verifierFor().verify(forged))).code).toBe('TOKEN_INVALID');
  });

  it('a token without kid is accepted when one published key verifies it', async () => {
    const keyB = await newSigningKey('key-b');
    idp.publish(keyB);
    const verifier = verifierFor();
    await expect(verifier.verify(await tokenFor(keyA, { kid: null }))).resolves.toMatchObject({ subject: 'alice' });
    await expect(verifier.verify(await tokenFor(keyB, { kid: null }))).resolves.toMatchObject({ subject: 'alice' });
    expect((await rejectionOf(verifier.verify(await signToken(attackerKey, idp, clock.now(), { kid: null })))).code).toBe('TOKEN_INVALID');
  });
});

// THREATS 4
describe('a flood of unknown kids', () => {
  async function flood(verifier: TokenVerifier, count: number): Promise<VecgateError[]> {
    const tokens = await Promise.all(
      Array.from({ length: count }, (_, i) => signToken(attackerKey, idp, clock.now(), { kid: `unknown-${i}-${Math.random()}` })),
    );
    return Promise.all(tokens.map((token) => rejectionOf(verifier.verify(token))));
  }

  it('with a warm cache: every token TOKEN_INVALID, no JWKS refetch inside the cooldown', async () => {
    const verifier = verifierFor({ jwksCooldownSeconds: 60 });
    await verifier.verify(await tokenFor(keyA));
    expect(idp.requests.jwks).toBe(1);

    const errors = await flood(verifier, 50);
    expect(errors.every((e) => e.code === 'TOKEN_INVALID')).toBe(true);
    expect(idp.requests).toEqual({ discovery: 1, jwks: 1 });
  });

  it('with a cold cache: the 50 concurrent requests share one discovery and one JWKS fetch', async () => {
    const errors = await flood(verifierFor({ jwksCooldownSeconds: 60 }), 50);
    expect(errors.every((e) => e.code === 'TOKEN_INVALID')).toBe(true);
    expect(idp.requests).toEqual({ discovery: 1, jwks: 1 });
  });

  it('after the cooldown has passed, a new flood triggers exactly one more fetch', async () => {
    const verifier = verifierFor({ jwksCooldownSeconds: 0.2 });
    await flood(verifier, 50);
    expect(idp.requests.jwks).toBe(1);
    await sleep(300);
    await flood(verifier, 50);
    expect(idp.requests.jwks).toBe(2);
  });
});

// THREATS 5
describe('absurd key ids', () => {
  it.each([
    ['path traversal', '../../etc/passwd'],
    ['10 KB long', 'k'.repeat(10 * 1024)],
    ['129 characters', 'k'.repeat(129)],
    ['a log-injection attempt', 'key-a\n{"level":60,"msg":"forged"}'],
    ['a URL', 'https://evil.example/jwks.json#key'],
    ['empty', ''],
    ['a number', 7],
    ['an object', { $ne: null }],
  ])('a kid that is %s is TOKEN_INVALID, nothing looked up, logged truncated and escaped', async (_label, kid) => {
    const token = await tokenFor(keyA, { header: { kid } });
    const error = await rejectionOf(verifierFor().verify(token));
    expect(error.code).toBe('TOKEN_INVALID');
    expect(idp.requests).toEqual({ discovery: 0, jwks: 0 });

    const logged = logs.lines.find((line) => line.event === 'identity.token_rejected');
    expect(logged?.level).toBe(40); // warn: visible at the usual production level
    const loggedKid = (logged?.cause as { kid?: unknown } | undefined)?.kid;
    expect(typeof loggedKid).toBe('string');
    expect((loggedKid as string).length).toBeLessThanOrEqual(100);
    expect(loggedKid).not.toMatch(/[\n\r]/);
  });

  it.each([
    ['hex', 'a1b2c3d4e5f6'],
    ['base64 with + / =', 'abcDEF12+/xyz0123456789=='],
    ['base64url thumbprint', 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'],
    ['dotted and colon', 'prod.signing:2024-01'],
  ])('a %s kid is looked up normally', async (_label, kid) => {
    const key = await newSigningKey(kid);
    idp.publish(key);
    await expect(verifierFor().verify(await tokenFor(key))).resolves.toMatchObject({ subject: 'alice' });
  });
});

// THREATS 6
describe('token lifetime with clock skew (30 s allowed)', () => {
  const nowSeconds = (): number => Math.floor(clock.now() / 1000);

  it.each([
    ['expired 10 s ago (inside the skew)', () => ({ exp: nowSeconds() - 10 }), 'accepted'],
    ['expired 31 s ago (beyond the skew)', () => ({ exp: nowSeconds() - 31 }), 'TOKEN_EXPIRED'],
    ['expired an hour ago', () => ({ exp: nowSeconds() - 3600, iat: nowSeconds() - 7200 }), 'TOKEN_EXPIRED'],
    ['not valid for another 20 s (inside the skew)', () => ({ nbf: nowSeconds() + 20 }), 'accepted'],
    ['not valid for another 31 s (beyond the skew)', () => ({ nbf: nowSeconds() + 31 }), 'TOKEN_INVALID'],
    ['issued in the future, no nbf', () => ({ iat: nowSeconds() + 3600, exp: nowSeconds() + 7200 }), 'accepted'],
  ])('a token %s: %s', async (_label, claims, outcome) => {
    const verification = verifierFor().verify(await tokenFor(keyA, { claims: claims() }));
    if (outcome === 'accepted') {
      await expect(verification).resolves.toMatchObject({ subject: 'alice' });
    } else {
      expect((await rejectionOf(verification)).code).toBe(outcome);
    }
  });

  it('the same token turns TOKEN_EXPIRED once the clock passes exp plus the skew', async () => {
    const verifier = verifierFor();
    const token = await tokenFor(keyA, { claims: { exp: nowSeconds() + 60 } });
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'alice' });
    clock.advance(89_000);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'alice' });
    clock.advance(2_000);
    const error = await rejectionOf(verifier.verify(token));
    expect(error.code).toBe('TOKEN_EXPIRED');
    expect(error.message).toMatch(/expired: get a new token/);
  });
});

// THREATS 7
describe('issuer and audience', () => {
  it.each([
    ['a wrong issuer', (): TokenOptions => ({ claims: { iss: 'https://evil.example' } }), /another issuer/],
    ['the issuer plus a trailing slash', (): TokenOptions => ({ claims: { iss: `${idp.issuer}/` } }), /another issuer/],
    ['no issuer', (): TokenOptions => ({ omit: ['iss'] }), /another issuer/],
    ['a wrong audience', (): TokenOptions => ({ claims: { aud: 'other-api' } }), /not meant for this gateway/],
    ['an audience array without ours', (): TokenOptions => ({ claims: { aud: ['a', 'b'] } }), /not meant for this gateway/],
    ['no audience', (): TokenOptions => ({ omit: ['aud'] }), /not meant for this gateway/],
  ])('a token with %s is TOKEN_INVALID', async (_label, opts, message) => {
    const error = await rejectionOf(verifierFor().verify(await tokenFor(keyA, opts())));
    expect(error.code).toBe('TOKEN_INVALID');
    expect(error.message).toMatch(message);
  });
});

// issue 7 item 10: an ID token is no access token, and only allowed clients' tokens count
describe('token type and client (requireTokenType, allowedAzp)', () => {
  const accessTokenOnly: Partial<IdentityConfig> = { requireTokenType: 'at+jwt' };

  it('an ID token (typ JWT) with the right audience and signature is TOKEN_WRONG_TYPE when at+jwt is required', async () => {
    const idToken = await tokenFor(keyA, { header: { typ: 'JWT' }, claims: { azp: 'vecgate-cli', nonce: 'n-1' } });
    await expect(verifierFor().verify(idToken)).resolves.toMatchObject({ subject: 'alice' });
    const error = await rejectionOf(verifierFor(accessTokenOnly).verify(idToken));
    expect([error.code, error.status]).toEqual(['TOKEN_WRONG_TYPE', 401]);
    expect(error.message).toMatch(/not an access token of type at\+jwt/);
  });

  it.each([['at+jwt'], ['AT+JWT'], ['application/at+jwt'], ['Application/AT+JWT']])('typ %s is accepted when at+jwt is required', async (typ) => {
    const token = await tokenFor(keyA, { header: { typ } });
    await expect(verifierFor(accessTokenOnly).verify(token)).resolves.toMatchObject({ subject: 'alice' });
  });

  it.each([['no typ', undefined], ['typ jwt', 'jwt'], ['typ at+jwt with junk', 'at+jwt; x'], ['a typ that is not a string', 7]])(
    'a token with %s is TOKEN_WRONG_TYPE',
    async (_label, typ) => {
      const token = await tokenFor(keyA, { header: { typ } });
      expect((await rejectionOf(verifierFor(accessTokenOnly).verify(token))).code).toBe('TOKEN_WRONG_TYPE');
    },
  );

  it('a forged token of the right type is still TOKEN_INVALID: the signature is checked first', async () => {
    const forged = await signToken(attackerKey, idp, clock.now(), { kid: 'key-a', header: { typ: 'JWT' } });
    expect((await rejectionOf(verifierFor(accessTokenOnly).verify(forged))).code).toBe('TOKEN_INVALID');
  });

  it('with allowedAzp, a listed azp is accepted and a missing or other azp is TOKEN_CLIENT_NOT_ALLOWED', async () => {
    const verifier = verifierFor({ allowedAzp: ['vecgate-cli', 'svc-indexer'] });
    await expect(verifier.verify(await tokenFor(keyA, { claims: { azp: 'svc-indexer' } }))).resolves.toMatchObject({ subject: 'alice' });
    for (const claims of [{}, { azp: 'rogue-app' }, { azp: ['vecgate-cli'] }]) {
      const error = await rejectionOf(verifier.verify(await tokenFor(keyA, { claims })));
      expect([JSON.stringify(claims), error.code, error.status]).toEqual([JSON.stringify(claims), 'TOKEN_CLIENT_NOT_ALLOWED', 401]);
    }
  });

  it('refusals are logged as suspicious, at warn level, with the typ or azp seen', async () => {
    await rejectionOf(verifierFor(accessTokenOnly).verify(await tokenFor(keyA, { header: { typ: 'JWT' } })));
    const logged = logs.lines.find((line) => line.event === 'identity.token_rejected');
    expect(logged).toMatchObject({ code: 'TOKEN_WRONG_TYPE', level: 40, cause: { typ: 'JWT', wanted: 'at+jwt' } });
  });
});

// THREATS 8
describe('identity provider unreachable', () => {
  it('with a warm cache, tokens keep verifying after the provider stops', async () => {
    const verifier = verifierFor();
    const first = await tokenFor(keyA);
    const second = await tokenFor(keyA, { claims: { sub: 'bob' } });
    await verifier.verify(first);

    await idp.stop();
    idp = await FakeIdp.start(); // only for afterEach; the verifier still points at the stopped one
    await expect(verifier.verify(first)).resolves.toMatchObject({ subject: 'alice' });
    await expect(verifier.verify(second)).resolves.toMatchObject({ subject: 'bob' });
  });

  it('with a cold cache and nothing listening: IDP_UNAVAILABLE (503) with a clear message', async () => {
    const issuer = await closedIssuer();
    const error = await rejectionOf(verifierFor({}, issuer).verify(await signToken(keyA, { issuer }, clock.now())));
    expect(error.code).toBe('IDP_UNAVAILABLE');
    expect(error.status).toBe(503);
    expect(error.message).toMatch(/identity provider cannot be reached.*retry later/);
  });

  it.each([
    ['answers 500', 'error'],
    ['hangs past the timeout', 'hang'],
  ] as const)('when discovery %s: IDP_UNAVAILABLE', async (_label, mode) => {
    idp.discoveryMode = mode;
    const error = await rejectionOf(verifierFor().verify(await tokenFor(keyA)));
    expect(error.code).toBe('IDP_UNAVAILABLE');
    expect(idp.requests.jwks).toBe(0);
  }, 5_000);

  it.each([
    ['answers 500', 'error'],
    ['hangs past the timeout', 'hang'],
  ] as const)('when the JWKS endpoint %s with a cold cache: IDP_UNAVAILABLE', async (_label, mode) => {
    idp.jwksMode = mode;
    const error = await rejectionOf(verifierFor().verify(await tokenFor(keyA)));
    expect(error.code).toBe('IDP_UNAVAILABLE');
    expect(idp.requests.jwks).toBe(1);
  }, 5_000);

  it('when discovery names another issuer: IDP_UNAVAILABLE, and the log says how to fix it', async () => {
    idp.advertisedIssuer = 'https://other.example';
    const error = await rejectionOf(verifierFor().verify(await tokenFor(keyA)));
    expect(error.code).toBe('IDP_UNAVAILABLE');
    const warning = logs.lines.find((line) => line.event === 'identity.discovery_failed');
    expect(String(warning?.detail)).toMatch(/set identity.issuer/);
  });

  it('a failed discovery is retried after a short backoff, not hammered and not given up on', async () => {
    idp.discoveryMode = 'error';
    const verifier = verifierFor();
    const token = await tokenFor(keyA);
    expect((await rejectionOf(verifier.verify(token))).code).toBe('IDP_UNAVAILABLE');

    const burst = await Promise.all(Array.from({ length: 20 }, () => rejectionOf(verifier.verify(token))));
    expect(burst.every((e) => e.code === 'IDP_UNAVAILABLE')).toBe(true);
    expect(idp.requests.discovery).toBe(1);

    idp.discoveryMode = 'ok';
    clock.advance(1_001);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'alice' });
    expect(idp.requests.discovery).toBe(2);
  });

  it('an unknown kid while the provider is down is IDP_UNAVAILABLE, known kids still verify', async () => {
    const verifier = verifierFor({ jwksCooldownSeconds: 0 });
    await verifier.verify(await tokenFor(keyA));
    idp.jwksMode = 'error';
    const unknown = await signToken(attackerKey, idp, clock.now(), { kid: 'rotated-in' });
    expect((await rejectionOf(verifier.verify(unknown))).code).toBe('IDP_UNAVAILABLE');
    await expect(verifier.verify(await tokenFor(keyA))).resolves.toMatchObject({ subject: 'alice' });
  });
});

// THREATS 9
describe('key rotation', () => {
  it('a new kid published by the provider is accepted by the running verifier', async () => {
    const verifier = verifierFor({ jwksCooldownSeconds: 0.2 });
    await verifier.verify(await tokenFor(keyA));

    const keyB = await newSigningKey('key-b');
    idp.publish(keyB);
    await sleep(300); // past the cooldown that follows the first fetch
    await expect(verifier.verify(await tokenFor(keyB))).resolves.toMatchObject({ subject: 'alice' });
    expect(idp.requests.jwks).toBe(2);
  });

  it('a key removed by the provider stops working once the cache refreshes', async () => {
    const verifier = verifierFor({ jwksCooldownSeconds: 0.2, jwksCacheMaxAgeSeconds: 1 });
    const oldToken = await tokenFor(keyA);
    await verifier.verify(oldToken);

    idp.unpublish('key-a');
    // still cached: the provider's removal is not seen until the cache is refreshed
    await expect(verifier.verify(oldToken)).resolves.toMatchObject({ subject: 'alice' });
    expect(idp.requests.jwks).toBe(1);

    await sleep(1_100);
    const error = await rejectionOf(verifier.verify(oldToken));
    expect(error.code).toBe('TOKEN_INVALID');
    expect(idp.requests.jwks).toBe(2);
  });
});

describe('client messages', () => {
  it('never echo the token or its claims', async () => {
    const token = await tokenFor(keyA, { claims: { aud: 'secret-audience-xyz', sub: 'bob-the-subject' } });
    const error = await rejectionOf(verifierFor().verify(token));
    expect(error.message).not.toMatch(/secret-audience-xyz|bob-the-subject/);
    expect(error.message).not.toContain(token.split('.')[1]);
  });
});

describe('operator logs', () => {
  it.each<[string, () => Promise<string>, Partial<IdentityConfig>, string]>([
    ['a forged signature', () => signToken(attackerKey, idp, clock.now(), { kid: 'key-a' }), {}, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'],
    ['an unknown kid', () => signToken(attackerKey, idp, clock.now()), {}, 'ERR_JWKS_NO_MATCHING_KEY'],
    ['an expired token', () => tokenFor(keyA, { claims: { exp: Math.floor(clock.now() / 1000) - 3600 } }), {}, 'ERR_JWT_EXPIRED'],
    ['a wrong audience', () => tokenFor(keyA, { claims: { aud: 'x' } }), {}, 'ERR_JWT_CLAIM_VALIDATION_FAILED'],
    [
      'an HMAC token when HS256 is (wrongly) configured',
      () => new SignJWT({ sub: 'm' }).setProtectedHeader({ alg: 'HS256', kid: 'key-a' }).sign(new Uint8Array(32)),
      { algorithms: ['RS256', 'HS256'] },
      'ERR_JOSE_NOT_SUPPORTED',
    ],
  ])('name the jose cause of %s', async (_label, token, overrides, joseCode) => {
    await rejectionOf(verifierFor(overrides).verify(await token()));
    const logged = logs.lines.find((line) => line.event === 'identity.token_rejected');
    expect(logged?.joseCode).toBe(joseCode);
  });

  it('name the network cause when the JWKS endpoint times out', async () => {
    idp.jwksMode = 'hang';
    await rejectionOf(verifierFor().verify(await tokenFor(keyA)));
    const logged = logs.lines.find((line) => line.event === 'identity.token_rejected');
    expect(logged).toMatchObject({ code: 'IDP_UNAVAILABLE', level: 40 });
    expect(String(logged?.error)).toMatch(/JWKSTimeout/);
  }, 5_000);
});

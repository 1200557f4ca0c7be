import { Connection } from '@temporalio/client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { MongoClient } from 'mongodb';
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { DevStackError, fetchDemoToken } from '../../src/devstack';
import { serviceTokenFor, testStack, testUser, tokenFor } from '../support/stack';

describe('the dev stack started by the global setup', () => {
  const stack = testStack();

  it('runs Chroma, whose v2 heartbeat answers 200', async () => {
    const res = await fetch(`${stack.chromaUrl}/api/v2/heartbeat`);
    expect(res.status).toBe(200);
    expect(await res.json()).toHaveProperty(['nanosecond heartbeat']);
  });

  it('runs the current Chroma release beside the pinned one: only it serves the by-id look-up of 1.5', async () => {
    const byIdPath = '/api/v2/tenants/{tenant}/databases/{database}/collections/by-id/{collection_id}';
    const paths = async (url: string) => Object.keys(((await (await fetch(`${url}/openapi.json`)).json()) as { paths: object }).paths);
    expect(stack.chromaCurrentUrl).not.toBe(stack.chromaUrl);
    expect((await fetch(`${stack.chromaCurrentUrl}/api/v2/heartbeat`)).status).toBe(200);
    expect(await paths(stack.chromaCurrentUrl)).toContain(byIdPath);
    expect(await paths(stack.chromaUrl)).not.toContain(byIdPath);
  });

  it('has the official Python client of the current release in its venv', () => {
    const out = execFileSync(stack.chromaPython, ['-c', 'import chromadb; print(chromadb.__version__)'], { encoding: 'utf8' });
    expect(out.trim()).toMatch(/^1\.5\.\d+$/);
  });

  it('runs a MongoDB-wire server that pings and keeps what is inserted', async () => {
    const client = new MongoClient(stack.mongoUri);
    try {
      const db = client.db(`devstack_${process.pid}_${Date.now()}`);
      expect(await db.command({ ping: 1 })).toMatchObject({ ok: 1 });
      await db.collection('things').insertOne({ name: 'first', n: 1 });
      expect(await db.collection('things').findOne({ name: 'first' }, { projection: { _id: 0 } })).toEqual({ name: 'first', n: 1 });
      await db.dropDatabase();
    } finally {
      await client.close();
    }
  });

  it('runs Temporal with the default namespace registered', async () => {
    const connection = await Connection.connect({ address: stack.temporalAddress });
    try {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
      const ns = await connection.workflowService.describeNamespace({ namespace: 'default' });
      expect(ns.namespaceInfo?.name).toBe('default');
    } finally {
      await connection.close();
    }
  });

  it('knows where the time-skipping test server binary is', () => {
    expect(() => accessSync(stack.temporalTestServerPath, constants.X_OK)).not.toThrow();
  });

  describe('its OpenID provider', () => {
    const discover = async () => {
      const res = await fetch(`${stack.oidcIssuer}/.well-known/openid-configuration`);
      expect(res.status).toBe(200);
      return (await res.json()) as { issuer: string; jwks_uri: string; token_endpoint: string };
    };
    const verify = async (token: string, audience: string) => {
      const doc = await discover();
      return jwtVerify(token, createRemoteJWKSet(new URL(doc.jwks_uri)), { issuer: stack.oidcIssuer, audience, algorithms: ['RS256'] });
    };

    it('publishes discovery naming its issuer and a JWKS', async () => {
      const doc = await discover();
      expect(doc.issuer).toBe(stack.oidcIssuer);
      expect(doc.jwks_uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      const jwks = (await (await fetch(doc.jwks_uri)).json()) as { keys: Array<{ kty: string; alg?: string; d?: string }> };
      expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'RSA', alg: 'RS256' })]);
      expect(jwks.keys[0]?.d).toBeUndefined();
    });

    it("issues alice an RS256 JWT for vecgate carrying her sub, email and groups", async () => {
      const alice = testUser('alice');
      const { payload, protectedHeader } = await verify(await tokenFor('alice'), 'vecgate');
      expect(protectedHeader.alg).toBe('RS256');
      expect(payload).toMatchObject({ sub: alice.sub, email: alice.email, groups: ['data-scientists'], aud: 'vecgate' });
    });

    it('puts every group of a user with several into the groups claim, and none for a user with none', async () => {
      expect((await verify(await tokenFor('carol'), 'vecgate')).payload.groups).toEqual(['data-stewards', 'pii-readers']);
      expect((await verify(await tokenFor('dave'), 'vecgate')).payload.groups).toEqual([]);
    });

    it('issues tokens for another audience that fail verification for vecgate', async () => {
      const token = await tokenFor('bob', 'other-api');
      await expect(verify(token, 'vecgate')).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud' });
      expect((await verify(token, 'other-api')).payload.groups).toEqual(['analysts']);
    });

    it('issues a service account a token with its client id as subject and its groups', async () => {
      const { payload } = await verify(await serviceTokenFor('svc-indexer'), 'vecgate');
      expect(payload).toMatchObject({ sub: 'svc-indexer', groups: ['indexers'] });
    });

    it('refuses a wrong password with an error that says so', async () => {
      const attempt = fetchDemoToken(stack.oidcIssuer, { username: 'alice', password: 'not-her-password' });
      await expect(attempt).rejects.toBeInstanceOf(DevStackError);
      await expect(attempt).rejects.toMatchObject({ code: 'TOKEN_REQUEST_FAILED' });
      await expect(attempt).rejects.toThrow(/user alice .*invalid_grant: invalid username or password/);
    });

    it('refuses an unknown audience by naming the known ones', async () => {
      const alice = testUser('alice');
      const attempt = fetchDemoToken(stack.oidcIssuer, { username: 'alice', password: alice.password, audience: 'nobody' });
      await expect(attempt).rejects.toThrow(/invalid_target: unknown audience nobody; known: vecgate, other-api/);
    });
  });
});

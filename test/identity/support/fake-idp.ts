import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export type EndpointMode = 'ok' | 'error' | 'hang';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export async function newSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicKey, publicJwk };
}

/**
 * A real OpenID provider stand-in on 127.0.0.1: serves a discovery document and a JWKS, counts the
 * requests to each, and can be told to fail or hang.
 */
export class FakeIdp {
  readonly requests = { discovery: 0, jwks: 0 };
  discoveryMode: EndpointMode = 'ok';
  jwksMode: EndpointMode = 'ok';
  /** the issuer the discovery document claims; defaults to the real one */
  advertisedIssuer: string | undefined;
  private published: JWK[] = [];

  private readonly server: Server;
  private readonly basePath: string;
  private port = 0;

  /** issuerPath: the issuer's path, e.g. "/realms/acme" or "/realms/acme/" (kept exactly in the issuer) */
  private constructor(private readonly issuerPath: string) {
    this.basePath = issuerPath.replace(/\/$/, '');
    this.server = createServer((req, res) => this.handle(req, res));
  }

  static async start(opts: { issuerPath?: string } = {}): Promise<FakeIdp> {
    const idp = new FakeIdp(opts.issuerPath ?? '');
    await new Promise<void>((resolve) => idp.server.listen(0, '127.0.0.1', resolve));
    idp.port = (idp.server.address() as AddressInfo).port;
    return idp;
  }

  /** stays the same after stop(), so a verifier can keep pointing at a stopped provider */
  get issuer(): string {
    return `http://127.0.0.1:${this.port}${this.issuerPath}`;
  }

  get jwksUri(): string {
    return `http://127.0.0.1:${this.port}${this.basePath}/jwks`;
  }

  publish(key: SigningKey): void {
    this.published.push(key.publicJwk);
  }

  unpublish(kid: string): void {
    this.published = this.published.filter((jwk) => jwk.kid !== kid);
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === `${this.basePath}/.well-known/openid-configuration`) {
      this.requests.discovery += 1;
      this.answer(res, this.discoveryMode, { issuer: this.advertisedIssuer ?? this.issuer, jwks_uri: this.jwksUri });
    } else if (path === `${this.basePath}/jwks`) {
      this.requests.jwks += 1;
      this.answer(res, this.jwksMode, { keys: this.published });
    } else {
      res.writeHead(404).end();
    }
  }

  private answer(res: ServerResponse, mode: EndpointMode, body: unknown): void {
    if (mode === 'hang') return; // never answers; stop() closes the socket
    if (mode === 'error') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('provider broken');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}

/** A URL on 127.0.0.1 where nothing listens: connections are refused. */
export async function closedIssuer(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

export interface TokenOptions {
  claims?: JWTPayload;
  /** claims to leave out of the defaults */
  omit?: string[];
  /** header parameters, applied last (so they may set any kid, even an absurd one) */
  header?: Record<string, unknown>;
  /** the kid to name; null for none; defaults to the signing key's kid */
  kid?: string | null;
}

/** A token as the provider would sign it, valid at `nowMs`, with claims and header overridable. */
export async function signToken(key: SigningKey, idp: { issuer: string }, nowMs: number, opts: TokenOptions = {}): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  const claims: JWTPayload = { iss: idp.issuer, aud: 'vecgate', sub: 'alice', iat: now, exp: now + 300, ...opts.claims };
  for (const name of opts.omit ?? []) delete claims[name];
  const header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT', kid: opts.kid ?? key.kid, ...opts.header };
  if (opts.kid === null) delete header.kid;
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
}

export function base64url(value: string | Uint8Array): string {
  return Buffer.from(value).toString('base64url');
}

// A small OpenID provider for the dev stack and the tests, built on oidc-provider (ESM-only, so it
// runs as its own Node process). It issues RS256 JWT access tokens (typ at+jwt, RFC 9068) for
// configured audiences with sub, azp, email and groups claims, so the gateway validates them
// exactly as it would a production IdP's: discovery, then the JWKS.
//
//   node oidc-server.mjs --port 4000 --directory users.json --data-dir DIR
//     [--host 127.0.0.1] [--audience vecgate]... [--client-id vecgate-cli]
//     [--client-secret vecgate-cli-secret] [--access-token-ttl 3600]
//
// Token requests (client authentication: client_secret_post or client_secret_basic):
//   grant_type=password            username, password, optional audience -> a user's token
//   grant_type=client_credentials  a service account's token (sub = its client_id)
import { generateKeyPairSync, timingSafeEqual, createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Provider, errors } from 'oidc-provider';

const PASSWORD_GRANT = 'password';
const RESOURCE_SCOPE = 'gateway';

function fail(message) {
  console.error(`oidc-server: ${message}`);
  process.exit(2);
}

function readOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      directory: { type: 'string' },
      'data-dir': { type: 'string' },
      audience: { type: 'string', multiple: true },
      'client-id': { type: 'string', default: 'vecgate-cli' },
      'client-secret': { type: 'string', default: 'vecgate-cli-secret' },
      'access-token-ttl': { type: 'string', default: '3600' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port <= 0) fail('--port must be a TCP port number');
  if (!values.directory) fail('--directory must name the demo user directory (JSON)');
  if (!values['data-dir']) fail('--data-dir must name a writable directory');
  const ttl = Number(values['access-token-ttl']);
  if (!Number.isInteger(ttl) || ttl <= 0) fail('--access-token-ttl must be a positive number of seconds');
  return {
    host: values.host,
    port,
    directoryFile: values.directory,
    dataDir: values['data-dir'],
    audiences: values.audience?.length ? values.audience : ['vecgate'],
    clientId: values['client-id'],
    clientSecret: values['client-secret'],
    accessTokenTtl: ttl,
  };
}

function isStringArray(value) {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** The directory file: { users: [{username, password, sub, email, groups}], serviceAccounts?: [{clientId, clientSecret, groups}] } */
function readDirectory(file) {
  let parsed;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    fail(`cannot read the user directory ${file}: ${err.message}`);
  }
  const users = Array.isArray(parsed) ? parsed : parsed?.users;
  const serviceAccounts = Array.isArray(parsed) ? [] : (parsed?.serviceAccounts ?? []);
  if (!Array.isArray(users)) fail(`${file}: expected {"users": [...]}`);
  users.forEach((u, i) => {
    for (const key of ['username', 'password', 'sub']) {
      if (typeof u?.[key] !== 'string' || !u[key]) fail(`${file}: users[${i}].${key} must be a non-empty string`);
    }
    if (u.email !== undefined && typeof u.email !== 'string') fail(`${file}: users[${i}].email must be a string`);
    if (u.groups !== undefined && !isStringArray(u.groups)) fail(`${file}: users[${i}].groups must be an array of strings`);
  });
  if (!Array.isArray(serviceAccounts)) fail(`${file}: serviceAccounts must be an array`);
  serviceAccounts.forEach((s, i) => {
    for (const key of ['clientId', 'clientSecret']) {
      if (typeof s?.[key] !== 'string' || !s[key]) fail(`${file}: serviceAccounts[${i}].${key} must be a non-empty string`);
    }
    if (s.groups !== undefined && !isStringArray(s.groups)) fail(`${file}: serviceAccounts[${i}].groups must be an array of strings`);
  });
  return {
    usersByName: new Map(users.map((u) => [u.username, u])),
    usersBySub: new Map(users.map((u) => [u.sub, u])),
    serviceAccounts: new Map(serviceAccounts.map((s) => [s.clientId, s])),
  };
}

/** Keeps the signing key in the data dir so tokens stay valid across restarts of the dev stack. */
function loadOrCreateSigningKey(dataDir) {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'signing-key.jwk.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256' };
  jwk.kid = createHash('sha256').update(jwk.n).digest('base64url').slice(0, 16);
  writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}

// Compares digests so neither the length nor the content leaks through timing.
function samePassword(given, expected) {
  const digest = (s) => createHash('sha256').update(String(s)).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

// RFC 8707 resource indicators must be absolute URIs; a bare audience such as `vecgate` is
// addressed as urn:vecgate:audience:vecgate. The password grant also takes `audience=` directly.
function resourceIndicatorFor(audience) {
  return URL.canParse(audience) ? audience : `urn:vecgate:audience:${audience}`;
}

function invalidGrant(description) {
  const err = new errors.InvalidGrant();
  err.error_description = description;
  return err;
}

function main() {
  const options = readOptions(process.argv.slice(2));
  const directory = readDirectory(options.directoryFile);
  const issuer = `http://${options.host}:${options.port}`;

  const audienceByIndicator = new Map(options.audiences.map((a) => [resourceIndicatorFor(a), a]));
  const resourceServerInfo = (audience) => ({
    scope: RESOURCE_SCOPE,
    audience,
    accessTokenFormat: 'jwt',
    accessTokenTTL: options.accessTokenTtl,
    jwt: { sign: { alg: 'RS256' } },
  });

  const clients = [
    {
      client_id: options.clientId,
      client_secret: options.clientSecret,
      grant_types: [PASSWORD_GRANT, 'client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_post',
    },
    ...[...directory.serviceAccounts.values()].map((s) => ({
      client_id: s.clientId,
      client_secret: s.clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_post',
    })),
  ];

  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: [loadOrCreateSigningKey(options.dataDir)] },
    clientAuthMethods: ['client_secret_post', 'client_secret_basic'],
    ttl: { AccessToken: options.accessTokenTtl, ClientCredentials: options.accessTokenTtl },
    // no browser flows here: tokens come from the token endpoint only
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => resourceIndicatorFor(options.audiences[0]),
        getResourceServerInfo: async (_ctx, indicator) => {
          const audience = audienceByIndicator.get(indicator);
          if (!audience) throw new errors.InvalidTarget(`unknown resource; known: ${[...audienceByIndicator.keys()].join(', ')}`);
          return resourceServerInfo(audience);
        },
      },
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
    async findAccount(_ctx, sub) {
      const user = directory.usersBySub.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, email: user.email, email_verified: user.email !== undefined, groups: user.groups ?? [] }),
      };
    },
    // azp names the client that obtained the token, as identity.allowedAzp expects (RFC 9068
    // itself only requires client_id, which oidc-provider sets).
    async extraTokenClaims(_ctx, token) {
      if (token.kind === 'ClientCredentials') {
        const account = directory.serviceAccounts.get(token.clientId);
        return account ? { azp: token.clientId, groups: account.groups ?? [] } : undefined;
      }
      const user = token.accountId ? directory.usersBySub.get(token.accountId) : undefined;
      if (!user) return undefined;
      return { azp: token.clientId, ...(user.email !== undefined ? { email: user.email } : {}), groups: user.groups ?? [] };
    },
  });

  // Resource-owner password grant: one POST yields a user's token, for tests and `vecgate dev`.
  provider.registerGrantType(
    PASSWORD_GRANT,
    async (ctx) => {
      const { params, client } = ctx.oidc;
      if (!params.username || !params.password) throw new errors.InvalidRequest('username and password are required');
      const user = directory.usersByName.get(params.username);
      // the same answer for an unknown user and a wrong password
      if (!user || !samePassword(params.password, user.password)) throw invalidGrant('invalid username or password');

      const audience = params.audience ?? options.audiences[0];
      if (!options.audiences.includes(audience)) {
        throw new errors.InvalidTarget(`unknown audience ${audience}; known: ${options.audiences.join(', ')}`);
      }

      const { AccessToken, ResourceServer } = ctx.oidc.provider;
      const token = new AccessToken({ accountId: user.sub, client, gty: PASSWORD_GRANT });
      token.resourceServer = new ResourceServer(resourceIndicatorFor(audience), resourceServerInfo(audience));
      const requested = new Set(params.scope?.split(' ') ?? []);
      token.scope = requested.has(RESOURCE_SCOPE) ? RESOURCE_SCOPE : undefined;

      ctx.oidc.entity('AccessToken', token);
      const value = await token.save();
      ctx.body = {
        access_token: value,
        expires_in: token.expiration,
        token_type: token.tokenType,
        scope: token.scope,
      };
    },
    ['username', 'password', 'audience', 'scope'],
  );

  const server = provider.listen(options.port, options.host, () => {
    console.log(`oidc-server: issuer ${issuer}, audiences ${options.audiences.join(', ')}, ${directory.usersByName.size} users`);
  });
  server.on('error', (err) => fail(`cannot listen on ${options.host}:${options.port}: ${err.message}`));

  // keep-alive connections would hold close() open until the supervisor's SIGKILL
  const shutdown = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main();

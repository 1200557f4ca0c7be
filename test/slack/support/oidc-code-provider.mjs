// An OpenID provider for the link tests, on the same library as the test stack's provider
// (oidc-provider 9), configured for what the stack's provider does not offer: the authorization
// code flow with PKCE for a confidential web client with a redirect URI, and the library's
// development sign-in pages (devInteractions: any account id signs in, then consents).
// ID tokens are RS256 JWTs with sub, email, email_verified and groups.
//
//   node oidc-code-provider.mjs --port P --directory users.json --client-id ID
//     --client-secret SECRET --redirect-uri URI
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Provider } from 'oidc-provider';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    directory: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string' },
  },
  strict: true,
});
for (const key of ['port', 'directory', 'client-id', 'client-secret', 'redirect-uri']) {
  if (!values[key]) {
    console.error(`oidc-code-provider: --${key} is required`);
    process.exit(2);
  }
}

const users = JSON.parse(readFileSync(values.directory, 'utf8')).users;
const bySub = new Map(users.map((u) => [u.sub, u]));
const issuer = `http://127.0.0.1:${values.port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: values['client-id'],
      client_secret: values['client-secret'],
      redirect_uris: [values['redirect-uri']],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'link-test', use: 'sig', alg: 'RS256' }] },
  pkce: { required: () => true },
  cookies: { keys: ['link-test-cookie-key'] },
  // the ID token carries the claims of the granted scopes (email, groups) itself
  conformIdTokenClaims: false,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, sub) {
    const user = bySub.get(sub);
    if (!user) return undefined;
    return { accountId: sub, claims: async () => ({ sub, email: user.email, email_verified: true, groups: user.groups ?? [] }) };
  },
});

const server = provider.listen(Number(values.port), '127.0.0.1', () => console.log(`oidc-code-provider: issuer ${issuer}`));
const shutdown = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../src/config/load';
import { makeTestDecider } from '../support/decider';

const demo = readFileSync(join(__dirname, '../../config/demo.yaml'), 'utf8');
const decider = makeTestDecider();
const env = {
  OIDC_ISSUER: 'http://127.0.0.1:9000',
  CHROMA_URL: 'http://127.0.0.1:8000',
  MONGODB_URI: 'mongodb://127.0.0.1:27017/',
  VECGATE_DECIDER_PUBLIC_KEY: decider.publicKeyPem,
  VECGATE_DEMO_APPROVER_VERIFIED_AT: '2026-11-30T09:00:00Z',
};

const minimal = (extra = '') => `
identity: { issuer: "http://idp.example", audience: vecgate }
connections:
  - { name: demo, dialect: chroma, upstream: "http://127.0.0.1:8000" }
policy: { rules: [] }
audit: { mongodbUri: "mongodb://127.0.0.1/" }
${extra}`;

function issues(text: string, e: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, 'test.yaml', e);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.key}: ${i.message}`);
    throw err;
  }
  return [];
}

describe('configuration', () => {
  test('the demo configuration is valid, with addresses from the environment and defaults filled in', () => {
    const { config } = parseConfig(demo, 'demo.yaml', env);
    expect(config.identity.issuer).toBe('http://127.0.0.1:9000');
    expect(config.identity.audience).toEqual(['vecgate']);
    expect(config.identity.algorithms).toEqual(['RS256', 'PS256', 'ES256']);
    expect(config.connections[0]?.listen).toEqual({ host: '127.0.0.1', port: 8001 });
    expect(config.gateway.listen.port).toBe(8080);
    expect(config.gateway.maxBodyBytes).toBe(16 * 1024 * 1024);
    expect(config.policy.rules.map((r) => r.id)).toContain('everyone-meta');
    // the demo takes access tokens of its own clients only, and trusts collection names briefly
    expect([config.identity.requireTokenType, config.identity.allowedAzp]).toEqual(['at+jwt', ['vecgate-cli', 'svc-indexer']]);
    expect([config.gateway.collectionNameTtlSeconds, config.gateway.collectionLookupsPerMinute]).toEqual([5, 60]);
    expect(config.approvals?.deciderPublicKeys).toEqual([decider.publicKey]);
    expect(config.approvals?.slack?.bindings[0]?.verifiedAt).toBe(Date.parse('2026-11-30T09:00:00Z'));
  });

  test('decider public keys are read from SPKI PEM or base64 of the raw key, and used as hex', () => {
    const raw = Buffer.from(decider.publicKey, 'hex').toString('base64');
    const text = minimal(`approvals:\n  temporal: { address: "127.0.0.1:7233" }\n  deciderPublicKeys: ["${raw}", ${JSON.stringify(decider.publicKeyPem)}]`);
    expect(parseConfig(text, 't', {}).config.approvals?.deciderPublicKeys).toEqual([decider.publicKey, decider.publicKey]);
  });

  test('Temporal TLS, mTLS and API key settings are validated', () => {
    const temporal = (t: string) => minimal(`approvals:\n  temporal: { address: "t.example:7233", ${t} }\n  deciderPublicKeys: ["${Buffer.from(decider.publicKey, 'hex').toString('base64')}"]`);
    const ok = parseConfig(temporal('tls: { serverCaFile: /ca.pem, serverName: temporal.internal, clientCertFile: /c.pem, clientKeyFile: /k.pem }, apiKeyEnv: TEMPORAL_API_KEY'), 't', { TEMPORAL_API_KEY: 'k' });
    expect(ok.config.approvals?.temporal.tls).toEqual({ serverCaFile: '/ca.pem', serverName: 'temporal.internal', clientCertFile: '/c.pem', clientKeyFile: '/k.pem' });
    expect(ok.temporalApiKey).toBe('k');
    expect(issues(temporal('tls: { clientCertFile: /c.pem }'))).toEqual(['approvals.temporal.tls.clientKeyFile: mTLS needs both clientCertFile and clientKeyFile']);
    expect(issues(temporal('apiKeyEnv: TEMPORAL_API_KEY'))).toEqual(['approvals.temporal.apiKeyEnv: environment variable TEMPORAL_API_KEY is not set: export the Temporal API key there']);
    expect(issues(temporal('tls: { serverCA: /ca.pem }'))[0]).toMatch(/^approvals\.temporal\.tls: unknown key/);
  });

  test('a variable given in the environment replaces the default', () => {
    const { config } = parseConfig(demo, 'demo.yaml', { ...env, VECGATE_PORT: '18080' });
    expect(config.gateway.listen.port).toBe(18080);
  });

  test('the upstream credential comes from the named environment variable', () => {
    const text = minimal().replace('upstream: "http://127.0.0.1:8000" }', 'upstream: "http://127.0.0.1:8000", credential: { env: CHROMA_TOKEN } }');
    expect(parseConfig(text, 't', { CHROMA_TOKEN: 's3cret' }).credentials.get('demo')).toBe('s3cret');
    expect(issues(text)).toEqual(['connections[0].credential.env: environment variable CHROMA_TOKEN is not set: export the upstream credential for connection "demo" there']);
  });

  test.each<[string, string, Record<string, string>, RegExp]>([
    ['a missing section', 'identity: { issuer: "http://x", audience: a }\npolicy: { rules: [] }\naudit: { mongodbUri: "mongodb://x" }', {}, /^connections: is required/],
    ['an unset variable', demo, {}, /^identity\.issuer: refers to \$\{OIDC_ISSUER\}, which is not set/],
    ['an unknown key', minimal('extra: 1'), {}, /^\(top level\): unknown key\(s\) "extra"/],
    ['a misspelt nested key', minimal().replace('audience: vecgate', 'audiance: vecgate'), {}, /^identity: unknown key\(s\) "audiance"/],
    ['a non-URL upstream', minimal().replace('"http://127.0.0.1:8000"', 'localhost:8000'), {}, /^connections\[0\]\.upstream: must be an http\(s\) URL/],
    ['an unknown dialect', minimal().replace('dialect: chroma', 'dialect: redis'), {}, /^connections\[0\]\.dialect: must be one of: chroma/],
    ['a shared-secret algorithm', minimal().replace('audience: vecgate', 'audience: vecgate, algorithms: [HS256]'), {}, /^identity\.algorithms\[0\]: must be an asymmetric JWS algorithm/],
    ['a credential value instead of a variable name', minimal().replace('"http://127.0.0.1:8000" }', '"http://127.0.0.1:8000", credential: { env: "sk-abc123" } }'), {}, /^connections\[0\]\.credential\.env: must be the NAME of an environment variable/],
    ['an unknown operation class', minimal().replace('rules: []', 'rules: [{ id: r, groups: ["*"], operations: [explode], effect: allow }]'), {}, /^policy\.rules\[0\]\.operations\[0\]: must be an operation class/],
    ['an unknown effect', minimal().replace('rules: []', 'rules: [{ id: r, groups: ["*"], operations: [read], effect: maybe }]'), {}, /^policy\.rules\[0\]\.effect: must be allow, review or deny/],
    ['a rule without groups', minimal().replace('rules: []', 'rules: [{ id: r, groups: [], operations: [read], effect: allow }]'), {}, /^policy\.rules\[0\]\.groups: name at least one group/],
    ['duplicate rule ids', minimal().replace('rules: []', 'rules: [{ id: r, groups: ["*"], operations: [read], effect: allow }, { id: r, groups: ["*"], operations: [read], effect: deny }]'), {}, /^policy\.rules\[1\]\.id: "r" is used twice/],
    ['duplicate connection names', minimal().replace('connections:\n', 'connections:\n  - { name: demo, dialect: chroma, upstream: "http://127.0.0.1:9" }\n'), {}, /^connections\[1\]\.name: "demo" is declared twice/],
    ['two listeners on one port', minimal('gateway: { listen: { port: 9000 }, adminListen: { port: 9000 } }'), {}, /^gateway\.adminListen\.port: port 9000 is already used by gateway\.listen/],
    ['a bad Mongo URI', minimal().replace('mongodb://127.0.0.1/', 'postgres://x'), {}, /^audit\.mongodbUri: must be a mongodb:\/\//],
    ['too much clock skew', minimal().replace('audience: vecgate', 'audience: vecgate, clockSkewSeconds: 3600'), {}, /^identity\.clockSkewSeconds: more than 5 minutes/],
    ['alg none, which the schema alone refuses (the verifier trusts it)', minimal().replace('audience: vecgate', 'audience: vecgate, algorithms: [RS256, none]'), {}, /^identity\.algorithms\[1\]: must be an asymmetric JWS algorithm/],
    ['an empty allowedAzp', minimal().replace('audience: vecgate', 'audience: vecgate, allowedAzp: []'), {}, /^identity\.allowedAzp: list the client ids/],
    ['a requireTokenType that is no media type', minimal().replace('audience: vecgate', 'audience: vecgate, requireTokenType: "at jwt"'), {}, /^identity\.requireTokenType: must be a media type such as at\+jwt/],
    ['a rule with an empty tenants list', minimal().replace('rules: []', 'rules: [{ id: r, groups: ["*"], tenants: [], operations: [read], effect: allow }]'), {}, /^policy\.rules\[0\]\.tenants: name at least one tenant/],
    ['a long collection name TTL', minimal('gateway: { collectionNameTtlSeconds: 86400 }'), {}, /^gateway\.collectionNameTtlSeconds: keep it short/],
    ['approvals without decider keys', minimal('approvals: { temporal: { address: "127.0.0.1:7233" } }'), {}, /^approvals\.deciderPublicKeys: is required: add it \(list the decider public keys/],
    ['an empty list of decider keys', minimal('approvals: { temporal: { address: "127.0.0.1:7233" }, deciderPublicKeys: [] }'), {}, /^approvals\.deciderPublicKeys: list at least one decider public key/],
    ['a decider key that is not Ed25519', minimal('approvals: { temporal: { address: "127.0.0.1:7233" }, deciderPublicKeys: ["c2hvcnQ="] }'), {}, /^approvals\.deciderPublicKeys\[0\]: must be an Ed25519 public key.*openssl genpkey/],
    [
      'step-up without the link command',
      minimal('approvals: { temporal: { address: "127.0.0.1:7233" }, deciderPublicKeys: ["' + Buffer.from(decider.publicKey, 'hex').toString('base64') + '"], slack: { mode: http, workspace: T0ABC, channel: C0ABC } }').replace(
        'rules: []',
        'rules: [{ id: r, groups: ["*"], operations: [delete], effect: review, approval: { approverGroups: [s], maxAuthAgeSeconds: 300 } }]',
      ),
      {},
      /^policy\.rules\[0\]\.approval\.maxAuthAgeSeconds: step-up needs approvals\.slack\.link/,
    ],
    ['volume limits on a review rule', minimal().replace('rules: []', 'rules: [{ id: r, groups: ["*"], operations: [export], effect: review, approval: { approverGroups: [s] }, volume: { maxRecordsPerRequest: 5 } }]'), {}, /^policy\.rules\[0\]\.volume: only an allow rule takes volume limits/],
    ['a window without seconds', minimal().replace('upstream: "http://127.0.0.1:8000" }', 'upstream: "http://127.0.0.1:8000", volume: { window: { records: 10 } } }'), {}, /^connections\[0\]\.volume\.window\.seconds: is required: add it \(must be a number of seconds/],
    ['a zero per-request limit', minimal().replace('rules: []', 'rules: [{ id: r, groups: ["*"], operations: [read], effect: allow, volume: { maxRecordsPerRequest: 0 } }]'), {}, /^policy\.rules\[0\]\.volume\.maxRecordsPerRequest: must be at least 1 record/],
    ['zero workers', minimal('gateway: { workers: 0 }'), {}, /^gateway\.workers: must be a number of worker processes from 1 to 64, or "auto"/],
    ['a worker count that is a word', minimal('gateway: { workers: many }'), {}, /^gateway\.workers: must be a number of worker processes from 1 to 64, or "auto"/],
    ['an instance id with no room for the worker suffix', minimal(`gateway: { workers: 2, instanceId: ${'a'.repeat(125)} }`), {}, /^gateway\.instanceId: must be at most 120 characters with several workers/],
    ['YAML syntax errors', 'identity: [unclosed', {}, /^\(yaml line 1\)/],
    ['duplicate YAML keys', minimal('audit: { mongodbUri: "mongodb://other/" }'), {}, /^\(yaml line \d+\): Map keys must be unique/],
  ])('%s is refused with a message naming the key and the fix', (_n, text, e, expected) => {
    const found = issues(text, e);
    expect(found.some((f) => expected.test(f))).toBe(true);
  });

  test('the error lists every issue, not only the first', () => {
    const found = issues(minimal().replace('dialect: chroma', 'dialect: redis').replace('"http://127.0.0.1:8000"', 'nope'));
    expect(found).toHaveLength(2);
  });
  test('new approvals per requester are limited by default, and the limit is validated', () => {
    const temporal = `approvals: { temporal: { address: "127.0.0.1:7233" }, deciderPublicKeys: ["${Buffer.from(decider.publicKey, 'hex').toString('base64')}"]`;
    expect(parseConfig(minimal(`${temporal} }`), 'test.yaml', {}).config.approvals?.maxNewPerRequester).toEqual({ count: 20, seconds: 3600 });
    expect(parseConfig(minimal(`${temporal}, maxNewPerRequester: { count: 5, seconds: 60 } }`), 'test.yaml', {}).config.approvals?.maxNewPerRequester).toEqual({ count: 5, seconds: 60 });
    expect(issues(minimal(`${temporal}, maxNewPerRequester: { count: 0, seconds: 60 } }`))).toEqual(['approvals.maxNewPerRequester.count: allow at least one new approval per window']);
  });
});

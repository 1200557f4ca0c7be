import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '../../src/config/load';

const demo = readFileSync(join(__dirname, '../../config/demo.yaml'), 'utf8');
const env = { OIDC_ISSUER: 'http://127.0.0.1:9000', CHROMA_URL: 'http://127.0.0.1:8000', MONGODB_URI: 'mongodb://127.0.0.1:27017/' };

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
    ['volume limits on a review rule', minimal().replace('rules: []', 'rules: [{ id: r, groups: ["*"], operations: [export], effect: review, approval: { approverGroups: [s] }, volume: { maxRecordsPerRequest: 5 } }]'), {}, /^policy\.rules\[0\]\.volume: only an allow rule takes volume limits/],
    ['a window without seconds', minimal().replace('upstream: "http://127.0.0.1:8000" }', 'upstream: "http://127.0.0.1:8000", volume: { window: { records: 10 } } }'), {}, /^connections\[0\]\.volume\.window\.seconds: is required: add it \(must be a number of seconds/],
    ['a zero per-request limit', minimal().replace('rules: []', 'rules: [{ id: r, groups: ["*"], operations: [read], effect: allow, volume: { maxRecordsPerRequest: 0 } }]'), {}, /^policy\.rules\[0\]\.volume\.maxRecordsPerRequest: must be at least 1 record/],
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
});

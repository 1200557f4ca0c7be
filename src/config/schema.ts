import { z } from 'zod';
import { deciderPublicKeyHex } from '../approval/decider-keys';
import { DIALECT_NAMES, OPERATION_CLASSES } from '../dialect/types';
import { maskingSchema } from '../masking/config';

/**
 * The one configuration file, validated once at start. Each field's message says what is wrong
 * and how to fix it, because the person reading it is an operator at a failed start.
 */

// Coerced so a port can come from the environment as ${PORT}; 0 picks a free port (tests).
const port = z.coerce.number({ error: 'must be a port number, e.g. 8080' }).int('must be a whole port number').min(0).max(65535);
const url = (example: string) =>
  z.url({ protocol: /^https?$/, error: `must be an http(s) URL, e.g. ${example}` });
const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be 1-63 characters of a-z, 0-9, _ or -, starting with a letter or digit');
const pattern = z.string().min(1, 'must not be empty: use "*" for any');
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be the NAME of an environment variable (A-Z, 0-9, _), not its value');

const listen = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port,
});

const credential = z.strictObject({
  /** the credential itself never sits in the file: only the variable holding it */
  env: envName,
  /** defaults to the dialect's own header (x-chroma-token for Chroma); `authorization` sends Bearer */
  header: z.string().regex(/^[a-z0-9-]+$/, 'must be a lower-case header name').optional(),
});

/**
 * How many records a search or read may return before it counts as an export (src/volume/): per
 * request, and per principal and collection within a sliding window. On allow rules, and as a
 * connection default that a rule's own values override.
 */
const volume = z.strictObject({
  /** a request asking for more records than this is an export */
  maxRecordsPerRequest: z.number({ error: 'must be a number of records, e.g. 50' }).int().min(1, 'must be at least 1 record').optional(),
  /** past this many records returned to one principal from one collection within `seconds`, further reads are exports */
  window: z
    .strictObject({
      records: z.number({ error: 'must be a number of records, e.g. 200' }).int().min(1, 'must be at least 1 record'),
      seconds: z.number({ error: 'must be a number of seconds, e.g. 300' }).int().min(1).max(7 * 24 * 3600, 'must be at most a week (604800 seconds)'),
    })
    .optional(),
});

const connection = z.strictObject({
  name,
  dialect: z.enum(DIALECT_NAMES, { error: `must be one of: ${DIALECT_NAMES.join(', ')}` }),
  upstream: url('http://127.0.0.1:8000'),
  credential: credential.optional(),
  /** a listener of its own: unchanged clients reach this connection by host and port alone */
  listen: listen.optional(),
  /** default record limits for searches and reads allowed on this connection */
  volume: volume.optional(),
});

const algorithm = z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'], {
  error: 'must be an asymmetric JWS algorithm (RS256, PS256, ES256, EdDSA, ...): shared-secret HS* and none are refused',
});

const identity = z.strictObject({
  issuer: url('https://login.example.com/realms/acme'),
  audience: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)], { error: 'must be the audience your tokens carry (a string or a list), e.g. vecgate' })
    .transform((a) => (Array.isArray(a) ? a : [a])),
  groupsClaim: z.string().min(1).default('groups'),
  emailClaim: z.string().min(1).default('email'),
  algorithms: z.array(algorithm).min(1).default(['RS256', 'PS256', 'ES256']),
  clockSkewSeconds: z.number().int().min(0).max(300, 'more than 5 minutes of skew defeats expiry').default(30),
  jwksCooldownSeconds: z.number().int().min(1).default(30),
  jwksCacheMaxAgeSeconds: z.number().int().min(1).default(600),
  httpTimeoutMs: z.number().int().min(100).default(5000),
  /** a verified token is remembered this long (never past its exp); 0 verifies every request */
  verifiedTokenCacheSeconds: z.number().int().min(0).max(300, 'keep it short: it bounds how long a removed signing key still works').default(30),
  /** the JWS `typ` a token must carry, e.g. at+jwt (RFC 9068), so ID tokens are refused */
  requireTokenType: z.string().regex(/^[A-Za-z0-9!#$&^_.+/-]+$/, 'must be a media type such as at+jwt (application/at+jwt also works)').optional(),
  /** the client ids (`azp` claim) whose tokens are accepted; a token without azp is then refused */
  allowedAzp: z.array(z.string().min(1)).min(1, 'list the client ids whose tokens are accepted, or leave allowedAzp out').optional(),
});

/** How a `review` rule's approvals work. */
const approval = z.strictObject({
  /** identity-provider groups whose members may approve or deny; the requester never counts */
  approverGroups: z.array(pattern).min(1, 'name the groups whose members may approve'),
  /** approvals needed (N of M); any deny is final */
  required: z.number().int().min(1).max(10).default(1),
  timeoutSeconds: z.number().int().min(10).max(7 * 24 * 3600).default(3600),
  /** how long an approval stays usable by the requester */
  usableForSeconds: z.number().int().min(10).max(7 * 24 * 3600).default(900),
  /** the requester must say why (X-Vecgate-Reason header) */
  reasonRequired: z.boolean().default(true),
  /** step-up: approvers must have signed in at the identity provider this recently (needs approvals.slack.link) */
  maxAuthAgeSeconds: z.number().int().min(60, 'at least 60 seconds: a sign-in takes a while').max(7 * 24 * 3600).optional(),
});

const rule = z.strictObject({
  id: name,
  description: z.string().optional(),
  /** identity-provider groups this rule applies to; "*" is any authenticated caller */
  groups: z.array(pattern).min(1, 'name at least one group, or "*" for any authenticated caller'),
  connections: z.array(pattern).min(1).default(['*']),
  /** tenant and database patterns; a rule that names none covers only default_tenant / default_database */
  tenants: z.array(pattern).min(1, 'name at least one tenant, "*" for any, or leave tenants out for default_tenant').optional(),
  databases: z.array(pattern).min(1, 'name at least one database, "*" for any, or leave databases out for default_database').optional(),
  /** collection name patterns; only a rule with "*" here covers connection-level requests */
  collections: z.array(pattern).min(1).default(['*']),
  operations: z
    .array(z.enum([...OPERATION_CLASSES, '*'], { error: `must be an operation class: ${OPERATION_CLASSES.join(', ')}, or "*"` }))
    .min(1, 'list at least one operation class'),
  effect: z.enum(['allow', 'review', 'deny'], { error: 'must be allow, review or deny' }),
  /** required with effect review: who approves, how many, how long */
  approval: approval.optional(),
  /** allow rules only: record limits past which a search or read counts as export */
  volume: volume.optional(),
});

const slack = z.strictObject({
  mode: z.enum(['http', 'socket'], { error: 'must be http (Slack posts to the app) or socket (Socket Mode)' }),
  /** the workspace (team id, T...) whose users may decide */
  workspace: z.string().regex(/^[TE][A-Z0-9]{2,}$/, 'must be the team id of your workspace (T...), shown by auth.test'),
  /** channel id where approval messages are posted */
  channel: z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a channel id (C...), not its name'),
  /** shown to requesters: where their approval was asked */
  channelName: z.string().min(1).default('the approvals channel in Slack'),
  botTokenEnv: envName.default('SLACK_BOT_TOKEN'),
  signingSecretEnv: envName.default('SLACK_SIGNING_SECRET'),
  appTokenEnv: envName.default('SLACK_APP_TOKEN'),
  /** the Web API base; only for tests and proxies */
  apiUrl: url('https://slack.com/api/').optional(),
  listen: listen.default({ host: '127.0.0.1', port: 3000 }),
  /** groups confirmed longer ago than this do not count for a decision */
  maxGroupAgeSeconds: z.number().int().min(60).default(24 * 3600),
  /** explicit bindings of Slack users to identity-provider subjects */
  /**
   * The /vecgate-link command: a Slack user binds their account by signing in with the identity
   * provider (authorization code with PKCE) as this client; the callback is served by the Slack app.
   */
  link: z
    .strictObject({
      clientId: z.string().min(1),
      /** for a confidential client; a public client relies on PKCE alone */
      clientSecretEnv: envName.optional(),
      /** the public URL of the callback, path /slack/link/callback on the Slack app's listener */
      redirectUri: url('https://vecgate.example.com/slack/link/callback'),
      /** the signed-in e-mail must equal the Slack account's confirmed e-mail */
      requireSameEmail: z.boolean().default(true),
    })
    .optional(),
  bindings: z
    .array(
      z.strictObject({
        userId: z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id (U...)'),
        subject: z.string().min(1),
        email: z.string().optional(),
        groups: z.array(z.string()),
        /**
         * when someone confirmed these groups at the identity provider (ISO date); the binding ages
         * like a linked one (maxGroupAgeSeconds). Absent: stale, so it decides nothing until dated.
         */
        verifiedAt: z.iso
          .datetime({ offset: true, error: 'must be an ISO date-time of the last check of these groups, e.g. 2026-11-30T09:00:00Z' })
          .or(z.iso.date({ error: 'must be an ISO date, e.g. 2026-11-30' }))
          .transform((d) => Date.parse(d))
          .optional(),
      }),
    )
    .default([]),
  /**
   * The worker's Ed25519 key (PKCS8 PEM) that signs every decision; its public key must be in
   * approvals.deciderPublicKeys. In a file (decisionSigningKeyFile) or an environment variable.
   */
  decisionSigningKeyFile: z.string().min(1).optional(),
  decisionSigningKeyEnv: envName.default('VECGATE_DECISION_SIGNING_KEY'),
});

/** A file the process reads at start (certificates, keys). */
const filePath = z.string().min(1, 'must be the path of a file');

/**
 * How gateway, worker and CLI reach Temporal. Clients of the gateway must never reach it (whoever
 * can talk to Temporal can start and signal workflows): keep it on a private network, and use TLS,
 * mTLS or an API key so that only vecgate's processes get in.
 */
const temporal = z
  .strictObject({
    address: z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port of the Temporal frontend, e.g. 127.0.0.1:7233'),
    namespace: z.string().min(1).default('default'),
    taskQueue: z.string().min(1).default('vecgate-approvals'),
    /** TLS to the frontend; `{}` trusts the system's CAs */
    tls: z
      .strictObject({
        /** PEM CA certificate(s) that signed the server's certificate (a private CA) */
        serverCaFile: filePath.optional(),
        /** the name in the server's certificate, when it differs from the address's host */
        serverName: z.string().min(1).optional(),
        /** mTLS: this process's client certificate and key (PEM) */
        clientCertFile: filePath.optional(),
        clientKeyFile: filePath.optional(),
      })
      .optional(),
    /** the variable holding a Temporal Cloud API key (sent as a bearer token; implies TLS) */
    apiKeyEnv: envName.optional(),
  })
  .superRefine((t, ctx) => {
    if (t.tls && (t.tls.clientCertFile === undefined) !== (t.tls.clientKeyFile === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['tls', t.tls.clientCertFile ? 'clientKeyFile' : 'clientCertFile'], message: 'mTLS needs both clientCertFile and clientKeyFile' });
    }
  });

/** A trusted decider's Ed25519 public key: SPKI PEM or base64 of the 32 raw bytes; used as hex. */
const deciderPublicKey = z.string().transform((text, ctx) => {
  try {
    return deciderPublicKeyHex(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `${(err as Error).message} (make one with: openssl genpkey -algorithm ed25519 -out decider.pem && openssl pkey -in decider.pem -pubout)` });
    return z.NEVER;
  }
});

const approvals = z.strictObject({
  temporal,
  /**
   * Public keys of the deciders (the Slack app's signing key) whose signed decisions count; a list
   * so keys can rotate (add the new one, move the worker to it, then remove the old one).
   */
  deciderPublicKeys: z
    .array(deciderPublicKey, { error: 'list the decider public keys: the public half of approvals.slack.decisionSigningKeyFile/Env' })
    .min(1, 'list at least one decider public key: the public half of the worker\'s decision signing key'),
  /** how long the gateway holds a high-risk request waiting for a decision before answering */
  holdSeconds: z.number().min(0).max(120).default(20),
  /**
   * Workflows a worker keeps in memory; others are replayed from their history when needed. Bounds
   * the worker's memory however many approvals are pending (the SDK default grows with the heap).
   */
  maxCachedWorkflows: z.number().int().min(0).default(500),
  /** new approvals one requester may open per window (joining a pending one does not count); a flood would bury the ask that matters */
  maxNewPerRequester: z
    .strictObject({
      count: z.number().int().min(1, 'allow at least one new approval per window'),
      seconds: z.number().int().min(1).max(7 * 24 * 3600),
    })
    .default({ count: 20, seconds: 3600 }),
  slack: slack.optional(),
});

const syslogSink = z.strictObject({
  host: z.string().min(1),
  port,
  /** TLS to the SIEM: a private CA, the server name it presents, a client certificate for mTLS */
  tls: z
    .strictObject({
      caFile: z.string().min(1).optional(),
      certFile: z.string().min(1).optional(),
      keyFile: z.string().min(1).optional(),
      serverName: z.string().min(1).optional(),
      rejectUnauthorized: z.boolean().default(true),
    })
    .optional(),
  /** syslog facility; 13 is "log audit" */
  facility: z.number().int().min(0).max(23).default(13),
  appName: z.string().regex(/^[\x21-\x7e]{1,48}$/, 'must be 1-48 printable characters without spaces').default('vecgate'),
  /** SD-ID enterprise number; 32473 is reserved for examples (RFC 5612): use your organisation's */
  enterpriseId: z.number().int().min(1).default(32473),
  /** events kept while the SIEM is away; beyond it the oldest are dropped and counted */
  maxQueue: z.number().int().min(1).default(10000),
});

/** A bucket created with Object Lock on; each checkpoint object is locked when written. */
const checkpointBucket = z.strictObject({
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name: 3-63 lower-case letters, digits, dots or hyphens'),
  /** key prefix; each object is <prefix><instance>/<size>-<root>.note */
  prefix: z.string().regex(/^([A-Za-z0-9._-]+\/)*$/, 'must be empty or folder names each ending in "/", e.g. vecgate/checkpoints/').default('checkpoints/'),
  region: z.string().min(1).default('us-east-1'),
  /** an S3-compatible store other than AWS: its URL (path-style addressing is used) */
  endpoint: url('https://s3.storage.example.com').optional(),
  /** COMPLIANCE: nobody can delete or shorten the lock; GOVERNANCE: holders of s3:BypassGovernanceRetention can */
  mode: z.enum(['COMPLIANCE', 'GOVERNANCE'], { error: 'must be COMPLIANCE or GOVERNANCE' }).default('COMPLIANCE'),
  /** how long each checkpoint is locked: your audit retention period */
  retentionDays: z.number({ error: 'must be the number of days each checkpoint stays locked, e.g. 400 (your audit retention period)' }).int().min(1).max(36500),
  /** the credentials never sit in the file: only the variables holding them */
  accessKeyIdEnv: envName.default('AWS_ACCESS_KEY_ID'),
  secretAccessKeyEnv: envName.default('AWS_SECRET_ACCESS_KEY'),
  sessionTokenEnv: envName.optional(),
  /** one request's limit; a failed write is retried later, never holding up the trail */
  timeoutSeconds: z.number().int().min(1).max(300).default(10),
});

const audit = z.strictObject({
  mongodbUri: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URI'),
  database: z.string().min(1).default('vecgate'),
  collection: z.string().min(1).default('audit_events'),
  batchSize: z.number().int().min(1).max(10000).default(500),
  /** every event is durable here before its response leaves; it holds events while MongoDB is away */
  spool: z
    .strictObject({
      /** one directory per gateway instance: it also keeps the instance id */
      dir: z.string().min(1).default('.vecgate/spool'),
      /** past this the gateway refuses requests (503) rather than serve them unaudited */
      maxBytes: z.number().int().min(64 * 1024).default(1024 * 1024 * 1024),
      segmentBytes: z.number().int().min(4096).default(8 * 1024 * 1024),
      /** room kept free for the events of requests in flight */
      reserveBytes: z.number().int().min(0).default(1024 * 1024),
      /** each group durable (O_DSYNC) before answering; false only for benchmarks of what durability costs */
      sync: z.boolean().default(true),
    })
    .default({ dir: '.vecgate/spool', maxBytes: 1024 * 1024 * 1024, segmentBytes: 8 * 1024 * 1024, reserveBytes: 1024 * 1024, sync: true }),
  /** how long an instance id stays claimed without renewal (a second process with the id waits this long, then refuses) */
  leaseSeconds: z.number().int().min(3).max(300).default(15),
  /** signed checkpoints of each instance's Merkle tree (C2SP signed notes) */
  checkpoints: z
    .strictObject({
      /** PKCS8 PEM Ed25519 private key, readable by the gateway and out of reach of MongoDB credentials */
      keyFile: z.string().min(1).optional(),
      /** the key's name in the notes, and the prefix of each instance's origin */
      keyName: z.string().regex(/^[^\s+]{1,200}$/, 'must be a name without spaces or "+", e.g. vecgate.example.com/audit').default('vecgate/audit'),
      everyEvents: z.number().int().min(1).default(1000),
      everySeconds: z.number().int().min(1).default(10),
      /** a directory on write-once storage where every checkpoint is also written */
      dir: z.string().min(1).optional(),
      /** verifier keys (<name>+<id>+<key>) that \`vecgate audit verify\` trusts; the public half of keyFile is trusted too */
      verifierKeys: z.array(z.string().min(1)).default([]),
      /** an S3-compatible bucket with Object Lock where every checkpoint is also written, locked */
      s3: checkpointBucket.optional(),
    })
    .default({ keyName: 'vecgate/audit', everyEvents: 1000, everySeconds: 10, verifierKeys: [] }),
  /** copies for the SOC */
  sinks: z
    .strictObject({
      jsonl: z.strictObject({ dir: z.string().min(1), prefix: z.string().regex(/^[A-Za-z0-9._-]+$/).default('audit'), maxSize: z.string().regex(/^\d+[BKMG]$/, 'must be a size such as 100M').default('100M'), maxFiles: z.number().int().min(1).default(30) }).optional(),
      syslog: syslogSink.optional(),
    })
    .default({}),
});

/** `vecgate evidence export`: the key that signs each bundle's manifest (an auditor checks it against the published fingerprint). */
const evidence = z.strictObject({
  /** PKCS8 PEM Ed25519 private key; keep it apart from the audit checkpoint key */
  keyFile: z.string().min(1, 'must be the path of a PEM key file: openssl genpkey -algorithm ed25519 -out evidence.pem').optional(),
  /** the key's name in the manifest */
  keyName: z.string().regex(/^[^\s]{1,200}$/, 'must be a name without spaces, e.g. vecgate.example.com/evidence').default('vecgate/evidence'),
});

/** Where returned-record counts are kept (in the audit MongoDB), so the windows hold across gateway instances. */
const usage = z.strictObject({
  collection: z.string().min(1).default('export_usage'),
  /** counts are kept per bucket of this many seconds; a window is measured in whole buckets (up to one bucket longer) */
  bucketSeconds: z.number().int().min(1).max(3600).default(10),
  /** how often counts are written (batched $inc upserts) */
  flushIntervalMs: z.number().int().min(1).max(10000).default(100),
  /** how often the counts of collections in use are read back; other instances' reads show within flush + refresh */
  refreshIntervalMs: z.number().int().min(10).max(60000).default(500),
  /** while MongoDB cannot be reached, a principal may take this many records per collection and window (as this instance counts them); more is an export */
  unreachableAllowance: z.number().int().min(0).default(20),
});

/** `gateway.workers`, also what `vecgate gateway --workers` takes (a string from the command line or ${VAR}). */
const workersMessage = 'must be a number of worker processes from 1 to 64, or "auto" for one per available core';
export const workersSetting = z.unknown().transform((value, ctx): number | 'auto' => {
  if (value === 'auto') return 'auto';
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 64) return n;
  ctx.addIssue({ code: 'custom', message: workersMessage });
  return z.NEVER;
});

const gateway = z.strictObject({
  listen: listen.default({ host: '127.0.0.1', port: 8080 }),
  /** health, readiness and metrics; kept off the data listeners so no dialect path can collide */
  adminListen: listen.default({ host: '127.0.0.1', port: 9090 }),
  /** distinguishes this instance's audit sequence; defaults to host name, pid and a random suffix */
  instanceId: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/).optional(),
  maxBodyBytes: z.number().int().min(1024).default(16 * 1024 * 1024),
  maxJsonDepth: z.number().int().min(2).max(1000).default(64),
  bodyTimeoutMs: z.number().int().min(100).default(30000),
  upstreamConnectTimeoutMs: z.number().int().min(100).default(5000),
  upstreamTimeoutMs: z.number().int().min(100).default(60000),
  upstreamConnections: z.number().int().min(1).default(64),
  /** a collection id's name is checked again after this long: the bound on a rename elsewhere taking effect */
  collectionNameTtlSeconds: z.number().min(0).max(3600, 'keep it short: a renamed collection is judged by its old name this long').default(5),
  /** look-ups of unknown collection ids per caller and minute (each lists the database's collections); more get 429 */
  collectionLookupsPerMinute: z.number().int().min(1).default(60),
  /**
   * processes serving the same listeners (node:cluster): 1 is a single process; each worker is
   * an audit instance of its own (<instanceId>-w<k>, spool <spool.dir>/w<k>); "auto" = one per core
   */
  workers: workersSetting.default(1),
});

export const configSchema = z
  .strictObject({
    gateway: gateway.default(gateway.parse({})),
    identity,
    connections: z.array(connection).min(1, 'declare at least one connection'),
    policy: z.strictObject({ rules: z.array(rule) }),
    audit,
    masking: maskingSchema.default(maskingSchema.parse({})),
    approvals: approvals.optional(),
    usage: usage.default(usage.parse({})),
    evidence: evidence.optional(),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.connections.forEach((c, i) => {
      if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: ['connections', i, 'name'], message: `"${c.name}" is declared twice: connection names must be unique` });
      seen.add(c.name);
    });
    const ids = new Set<string>();
    config.policy.rules.forEach((r, i) => {
      if (r.effect === 'review' && !r.approval) ctx.addIssue({ code: 'custom', path: ['policy', 'rules', i, 'approval'], message: 'a review rule names its approvers: add approval: { approverGroups: [...] }' });
      if (r.effect !== 'review' && r.approval) ctx.addIssue({ code: 'custom', path: ['policy', 'rules', i, 'approval'], message: `only a review rule takes approval settings; this rule's effect is ${r.effect}` });
      if (r.approval?.maxAuthAgeSeconds !== undefined && config.approvals?.slack && !config.approvals.slack.link) {
        ctx.addIssue({ code: 'custom', path: ['policy', 'rules', i, 'approval', 'maxAuthAgeSeconds'], message: 'step-up needs approvals.slack.link: approvers prove a recent sign-in through it' });
      }
      if (r.volume && r.effect !== 'allow') ctx.addIssue({ code: 'custom', path: ['policy', 'rules', i, 'volume'], message: `only an allow rule takes volume limits (they turn an allowed read into an export); this rule's effect is ${r.effect}` });
      if (ids.has(r.id)) ctx.addIssue({ code: 'custom', path: ['policy', 'rules', i, 'id'], message: `"${r.id}" is used twice: rule ids must be unique, they name the rule in every decision` });
      ids.add(r.id);
    });
    const ports = new Map<number, string>();
    const claim = (p: number, what: string, path: (string | number)[]) => {
      if (p === 0) return;
      const other = ports.get(p);
      if (other) ctx.addIssue({ code: 'custom', path, message: `port ${p} is already used by ${other}: give each listener its own port` });
      ports.set(p, what);
    };
    if (config.gateway.workers !== 1 && config.gateway.instanceId && config.gateway.instanceId.length > 120) {
      ctx.addIssue({ code: 'custom', path: ['gateway', 'instanceId'], message: 'must be at most 120 characters with several workers: each worker adds -w<k> to it (instance ids are at most 128)' });
    }
    claim(config.gateway.listen.port, 'gateway.listen', ['gateway', 'listen', 'port']);
    claim(config.gateway.adminListen.port, 'gateway.adminListen', ['gateway', 'adminListen', 'port']);
    config.connections.forEach((c, i) => c.listen && claim(c.listen.port, `connection ${c.name}`, ['connections', i, 'listen', 'port']));
  });

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type ConnectionConfig = Config['connections'][number];
export type PolicyRule = Config['policy']['rules'][number];
export type AuditConfig = Config['audit'];
export type SyslogSinkConfig = NonNullable<AuditConfig['sinks']['syslog']>;
export type GatewayConfig = Config['gateway'];
export type ApprovalSettings = NonNullable<PolicyRule['approval']>;
export type ApprovalsConfig = NonNullable<Config['approvals']>;
export type SlackConfig = NonNullable<ApprovalsConfig['slack']>;
export type TemporalConfig = ApprovalsConfig['temporal'];
export type VolumeLimits = z.output<typeof volume>;
export type UsageConfig = Config['usage'];
export type EvidenceConfig = NonNullable<Config['evidence']>;

import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import type { Logger } from 'pino';
import { systemClock } from '../clock';
import { loadConfigFile } from '../config/load';
import { fetchDemoToken, findProjectRoot, readDevStackEnv, startDevStack, type ChromaRelease } from '../devstack';
import { startGateway, type RunningGateway } from '../gateway/server';
import { startBackOffice } from '../approval/back-office';
import { FakeSlack, type FakeMessage } from '../devstack/fake-slack';
import { buttonClick } from '../devstack/slack-payloads';
import { interactiveBody, postSigned } from '../devstack/slack-signing';
import { EVENTS_PATH } from '../../slack-app';
import { createLogger } from '../log';

export interface DevOptions {
  env: NodeJS.ProcessEnv;
  port: number;
  connectionPort: number;
  /** which Chroma server to run; default the pinned 1.0.0 */
  chroma?: ChromaRelease;
  logLevel: string;
}

const DEMO_COLLECTION = 'docs-demo';
const DEMO_TEAM = 'T0VECGATE';
const DEMO_CHANNEL = 'C0APPROVALS';
const DEMO_APPROVER = 'U0CAROL';
const DEMO_BOT_TOKEN = 'xoxb-vecgate-dev-demo';
const DEMO_SIGNING_SECRET = 'vecgate-dev-demo-signing-secret';
/** chromadb takes null at run time (its types say otherwise): never embed, the demo passes vectors itself. */
const NO_EMBEDDING = null as unknown as undefined;

/**
 * `vecgate dev`: the real servers, the gateway with config/demo.yaml, a short demo through the
 * official chromadb client, and what to paste to try it yourself.
 */
export async function runDev(opts: DevOptions): Promise<{ stop(): Promise<void> }> {
  const logger = createLogger(opts.logLevel);
  const root = findProjectRoot();
  const devEnv = readDevStackEnv(opts.env);
  say('starting Temporal, MongoDB-wire (FerretDB), Chroma and the demo OpenID provider...');
  const stack = await startDevStack({ runDir: join(root, '.vecgate', 'dev'), cacheDir: devEnv.cacheDir, external: devEnv.external, chroma: [opts.chroma ?? 'pinned'], logger });
  const stops: Array<() => Promise<void>> = [() => stack.stop()];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  try {
    // Slack cannot be reached from here: a local fake of its Web API stands in for it
    const slack = await FakeSlack.start({ teamId: DEMO_TEAM, botToken: DEMO_BOT_TOKEN, channels: [DEMO_CHANNEL], users: [{ id: DEMO_APPROVER, teamId: DEMO_TEAM, name: 'carol', email: 'carol@example.test' }] });
    stops.push(() => slack.stop());
    // a decider key pair for this run only: the worker signs decisions, the gateway trusts its public half
    const decider = generateKeyPairSync('ed25519');
    // the audit trail's spool, checkpoint key and checkpoint directory live beside the demo's MongoDB data
    const audit = demoAuditFiles(join(root, '.vecgate', 'dev', 'audit'));
    const loaded = loadConfigFile(join(root, 'config', 'demo.yaml'), {
      ...opts.env,
      OIDC_ISSUER: stack.oidcIssuer,
      CHROMA_URL: stack.chromaUrl,
      MONGODB_URI: stack.mongoUri,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      SLACK_API_URL: slack.apiUrl,
      SLACK_TEAM_ID: DEMO_TEAM,
      SLACK_CHANNEL_ID: DEMO_CHANNEL,
      VECGATE_SLACK_PORT: '0',
      VECGATE_PORT: String(opts.port),
      VECGATE_DEMO_PORT: String(opts.connectionPort),
      VECGATE_DECIDER_PUBLIC_KEY: decider.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      ...audit.env,
      // the demo approver's groups were "confirmed" as the demo starts (a real binding says when someone checked)
      VECGATE_DEMO_APPROVER_VERIFIED_AT: new Date().toISOString(),
    });
    say('starting the approval worker and the Slack app...');
    const office = await startBackOffice({ config: loaded.config, secrets: { botToken: DEMO_BOT_TOKEN, signingSecret: DEMO_SIGNING_SECRET, decisionSigningKey: decider.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() }, clock: systemClock, logger });
    stops.push(() => office.stop());
    const startedAt = new Date();
    const gateway = await startGateway(loaded, { clock: systemClock, logger });
    stops.push(() => gateway.close());
    await demo({ issuer: stack.oidcIssuer, gateway, mongoUri: stack.mongoUri, slack, slackUrl: office.slackUrl as string, logger, startedAt });
    printGuide(stack, gateway, slack, audit.env, startedAt);
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
}

interface DemoParts {
  issuer: string;
  gateway: RunningGateway;
  mongoUri: string;
  slack: FakeSlack;
  slackUrl: string;
  logger: Logger;
  /** this run's events are those from here on */
  startedAt: Date;
}

async function demo({ issuer, gateway, mongoUri, slack, slackUrl, logger, startedAt }: DemoParts): Promise<void> {
  const { ChromaClient } = await import('chromadb');
  const url = new URL(gateway.connectionUrls.demo as string);
  const clientFor = async (user: string, headers: Record<string, string> = {}) =>
    new ChromaClient({ host: url.hostname, port: Number(url.port), ssl: false, headers: { ...headers, authorization: `Bearer ${await fetchDemoToken(issuer, { username: user, password: `${user}-dev-password` })}` } });
  const attempt = async (who: string, what: string, fn: () => Promise<unknown>) => {
    try {
      const result = await fn();
      say(`  ${who.padEnd(6)} ${what}: ok${result === undefined ? '' : ` -> ${JSON.stringify(result)}`}`);
    } catch (err) {
      say(`  ${who.padEnd(6)} ${what}: refused -> ${(err as Error).message}`);
    }
  };

  say('\ndemo through the gateway with the official chromadb client:');
  const carol = await clientFor('carol');
  await attempt('carol', `creates "${DEMO_COLLECTION}" and adds 4 records (data steward)`, async () => {
    const c = await carol.getOrCreateCollection({ name: DEMO_COLLECTION, embeddingFunction: NO_EMBEDDING });
    await c.upsert({
      ids: ['d1', 'd2', 'd3', 'd4'],
      embeddings: [[0.1, 0.2, 0.3], [0.2, 0.1, 0.0], [0.9, 0.8, 0.7], [0.5, 0.5, 0.5]],
      documents: ['quarterly revenue grew', 'support ticket from jane@example.com', 'vector search tuning notes', 'onboarding guide'],
      metadatas: [{ team: 'finance' }, { team: 'support' }, { team: 'ml' }, { team: 'hr' }],
    });
    return undefined;
  });
  const alice = await clientFor('alice');
  await attempt('alice', 'queries the nearest 2 (data scientist: search allowed)', async () => {
    const c = await alice.getCollection({ name: DEMO_COLLECTION, embeddingFunction: NO_EMBEDDING });
    const r = await c.query({ queryEmbeddings: [[0.1, 0.2, 0.3]], nResults: 2 });
    return r.ids;
  });
  await attempt('alice', 'queries the nearest 60 (more than the 50 per request of her rule: counts as export)', async () => {
    const c = await alice.getCollection({ name: DEMO_COLLECTION, embeddingFunction: NO_EMBEDDING });
    return (await c.query({ queryEmbeddings: [[0.1, 0.2, 0.3]], nResults: 60 })).ids;
  });
  await attempt('alice', 'tests a guess against masked document text with $contains (FILTER_ON_MASKED)', async () => {
    const c = await alice.getCollection({ name: DEMO_COLLECTION, embeddingFunction: NO_EMBEDDING });
    return (await c.get({ ids: ['d2'], whereDocument: { $contains: 'jane@example.com' }, include: [] as never })).ids;
  });
  await attempt('alice', 'exports every record without saying why (bulk export: needs approval)', async () => {
    const c = await alice.getCollection({ name: DEMO_COLLECTION, embeddingFunction: NO_EMBEDDING });
    return (await c.get()).ids;
  });
  const aliceWithReason = await clientFor('alice', { 'x-vecgate-reason': 'quarterly data-quality review' });
  const held = attempt('alice', 'exports every record, reason "quarterly data-quality review": held for approval...', async () => {
    const c = await aliceWithReason.getCollection({ name: DEMO_COLLECTION, embeddingFunction: NO_EMBEDDING });
    const all = await c.get();
    return { ids: all.ids, documents: all.documents };
  });
  const message = await waitForApprovalMessage(slack);
  say(`  slack  #vecgate-approvals: "${message.text ?? ''}"`);
  const click = await postSigned(`${slackUrl}${EVENTS_PATH}`, {
    signingSecret: DEMO_SIGNING_SECRET,
    body: interactiveBody(buttonClick('approve', { teamId: DEMO_TEAM, userId: DEMO_APPROVER, approvalId: approvalIdIn(message), channel: DEMO_CHANNEL, messageTs: message.ts, actionTs: String(Date.now() / 1000), responseUrl: slack.newResponseUrl(), triggerId: slack.newTriggerId() })),
  });
  say(`  carol  clicks Approve in Slack (a payload signed as Slack signs it): ${click.status === 200 ? 'accepted' : `HTTP ${click.status}`}`);
  await held;
  const bob = await clientFor('bob');
  await attempt('bob', 'queries (analyst: no rule grants him docs-*)', async () => {
    const c = await bob.getCollection({ name: DEMO_COLLECTION, embeddingFunction: NO_EMBEDDING });
    return (await c.query({ queryEmbeddings: [[0.1, 0.2, 0.3]], nResults: 1 })).ids;
  });

  await gateway.audit.flush();
  const mongo = await MongoClient.connect(mongoUri);
  try {
    // the gateway's chain goes on across demo runs: this run's events start with its configuration event
    const events = await mongo.db('vecgate').collection('audit_events').find({ instanceId: gateway.instanceId, time: { $gte: startedAt } }).sort({ seq: 1 }).toArray();
    say(`\naudit: ${events.length} events in MongoDB (vecgate.audit_events), chained and signed; one per request, after the gateway's own:`);
    for (const e of events) {
      if (e.system) say(`  #${e.seq} gateway ${e.request.endpoint}: ${e.decision.explanation}`);
      else say(`  #${e.seq} ${(e.principal as { subject?: string } | null)?.subject ?? '-'} ${e.request.method} ${e.operation ?? '-'} ${e.collections.join(',') || '-'} -> ${e.decision.effect} (${e.decision.ruleId ?? e.error?.code}) ${e.status}`);
    }
  } catch (err) {
    logger.warn({ err }, 'could not read the audit events back');
  } finally {
    await mongo.close();
  }
}

async function waitForApprovalMessage(slack: FakeSlack): Promise<FakeMessage> {
  for (let i = 0; i < 200; i++) {
    const m = slack.messages(DEMO_CHANNEL).at(-1);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the approval message did not reach Slack within 10 s');
}

function approvalIdIn(message: FakeMessage): string {
  return /vecgate-[0-9a-f]{40}/.exec(JSON.stringify(message.metadata ?? message.blocks))?.[0] ?? '';
}

/** The demo's spool, checkpoint directory, checkpoint key and evidence key (keys made once), as the variables config/demo.yaml reads. */
function demoAuditFiles(dir: string): { env: Record<string, string> } {
  const keyFile = join(dir, 'checkpoint.pem');
  const evidenceKeyFile = join(dir, 'evidence.pem');
  mkdirSync(dir, { recursive: true });
  for (const file of [keyFile, evidenceKeyFile]) {
    if (!existsSync(file)) writeFileSync(file, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  }
  return { env: { VECGATE_AUDIT_SPOOL: join(dir, 'spool'), VECGATE_CHECKPOINT_KEY_FILE: keyFile, VECGATE_CHECKPOINT_DIR: join(dir, 'checkpoints'), VECGATE_EVIDENCE_KEY_FILE: evidenceKeyFile } };
}

function printGuide(stack: { oidcIssuer: string; mongoUri: string; chromaUrl: string; temporalAddress: string }, gateway: RunningGateway, slack: FakeSlack, auditEnv: Record<string, string>, startedAt: Date): void {
  const exports = Object.entries({ MONGODB_URI: stack.mongoUri, OIDC_ISSUER: stack.oidcIssuer, CHROMA_URL: stack.chromaUrl, TEMPORAL_ADDRESS: stack.temporalAddress, ...auditEnv })
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const demoUrl = new URL(gateway.connectionUrls.demo as string);
  say(`
vecgate dev stack is running (Ctrl-C stops everything):
  gateway, connection "demo" (Chroma)  ${gateway.connectionUrls.demo}   <- point chromadb clients here
  gateway, shared listener             ${gateway.url}/c/demo
  health and metrics                   ${gateway.adminUrl}/readyz  ${gateway.adminUrl}/metrics
  OpenID provider                      ${stack.oidcIssuer}
  MongoDB (audit)                      ${stack.mongoUri}
  Chroma (upstream; the gateway alone talks to it)  ${stack.chromaUrl}
  Temporal (approval workflows)        ${stack.temporalAddress}
  Slack Web API (local fake)           ${slack.apiUrl}

demo users (password: <name>-dev-password): alice (data-scientists), bob (analysts), carol (data-stewards), dave (no groups)

get a token:
  export TOKEN=$(node bin/vecgate token --issuer ${stack.oidcIssuer} --user alice)

query through the gateway with the official chromadb JS client (copy and paste):
  node -e '
    const { ChromaClient } = require("chromadb");
    (async () => {
      const client = new ChromaClient({ host: "${demoUrl.hostname}", port: ${demoUrl.port}, headers: { authorization: "Bearer " + process.env.TOKEN } });
      const docs = await client.getCollection({ name: "${DEMO_COLLECTION}" });
      console.log(await docs.query({ queryEmbeddings: [[0.1, 0.2, 0.3]], nResults: 2 }));
    })();'

or with Python (pip install chromadb):
  chromadb.HttpClient(host="${demoUrl.hostname}", port=${demoUrl.port}, headers={"Authorization": "Bearer " + token})

see why a request is allowed or not:
  node bin/vecgate policy explain -c config/demo.yaml --subject alice --groups data-scientists --connection demo --operation export --collection ${DEMO_COLLECTION}

verify the tamper-evident audit trail, and prove one request's event (x-vecgate-request-id of its answer):
  export ${exports}
  node bin/vecgate audit verify -c config/demo.yaml
  node bin/vecgate audit prove -c config/demo.yaml --request-id <id>

export the evidence for an auditor (trail, approval histories, access review, ISO 27001 control map, report), then check it:
  node bin/vecgate evidence export -c config/demo.yaml --from ${new Date(startedAt.getTime() - 60_000).toISOString()} --to $(date -u +%Y-%m-%dT%H:%M:%SZ) --out .vecgate/evidence-$(date -u +%Y%m%dT%H%M%S) --zip
  node bin/vecgate evidence verify .vecgate/evidence-<stamp>
`);
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

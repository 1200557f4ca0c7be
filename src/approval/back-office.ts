import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { webApi } from '@slack/bolt';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { MongoClient } from 'mongodb';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import type { ApprovalsConfig, Config } from '../config/schema';
import { ConfigError, type BucketCredentials } from '../config/load';
import {
  createApproverDirectory,
  createSlackApp,
  createSlackNotifier,
  createTemporalDecider,
  openMongoBindingStore,
  openMongoLinkStateStore,
  DEFAULT_LINK_COMMAND,
  type SlackApp,
} from '../../slack-app';
import { createDecisionSigner, type DecisionSigner } from '../../slack-app/decision-signer';
import { decisionSigningKey } from './decider-keys';
import { temporalConnectionOptions } from './temporal-connection';
import { createApprovalWorker } from './worker';
import { answerEvent, refusalEvent } from './decision-evidence';
import { resolveInstanceId, trailSettingsFrom } from '../audit/settings';
import { openAuditTrail } from '../audit/trail';

/** The secrets the Slack side needs, read from the environment variables the configuration names. */
export interface SlackSecrets {
  botToken: string;
  signingSecret?: string;
  appToken?: string;
  /** the link command's OpenID client secret, when the client is confidential */
  linkClientSecret?: string;
  /** PKCS8 PEM of the Ed25519 key that signs decisions (approvals.slack.decisionSigningKeyFile/Env) */
  decisionSigningKey: string;
  /** the Temporal API key (approvals.temporal.apiKeyEnv; LoadedConfig.temporalApiKey) */
  temporalApiKey?: string;
}

export interface BackOffice {
  /** the Slack app's HTTP address (http mode), for signed interactive payloads */
  slackUrl?: string;
  stop(): Promise<void>;
}

export interface BackOfficeOptions {
  config: Config;
  secrets: SlackSecrets;
  clock: Clock;
  logger: Logger;
  /** a bundle made once (tests); otherwise the worker bundles workflows/ at start */
  workflowBundle?: { code: string };
  /** for the checkpoint bucket (audit.checkpoints.s3; LoadedConfig.checkpointBucketCredentials) */
  checkpointBucketCredentials?: BucketCredentials;
}

/** Reads the worker's secrets once, naming the variable (or file) and the key when one is missing. */
export function slackSecretsFrom(approvals: ApprovalsConfig, env: Readonly<Record<string, string | undefined>>, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): SlackSecrets {
  const slack = approvals.slack;
  if (!slack) throw new ConfigError('configuration', [{ key: 'approvals.slack', message: 'is required to run the worker: approvers are asked in Slack' }]);
  const need = (name: string, key: string) => {
    const v = env[name];
    if (!v) throw new ConfigError('configuration', [{ key: `approvals.slack.${key}`, message: `environment variable ${name} is not set: export the Slack ${key.replace(/Env$/, '')} there` }]);
    return v;
  };
  return {
    botToken: need(slack.botTokenEnv, 'botTokenEnv'),
    ...(slack.mode === 'http' ? { signingSecret: need(slack.signingSecretEnv, 'signingSecretEnv') } : { appToken: need(slack.appTokenEnv, 'appTokenEnv') }),
    ...(slack.link?.clientSecretEnv ? { linkClientSecret: need(slack.link.clientSecretEnv, 'link.clientSecretEnv') } : {}),
    decisionSigningKey: signingKeyFrom(slack, env, readFile),
  };
}

function signingKeyFrom(slack: NonNullable<ApprovalsConfig['slack']>, env: Readonly<Record<string, string | undefined>>, readFile: (path: string) => string): string {
  if (slack.decisionSigningKeyFile !== undefined) {
    try {
      return readFile(slack.decisionSigningKeyFile);
    } catch (err) {
      throw new ConfigError('configuration', [
        { key: 'approvals.slack.decisionSigningKeyFile', message: `cannot read ${slack.decisionSigningKeyFile} (${(err as NodeJS.ErrnoException).code ?? 'error'}): point it at the PKCS8 PEM Ed25519 key (openssl genpkey -algorithm ed25519)` },
      ]);
    }
  }
  const value = env[slack.decisionSigningKeyEnv];
  if (!value) {
    throw new ConfigError('configuration', [
      {
        key: 'approvals.slack.decisionSigningKeyEnv',
        message: `environment variable ${slack.decisionSigningKeyEnv} is not set: export the PKCS8 PEM Ed25519 key that signs decisions there (openssl genpkey -algorithm ed25519), or set decisionSigningKeyFile`,
      },
    ]);
  }
  return value;
}

/** The worker's decision signer; its public key must be one the gateways trust, or no decision would ever count. */
export function decisionSignerFrom(approvals: ApprovalsConfig, pem: string): DecisionSigner {
  let signer: DecisionSigner;
  try {
    signer = createDecisionSigner(decisionSigningKey(pem));
  } catch (err) {
    throw new ConfigError('configuration', [{ key: 'approvals.slack.decisionSigningKeyFile/Env', message: (err as Error).message }]);
  }
  if (!approvals.deciderPublicKeys.includes(signer.publicKey)) {
    throw new ConfigError('configuration', [
      { key: 'approvals.deciderPublicKeys', message: `does not list the public half of the worker's decision signing key (hex ${signer.publicKey}): add it, or no decision would count` },
    ]);
  }
  return signer;
}

/**
 * `vecgate worker`: the approval workflow's worker, and the Slack app where approvers decide.
 * Several may run against one Temporal cluster and one MongoDB.
 */
export async function startBackOffice(options: BackOfficeOptions): Promise<BackOffice> {
  const { config, secrets, clock, logger } = options;
  const approvals = config.approvals;
  const slack = approvals?.slack;
  if (!approvals || !slack) throw new ConfigError('configuration', [{ key: 'approvals.slack', message: 'is required to run the worker: approvers are asked in Slack' }]);
  const { namespace, taskQueue } = approvals.temporal;
  const signer = decisionSignerFrom(approvals, secrets.decisionSigningKey);
  const connectionOptions = temporalConnectionOptions(approvals.temporal, secrets.temporalApiKey);

  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => logger.warn({ err }, 'error while stopping the back office'));
  };
  try {
    const mongo = await MongoClient.connect(config.audit.mongodbUri, { serverSelectionTimeoutMS: 5000, appName: 'vecgate-worker' });
    stops.push(() => mongo.close());
    const db = mongo.db(config.audit.database);

    const slackApiUrl = slack.apiUrl?.replace(/\/?$/, '/');
    // no retries inside the client: a lost answer retried there would post twice; the activity retries and looks first
    const web = new webApi.WebClient(secrets.botToken, { retryConfig: { retries: 0 }, ...(slackApiUrl ? { slackApiUrl } : {}) });
    const nativeConnection = await NativeConnection.connect(connectionOptions);
    stops.push(() => nativeConnection.close());
    const worker: Worker = await createApprovalWorker({
      connection: nativeConnection,
      namespace,
      taskQueue,
      notifier: createSlackNotifier({ client: web, channel: slack.channel, clock }),
      worker: { maxCachedWorkflows: approvals.maxCachedWorkflows },
      ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : {}),
    });
    const running = worker.run();
    stops.push(async () => {
      worker.shutdown();
      await running;
    });

    const clientConnection = await Connection.connect(connectionOptions);
    stops.push(() => clientConnection.close());
    // the worker's own audit chain (its own spool beside the gateway's): approvers' clicks are evidence too
    const workerSpool = join(config.audit.spool.dir, 'worker');
    if (config.audit.checkpoints.s3 && !options.checkpointBucketCredentials) logger.warn('the worker was given no credentials for audit.checkpoints.s3: its checkpoints go to MongoDB and the directory only');
    const trail = await openAuditTrail(db, { ...trailSettingsFrom(config.audit, options.checkpointBucketCredentials), spoolDir: workerSpool }, {
      instanceId: `worker-${resolveInstanceId(undefined, workerSpool)}`,
      holderName: `${hostname()} pid ${process.pid}`,
      clock,
      logger,
    });
    stops.push(() => trail.close());
    const bindings = await openMongoBindingStore(db);
    const link = slack.link
      ? {
          oidc: { issuer: config.identity.issuer, clientId: slack.link.clientId, redirectUri: slack.link.redirectUri, ...(secrets.linkClientSecret ? { clientSecret: secrets.linkClientSecret } : {}) },
          claims: { email: config.identity.emailClaim, groups: config.identity.groupsClaim },
          states: await openMongoLinkStateStore(db),
          bindings,
          requireSameEmail: slack.link.requireSameEmail,
        }
      : undefined;
    const app: SlackApp = createSlackApp({
      mode: slack.mode,
      botToken: secrets.botToken,
      ...(secrets.signingSecret ? { signingSecret: secrets.signingSecret } : {}),
      ...(secrets.appToken ? { appToken: secrets.appToken } : {}),
      host: slack.listen.host,
      port: slack.listen.port,
      ...(slackApiUrl ? { slackApiUrl } : {}),
      workspace: slack.workspace,
      decider: createTemporalDecider(new Client({ connection: clientConnection, namespace }), { signer, clock }),
      approvers: createApproverDirectory({
        workspace: slack.workspace,
        staticBindings: slack.bindings.map((b) => ({ teamId: slack.workspace, ...b })),
        store: bindings,
        maxGroupAgeMs: slack.maxGroupAgeSeconds * 1000,
        clock,
        ...(link ? { linkCommand: DEFAULT_LINK_COMMAND } : {}),
      }),
      ...(link ? { link } : {}),
      // clicks refused before they reach a workflow (unmapped user, other workspace, stale groups) are evidence too
      refusals: { record: (r) => trail.commit(refusalEvent(r)), answered: (a) => trail.commit(answerEvent(a)) },
      clock,
      logger,
    });
    await app.start();
    stops.push(() => app.stop());
    logger.info({ taskQueue, namespace, slack: app.url() }, 'vecgate worker running');
    const url = app.url();
    return { ...(url ? { slackUrl: url } : {}), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

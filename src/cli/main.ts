import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { systemClock } from '../clock';
import { ConfigError, loadConfigFile, parseConfig, readConfigText } from '../config/load';
import { CHROMA_RELEASES, fetchDemoToken, type ChromaRelease } from '../devstack';
import { dialectFor } from '../dialect';
import { OPERATION_CLASSES, type OperationClass } from '../dialect/types';
import { startGateway } from '../gateway/server';
import { WORKER_SLOT_ENV } from '../gateway/cluster/messages';
import { workerCount } from '../gateway/cluster/plan';
import { runPrimary } from '../gateway/cluster/primary';
import { processChannel, runClusterWorker } from '../gateway/cluster/worker';
import { workersSetting } from '../config/schema';
import { slackSecretsFrom, startBackOffice } from '../approval/back-office';
import { createLogger } from '../log';
import { explain } from '../policy/explain';
import { auditProve, auditVerify } from './audit';
import { runDev } from './dev';
import { evidenceExport, evidenceVerify, type ExportFlags } from './evidence';

/** The CLI is the edge where the environment is read; everything below takes plain values. */
const env = process.env;

/** Temporal's own logs (worker, workflows) follow the CLI's level; installed once per process. */
function installTemporalLogging(level: string): void {
  Runtime.install({ logger: new DefaultLogger(level.toUpperCase() as LogLevel) });
}

function onShutdown(close: () => Promise<void>): void {
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    process.stderr.write(`\n${signal}: stopping...\n`);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`error while stopping: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

const program = new Command()
  .name('vecgate')
  .description('Identity-aware gateway for vector databases: OIDC identity, least-privilege policy, audit.')
  .showHelpAfterError();

const configOption = () => new Option('-c, --config <file>', 'configuration file (YAML)').env('VECGATE_CONFIG').makeOptionMandatory();
const logLevelOption = () => new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info').env('LOG_LEVEL');

program
  .command('gateway')
  .description('run the gateway with a configuration file')
  .addOption(configOption())
  .addOption(logLevelOption())
  .addOption(new Option('--workers <n|auto>', 'worker processes on the same listeners, instead of gateway.workers: a number, or auto (one per core)').env('VECGATE_WORKERS'))
  .action(async (opts: { config: string; logLevel: string; workers?: string }) => {
    const logger = createLogger(opts.logLevel);
    if (cluster.isWorker) {
      // forked by the primary below: it hands over the configuration it validated
      const worker = await runClusterWorker({ slot: Number(env[WORKER_SLOT_ENV]), env, clock: systemClock, logger, channel: processChannel(process), exit: (code) => process.exit(code) });
      onShutdown(() => worker.stop());
      return;
    }
    // validated once, here, before any worker is forked: a bad file is one clear error, not a fork loop
    // the text is read once: the workers get exactly the text validated here, even if the file changes meanwhile
    const configText = readConfigText(opts.config);
    const loaded = parseConfig(configText, opts.config, env);
    const workers = workerCount(opts.workers === undefined ? loaded.config.gateway.workers : workersFlag(opts.workers), availableParallelism());
    if (workers === 1) {
      const gateway = await startGateway(loaded, { clock: systemClock, logger });
      onShutdown(() => gateway.close());
      return;
    }
    const primary = await runPrimary({ loaded, configText, configSource: opts.config, workers, clock: systemClock, logger, exit: (code) => process.exit(code) });
    onShutdown(() => primary.stop());
  });

function workersFlag(value: string): number | 'auto' {
  const parsed = workersSetting.safeParse(value);
  if (!parsed.success) throw new ConfigError('--workers', [{ key: '--workers', message: parsed.error.issues[0]?.message ?? 'is invalid' }]);
  return parsed.data;
}

program
  .command('worker')
  .description('run the approval worker (Temporal) and the Slack app where approvers decide')
  .addOption(configOption())
  .addOption(logLevelOption())
  .action(async (opts: { config: string; logLevel: string }) => {
    const logger = createLogger(opts.logLevel);
    installTemporalLogging(opts.logLevel);
    const { config, temporalApiKey, checkpointBucketCredentials } = loadConfigFile(opts.config, env);
    if (!config.approvals) throw new ConfigError(opts.config, [{ key: 'approvals', message: 'is required to run the worker: add approvals.temporal and approvals.slack' }]);
    const secrets = { ...slackSecretsFrom(config.approvals, env), ...(temporalApiKey ? { temporalApiKey } : {}) };
    const office = await startBackOffice({ config, secrets, clock: systemClock, logger, ...(checkpointBucketCredentials ? { checkpointBucketCredentials } : {}) });
    onShutdown(() => office.stop());
  });

program
  .command('dev')
  .description('start the whole local stack (Temporal, MongoDB-wire, Chroma, OpenID provider, gateway) with a demo')
  .option('--port <port>', 'shared gateway port', '8080')
  .option('--chroma-port <port>', 'port of the demo connection\'s own listener', '8001')
  .addOption(new Option('--chroma-release <release>', 'Chroma server: pinned (1.0.0, npm) or current (1.5.9, PyPI)').choices([...CHROMA_RELEASES]).default('pinned'))
  .addOption(logLevelOption().default('warn'))
  .action(async (opts: { port: string; chromaPort: string; chromaRelease: ChromaRelease; logLevel: string }) => {
    installTemporalLogging(opts.logLevel);
    const stack = await runDev({ env, port: Number(opts.port), connectionPort: Number(opts.chromaPort), chroma: opts.chromaRelease, logLevel: opts.logLevel });
    onShutdown(() => stack.stop());
  });

const policy = program.command('policy').description('inspect the policy');
policy
  .command('explain')
  .description('what would happen to a request, and why')
  .addOption(configOption())
  .requiredOption('--subject <sub>', 'the caller\'s subject (user id)')
  .option('--groups <list>', 'comma-separated groups', '')
  .requiredOption('--connection <name>', 'connection name')
  .option('--method <method>', 'HTTP method of the request')
  .option('--path <path>', 'request path as the client sends it, e.g. /api/v2/tenants/default_tenant/databases/default_database/collections/ID/get')
  .option('--body <json>', 'request body (JSON text, or @file)')
  .addOption(new Option('--operation <class>', 'operation class, instead of a request').choices([...OPERATION_CLASSES]))
  .option('--collection <names>', 'comma-separated collection names the request touches')
  .option('--tenant <name>', 'tenant of an --operation question (a request path names its own)')
  .option('--database <name>', 'database of an --operation question (a request path names its own)')
  .option('--json', 'print the explanation as JSON')
  .action((opts: { config: string; subject: string; groups: string; connection: string; method?: string; path?: string; body?: string; operation?: OperationClass; collection?: string; tenant?: string; database?: string; json?: boolean }) => {
    const { config } = loadConfigFile(opts.config, env, { credentials: 'skip' });
    const body = opts.body === undefined ? undefined : JSON.parse(opts.body.startsWith('@') ? readFileSync(opts.body.slice(1), 'utf8') : opts.body) as unknown;
    const result = explain(config, dialectFor, {
      subject: opts.subject,
      groups: opts.groups.split(',').map((g) => g.trim()).filter(Boolean),
      connection: opts.connection,
      request: opts.method && opts.path ? { method: opts.method, path: opts.path, body } : undefined,
      operation: opts.operation,
      collections: opts.collection?.split(',').map((c) => c.trim()).filter(Boolean),
      ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}),
      ...(opts.database !== undefined ? { database: opts.database } : {}),
    });
    process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${result.lines.join('\n')}\n`);
  });

program
  .command('config')
  .description('configuration tools')
  .command('check')
  .description('validate a configuration file and say what is wrong')
  .addOption(configOption())
  .action((opts: { config: string }) => {
    const { config } = loadConfigFile(opts.config, env);
    process.stdout.write(`${opts.config} is valid: ${config.connections.length} connection(s), ${config.policy.rules.length} rule(s).\n`);
  });

const audit = program.command('audit').description('check the tamper-evident audit trail');
audit
  .command('verify')
  .description('verify every instance\'s hash chain against its signed checkpoints; exits 1 and names the events when anything was changed')
  .addOption(configOption())
  .option('--from <iso>', 'report findings from this time on')
  .option('--to <iso>', 'report findings up to this time')
  .option('--json', 'print the report as JSON')
  .action(async (opts: { config: string; from?: string; to?: string; json?: boolean }) => {
    const { config } = loadConfigFile(opts.config, env);
    const { report, text } = await auditVerify(config, opts, env);
    process.stdout.write(text);
    process.exitCode = report.ok ? 0 : 1;
  });
audit
  .command('prove')
  .description('print the inclusion proof of one request\'s audit event and check it against a signed checkpoint')
  .addOption(configOption())
  .requiredOption('--request-id <id>', 'the request id (x-vecgate-request-id of the answer)')
  .option('--json', 'print the proof as JSON')
  .action(async (opts: { config: string; requestId: string; json?: boolean }) => {
    const { config } = loadConfigFile(opts.config, env);
    const { report, text } = await auditProve(config, opts.requestId, opts.json, env);
    process.stdout.write(text);
    process.exitCode = report.verified ? 0 : 1;
  });

const evidence = program.command('evidence').description('export and check the evidence bundle an auditor is handed');
evidence
  .command('export')
  .description('export the period\'s audit trail, approval histories, access review, control map and report as a signed bundle (needs MongoDB and Temporal, not the gateway)')
  .addOption(configOption())
  .requiredOption('--from <iso>', 'start of the period (ISO 8601), e.g. 2026-10-01T00:00:00Z')
  .requiredOption('--to <iso>', 'end of the period (ISO 8601)')
  .requiredOption('--out <dir>', 'a new (or empty) directory for the bundle')
  .option('--zip', 'also write DIR.zip')
  .option('--since-bundle <dir>', 'the previous bundle: prove this trail extends its checkpoints')
  .option('--unmasked', 'keep personal data in renderings and histories unmasked (recorded in the manifest)')
  .option('--pdf', 'also print report.pdf with headless Chromium')
  .action(async (opts: ExportFlags & { config: string }) => {
    const { config, temporalApiKey, maskingTokenKey } = loadConfigFile(opts.config, env);
    const { text } = await evidenceExport(config, opts, { clock: systemClock, ...(temporalApiKey ? { temporalApiKey } : {}), ...(maskingTokenKey ? { maskingTokenKey } : {}), log: (line) => process.stderr.write(`${line}\n`) });
    process.stdout.write(text);
  });
evidence
  .command('verify')
  .description('check a bundle offline: its signature, every file\'s hash, the trail inside and the approval histories; exits 1 and names the file on any change')
  .argument('<dir>', 'the bundle directory')
  .option('--key <pem-or-fingerprint>', 'the published evidence key: a PEM public key (file or text) or its sha256 fingerprint')
  .option('--json', 'print the verdict as JSON')
  .action(async (dir: string, opts: { key?: string; json?: boolean }) => {
    const { verdict, text } = await evidenceVerify(dir, opts);
    process.stdout.write(text);
    process.exitCode = verdict.ok ? 0 : 1;
  });

program
  .command('token')
  .description('get an access token for a demo user from an OpenID provider (password grant, as the dev provider offers)')
  .requiredOption('--issuer <url>', 'issuer URL', env.VECGATE_DEV_ISSUER)
  .requiredOption('--user <name>', 'user name')
  .option('--password <password>', 'password (demo users: see the dev output)')
  .option('--audience <aud>', 'audience', 'vecgate')
  .action(async (opts: { issuer: string; user: string; password?: string; audience: string }) => {
    const token = await fetchDemoToken(opts.issuer, { username: opts.user, password: opts.password ?? `${opts.user}-dev-password`, audience: opts.audience });
    process.stdout.write(`${token}\n`);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`vecgate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

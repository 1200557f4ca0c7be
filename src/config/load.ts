import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { type Config, configSchema } from './schema';

export interface ConfigIssue {
  /** where in the file, e.g. connections[0].upstream */
  key: string;
  message: string;
}

/** A configuration that cannot start the gateway; every issue names the key and the fix. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`${source} is not a valid vecgate configuration:\n${issues.map((i) => `  - ${i.key}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The validated configuration plus the upstream credentials read from the environment. */
export interface LoadedConfig {
  config: Config;
  /** connection name -> credential value; never logged, never in the file */
  credentials: ReadonlyMap<string, string>;
  /** the HMAC key of the masking token style, from masking.settings.tokenKeyEnv */
  maskingTokenKey?: Buffer;
  /** the Temporal API key, from approvals.temporal.apiKeyEnv */
  temporalApiKey?: string;
  /** for the checkpoint bucket, from audit.checkpoints.s3.*Env */
  checkpointBucketCredentials?: BucketCredentials;
}

export interface BucketCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The checkpoint bucket's credentials from the variables its configuration names, or what is missing. */
export function bucketCredentialsFrom(s3: NonNullable<Config['audit']['checkpoints']['s3']>, env: Env): BucketCredentials | ConfigIssue {
  const accessKeyId = env[s3.accessKeyIdEnv];
  const secretAccessKey = env[s3.secretAccessKeyEnv];
  const sessionToken = s3.sessionTokenEnv ? env[s3.sessionTokenEnv] : undefined;
  const missing = [accessKeyId ? undefined : s3.accessKeyIdEnv, secretAccessKey ? undefined : s3.secretAccessKeyEnv, s3.sessionTokenEnv && !sessionToken ? s3.sessionTokenEnv : undefined].filter((m) => m !== undefined);
  if (missing.length > 0 || !accessKeyId || !secretAccessKey) {
    return { key: 'audit.checkpoints.s3', message: `environment variable(s) ${missing.join(', ')} not set: export the checkpoint bucket's credentials there` };
  }
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

type Env = Readonly<Record<string, string | undefined>>;

/** `credentials: 'skip'` is for tools that never reach an upstream (policy explain, config check). */
export interface LoadOptions {
  credentials?: 'require' | 'skip';
}

export function loadConfigFile(path: string, env: Env, options: LoadOptions = {}): LoadedConfig {
  return parseConfig(readConfigText(path), path, env, options);
}

/** The configuration file's text, or a ConfigError that names the file. */
export function readConfigText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [{ key: '(file)', message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): pass an existing file with --config` }]);
  }
}

export function parseConfig(text: string, source: string, env: Env, options: LoadOptions = {}): LoadedConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(source, doc.errors.map((e) => ({ key: `(yaml line ${e.linePos?.[0]?.line ?? '?'})`, message: e.message.split('\n')[0] ?? 'YAML syntax error' })));
  }
  const issues: ConfigIssue[] = [];
  const raw = interpolate(doc.toJS() as unknown, env, [], issues);
  if (issues.length > 0) throw new ConfigError(source, issues);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(source, parsed.error.issues.map(toIssue));
  const config = parsed.data;

  const credentials = new Map<string, string>();
  config.connections.forEach((c, i) => {
    if (!c.credential || options.credentials === 'skip') return;
    const value = env[c.credential.env];
    if (!value) {
      issues.push({ key: `connections[${i}].credential.env`, message: `environment variable ${c.credential.env} is not set: export the upstream credential for connection "${c.name}" there` });
    } else {
      credentials.set(c.name, value);
    }
  });
  const keyEnv = config.masking.settings.tokenKeyEnv;
  let maskingTokenKey: Buffer | undefined;
  if (keyEnv !== undefined && options.credentials !== 'skip') {
    const value = env[keyEnv];
    if (!value || Buffer.byteLength(value) < 32) {
      issues.push({ key: 'masking.settings.tokenKeyEnv', message: `environment variable ${keyEnv} must hold the masking token key, at least 32 bytes (e.g. openssl rand -hex 32)` });
    } else {
      maskingTokenKey = Buffer.from(value, 'utf8');
    }
  }
  const apiKeyEnv = config.approvals?.temporal.apiKeyEnv;
  const temporalApiKey = apiKeyEnv !== undefined && options.credentials !== 'skip' ? env[apiKeyEnv] : undefined;
  if (apiKeyEnv !== undefined && options.credentials !== 'skip' && !temporalApiKey) {
    issues.push({ key: 'approvals.temporal.apiKeyEnv', message: `environment variable ${apiKeyEnv} is not set: export the Temporal API key there` });
  }
  const bucket = config.audit.checkpoints.s3 && options.credentials !== 'skip' ? bucketCredentialsFrom(config.audit.checkpoints.s3, env) : undefined;
  if (bucket && 'key' in bucket) issues.push(bucket);
  const checkpointBucketCredentials = bucket && !('key' in bucket) ? bucket : undefined;
  if (issues.length > 0) throw new ConfigError(source, issues);
  return {
    config,
    credentials,
    ...(maskingTokenKey ? { maskingTokenKey } : {}),
    ...(temporalApiKey ? { temporalApiKey } : {}),
    ...(checkpointBucketCredentials ? { checkpointBucketCredentials } : {}),
  };
}

/** ${NAME} and ${NAME:-default} inside string values, so addresses can come from the environment. */
function interpolate(value: unknown, env: Env, path: (string | number)[], issues: ConfigIssue[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      issues.push({ key: formatKey(path), message: `refers to \${${name}}, which is not set: export ${name} or write \${${name}:-default}` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, [...path, i], issues));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, [...path, k], issues)]));
  }
  return value;
}

function toIssue(issue: z.core.$ZodIssue): ConfigIssue {
  const key = formatKey(issue.path as (string | number)[]);
  if (issue.code === 'unrecognized_keys') {
    return { key, message: `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove them or check the spelling` };
  }
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && issue.input === undefined) {
    return { key, message: `is required: add it (${issue.message.replace(/^Invalid input: /, '')})` };
  }
  return { key, message: issue.message };
}

function formatKey(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

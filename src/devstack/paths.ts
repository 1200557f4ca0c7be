import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { DevStackError } from './errors';

/**
 * The clone's root: the nearest folder above `fromDir` whose package.json is vecgate's. Works from
 * src/ under ts-node or jest and from dist/ alike, whatever the working directory.
 */
export function findProjectRoot(fromDir: string = __dirname): string {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && isVecgateManifest(manifest)) return dir;
    if (dirname(dir) === dir) {
      throw new DevStackError('PROJECT_ROOT_NOT_FOUND', `no vecgate package.json above ${fromDir}; run from a vecgate clone`);
    }
  }
}

function isVecgateManifest(file: string): boolean {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === 'vecgate';
  } catch {
    return false;
  }
}

/** Where scripts/install-servers.sh puts the pinned servers: VECGATE_CACHE, else ~/.cache/vecgate. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  return env.VECGATE_CACHE || join(homedir(), '.cache', 'vecgate');
}

export interface ServerBinaries {
  temporal: string;
  temporalTestServer: string;
  ferretdb: string;
  /** current Chroma's `chroma` CLI from PyPI chromadb (a symlink into its venv) */
  chromaPy: string;
  /** that venv's Python, which holds the official Python client (chromadb) */
  chromaPython: string;
  /** moto's S3-compatible server (PyPI moto[server]), for the checkpoint bucket tests */
  motoServer: string;
}

export function serverBinaries(cacheDir: string): ServerBinaries {
  const bin = join(cacheDir, 'bin');
  return {
    temporal: join(bin, 'temporal'),
    temporalTestServer: join(bin, 'temporal-test-server'),
    ferretdb: join(bin, 'ferretdb'),
    chromaPy: join(bin, 'chroma-py'),
    chromaPython: join(bin, 'chroma-python'),
    motoServer: join(bin, 'moto_server'),
  };
}

/** The pinned Chroma server ships inside the chromadb npm package; run its CLI with this Node. */
export function chromaCli(projectRoot: string): string {
  return join(projectRoot, 'node_modules', '.bin', 'chroma');
}

export function oidcServerScript(projectRoot: string): string {
  return join(projectRoot, 'src', 'devstack', 'oidc', 'oidc-server.mjs');
}

export function orphanGuardScript(projectRoot: string): string {
  return join(projectRoot, 'src', 'devstack', 'orphan-guard.mjs');
}

/** The demo directory `vecgate dev` uses when none is given. */
export function defaultDemoDirectory(projectRoot: string): string {
  return join(projectRoot, 'src', 'devstack', 'oidc', 'demo-directory.json');
}

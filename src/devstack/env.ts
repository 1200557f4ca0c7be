import { defaultCacheDir } from './paths';

/** Servers run elsewhere (production, docker-compose): each one given is used instead of starting one. */
export interface ExternalAddresses {
  /** TEMPORAL_ADDRESS, host:port */
  temporalAddress?: string;
  /** MONGODB_URI */
  mongoUri?: string;
  /** CHROMA_URL: the pinned Chroma (1.0) */
  chromaUrl?: string;
  /** CHROMA_CURRENT_URL: current Chroma (1.5), where the stack runs it too (the tests) */
  chromaCurrentUrl?: string;
  /** OIDC_ISSUER */
  oidcIssuer?: string;
}

export interface DevStackEnv {
  external: ExternalAddresses;
  /** VECGATE_CACHE, default ~/.cache/vecgate */
  cacheDir: string;
}

/** The dev stack's settings from the environment, read once by the caller (CLI, jest setup). */
export function readDevStackEnv(env: NodeJS.ProcessEnv): DevStackEnv {
  const given = (key: string) => {
    const value = env[key]?.trim();
    return value ? value : undefined;
  };
  return {
    external: {
      temporalAddress: given('TEMPORAL_ADDRESS'),
      mongoUri: given('MONGODB_URI'),
      chromaUrl: given('CHROMA_URL'),
      chromaCurrentUrl: given('CHROMA_CURRENT_URL'),
      oidcIssuer: given('OIDC_ISSUER'),
    },
    cacheDir: defaultCacheDir(env),
  };
}

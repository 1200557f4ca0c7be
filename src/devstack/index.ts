export { startDevStack, type DevStack, type DevStackOptions, type DevServerName } from './stack';
export { CHROMA_RELEASES, type ChromaRelease } from './chroma';
export { readDevStackEnv, type DevStackEnv, type ExternalAddresses } from './env';
export { DevStackError, type DevStackErrorCode } from './errors';
export { defaultCacheDir, findProjectRoot, serverBinaries, type ServerBinaries } from './paths';
export { temporalTestServerPath } from './temporal';
export { fetchDemoToken, fetchServiceToken, type DemoTokenRequest, type ServiceTokenRequest } from './oidc/demo-token';
export { DEFAULT_AUDIENCE, DEMO_CLIENT, type DemoClient, type DemoDirectory, type DemoServiceAccount, type DemoUser } from './oidc/directory';

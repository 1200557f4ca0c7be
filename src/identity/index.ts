export type { IdentityConfig, Principal, TokenVerifier } from './types';
export { createTokenVerifier, type TokenVerifierDeps } from './verifier';
export { extractToken, credentialHeaderNames, type RequestHeaders } from './extract';

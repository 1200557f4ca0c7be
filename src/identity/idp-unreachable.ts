/**
 * Internal: the identity provider (discovery or JWKS) could not be used. The verifier turns it into
 * IDP_UNAVAILABLE; `message` is for the logs only and may name URLs and causes.
 */
export class IdpUnreachable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdpUnreachable';
  }
}

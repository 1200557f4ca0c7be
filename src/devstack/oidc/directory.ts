/** A person the demo OpenID provider knows; `groups` lands in the token's `groups` claim. */
export interface DemoUser {
  username: string;
  password: string;
  sub: string;
  email?: string;
  groups?: string[];
}

/** A machine identity: a client of its own that gets tokens by client_credentials (sub = clientId). */
export interface DemoServiceAccount {
  clientId: string;
  clientSecret: string;
  groups?: string[];
}

/** The JSON file handed to oidc-server.mjs with --directory. */
export interface DemoDirectory {
  users: DemoUser[];
  serviceAccounts?: DemoServiceAccount[];
}

/** The client tokens for users are requested with (grant_type=password or client_credentials). */
export interface DemoClient {
  clientId: string;
  clientSecret: string;
}

export const DEMO_CLIENT: DemoClient = { clientId: 'vecgate-cli', clientSecret: 'vecgate-cli-secret' };

/** The audience tokens are issued for when a request names none. */
export const DEFAULT_AUDIENCE = 'vecgate';

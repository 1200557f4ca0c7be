// jose and oidc-provider ship only as ES modules; @swc/jest compiles them (and our TypeScript) to
// CommonJS for jest, while at run time Node >= 20.19 loads them through require(esm).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose|oidc-provider|canonicalize)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  // On 2 cores jest runs the suites in its own process; the Temporal runtime that the workflow
  // tests install with log forwarding (a native threadsafe function, --detectOpenHandles shows it)
  // keeps that process alive after the last suite. Every server the tests start is stopped by the
  // global teardown and the orphan guard, so ending the process is safe here.
  forceExit: true,
};

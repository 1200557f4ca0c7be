/** The payload builders live beside the fake Slack in src/devstack, where the dev stack's demo uses them too. */
export * from '../../../src/devstack/slack-payloads';

import { clusterReady, decideAfterExit, RESTART_POLICY, workerCount, workerPlacement, type ExitDecision, type SlotRecord, type WorkerExit } from '../../src/gateway/cluster/plan';
import { parseConfig } from '../../src/config/load';

const minimal = (gateway: string) => `
gateway: ${gateway}
identity: { issuer: "http://idp.example", audience: vecgate }
connections: [{ name: demo, dialect: chroma, upstream: "http://127.0.0.1:8000" }]
policy: { rules: [] }
audit: { mongodbUri: "mongodb://127.0.0.1/", spool: { dir: /var/lib/vecgate/spool }, sinks: { jsonl: { dir: /var/log/vecgate } } }
`;

describe('how many workers a gateway runs', () => {
  test.each([
    ['not set: one process, as before', '{}', 8, 1],
    ['a number', '{ workers: 3 }', 8, 3],
    ['a number from the environment (text)', '{ workers: "2" }', 8, 2],
    ['"auto": one per available core', '{ workers: auto }', 6, 6],
  ])('%s', (_name, gateway, cores, expected) => {
    const { config } = parseConfig(minimal(gateway), 'test.yaml', {});
    expect(workerCount(config.gateway.workers, cores)).toBe(expected);
  });
});

describe('each worker is an audit instance of its own, named by its slot', () => {
  const { config } = parseConfig(minimal('{ workers: 2 }'), 'test.yaml', {});

  test('instance id, spool directory and JSON Lines prefix carry the slot; other sinks are shared', () => {
    expect(workerPlacement('gw-1a2b', 2, config.audit)).toEqual({
      instanceId: 'gw-1a2b-w2',
      spoolDir: '/var/lib/vecgate/spool/w2',
      sinks: { jsonl: { dir: '/var/log/vecgate', prefix: 'audit-w2', maxSize: '100M', maxFiles: 30 } },
    });
  });

  test('a restarted worker of the same slot gets the same instance and spool (it takes back its lease and chain)', () => {
    expect(workerPlacement('gw-1a2b', 1, config.audit)).toEqual(workerPlacement('gw-1a2b', 1, config.audit));
    expect(workerPlacement('gw-1a2b', 1, config.audit).instanceId).not.toBe(workerPlacement('gw-1a2b', 2, config.audit).instanceId);
    expect(workerPlacement('gw-1a2b', 1, config.audit).spoolDir).not.toBe(workerPlacement('gw-1a2b', 2, config.audit).spoolDir);
  });
});

describe('what the primary does when a worker exits unasked', () => {
  const fresh: SlotRecord = { crashes: 0, startFailures: 0 };
  const cases: Array<[string, SlotRecord, WorkerExit, ExitDecision]> = [
    ['a first crash of a running worker: restarted after the base delay', fresh, { wasReady: true, upMs: 5000 }, { action: 'restart', delayMs: 1000, record: { crashes: 1, startFailures: 0 } }],
    ['crashes in a row double the delay', { crashes: 3, startFailures: 0 }, { wasReady: true, upMs: 5000 }, { action: 'restart', delayMs: 8000, record: { crashes: 4, startFailures: 0 } }],
    ['the delay is capped', { crashes: 12, startFailures: 0 }, { wasReady: true, upMs: 5000 }, { action: 'restart', delayMs: RESTART_POLICY.maxDelayMs, record: { crashes: 13, startFailures: 0 } }],
    ['a worker that ran steadily starts the backoff again', { crashes: 6, startFailures: 0 }, { wasReady: true, upMs: RESTART_POLICY.steadyMs }, { action: 'restart', delayMs: 1000, record: { crashes: 1, startFailures: 0 } }],
    ['a failed start is retried with backoff', { crashes: 1, startFailures: 1 }, { wasReady: false, upMs: 300 }, { action: 'restart', delayMs: 2000, record: { crashes: 2, startFailures: 2 } }],
    ['failed starts in a row end the gateway', { crashes: 2, startFailures: RESTART_POLICY.maxStartFailures - 1 }, { wasReady: false, upMs: 300 }, { action: 'give-up', reason: `a worker failed to start ${RESTART_POLICY.maxStartFailures} times in a row` }],
    ['a worker that became ready clears its failed starts', { crashes: 2, startFailures: 2 }, { wasReady: true, upMs: 2000 }, { action: 'restart', delayMs: 4000, record: { crashes: 3, startFailures: 0 } }],
  ];
  test.each(cases)('%s', (_name, record, exit, expected) => {
    expect(decideAfterExit(record, exit)).toEqual(expected);
  });
});

describe('when the gateway of several workers is ready', () => {
  const w = (slot: number, ready: boolean) => ({ slot, pid: 100 + slot, instanceId: `gw-w${slot}`, ready, auditPending: 0 });
  test.each([
    ['every answering worker accepts', [w(1, true), w(2, true)], true],
    ['one worker is being restarted (does not answer) and the other accepts', [w(2, true)], true],
    ['a worker whose audit trail refuses would answer its share with 503', [w(1, true), w(2, false)], false],
    ['no worker answers', [], false],
  ])('%s', (_name, answers, ready) => {
    expect(clusterReady(answers)).toBe(ready);
  });
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevStackError } from '../../src/devstack';
import { startServerProcess, type ServerProcessOptions } from '../../src/devstack/server-process';
import { alive } from './support/process-state';

const options: ServerProcessOptions = { readyTimeoutMs: 5000, stopGraceMs: 2000 };

describe('a server process', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vecgate-server-process-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('that exits before answering fails at once, naming the server, the command and its last log lines', async () => {
    const started = Date.now();
    const attempt = startServerProcess(
      { name: 'broken', command: 'bash', args: ['-c', 'for i in $(seq 1 30); do echo line-$i; done; exit 3'], logFile: join(dir, 'broken.log') },
      () => Promise.reject(new Error('not yet')),
      options,
    );
    const err = (await attempt.catch((e: unknown) => e)) as DevStackError;
    expect(err).toBeInstanceOf(DevStackError);
    expect(err.code).toBe('SERVER_START_FAILED');
    expect(err.message).toMatch(/^broken did not start: the process exited \(code 3\)/);
    expect(err.message).toContain("command: bash -c 'for i in");
    expect(err.message).toContain('line-30');
    expect(err.message).toContain('line-11');
    expect(err.message).not.toContain('line-10\n');
    expect(Date.now() - started).toBeLessThan(options.readyTimeoutMs);
  });

  it('whose command does not exist fails with the reason', async () => {
    const attempt = startServerProcess(
      { name: 'ghost', command: join(dir, 'no-such-binary'), args: [], logFile: join(dir, 'ghost.log') },
      () => Promise.resolve(),
      options,
    );
    await expect(attempt).rejects.toThrow(/ghost did not start: cannot run .*no-such-binary: spawn .* ENOENT/);
  });

  it('stops with its whole process group, children included', async () => {
    const pidFile = join(dir, 'child.pid');
    const server = await startServerProcess(
      // the parent ignores SIGTERM, so this also covers the SIGKILL after the grace period
      { name: 'family', command: 'bash', args: ['-c', `trap '' TERM; sleep 300 & echo $! > ${pidFile}; wait`], logFile: join(dir, 'family.log') },
      async () => {
        if (!readFileSync(pidFile, 'utf8').trim()) throw new Error('no child yet');
      },
      { ...options, stopGraceMs: 300 },
    );
    const childPid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(server.pid)).toBe(true);
    expect(alive(childPid)).toBe(true);

    await server.stop();
    await server.stop();
    expect(alive(server.pid)).toBe(false);
    expect(alive(childPid)).toBe(false);
  });
});

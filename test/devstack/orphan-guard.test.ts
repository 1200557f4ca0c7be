import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { findProjectRoot } from '../../src/devstack';
import { orphanGuardScript } from '../../src/devstack/paths';
import { alive } from './support/process-state';

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await sleep(50);
  }
  return condition();
}

// A stand-in for `vecgate dev`: it starts a "server" in its own process group, tells the guard,
// prints the server's pid and waits to be killed.
const parentScript = `
const { spawn } = require('node:child_process');
const guard = spawn(process.execPath, [process.argv[1], '500'], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
guard.unref();
const server = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
guard.stdin.write('+' + server.pid + '\\n');
console.log(server.pid);
setInterval(() => {}, 1000);
`;

describe('the orphan guard', () => {
  it('stops the servers of a parent that was killed with SIGKILL', async () => {
    const parent = spawn(process.execPath, ['-e', parentScript, orphanGuardScript(findProjectRoot())], { stdio: ['ignore', 'pipe', 'inherit'] });
    const serverPid = await new Promise<number>((resolve, reject) => {
      parent.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      parent.once('error', reject);
    });
    try {
      expect(alive(serverPid)).toBe(true);
      parent.kill('SIGKILL');
      expect(await waitFor(() => !alive(serverPid), 5000)).toBe(true);
    } finally {
      if (alive(serverPid)) process.kill(serverPid, 'SIGKILL');
    }
  });
});

// Stops the dev stack's servers when the process that started them dies without stopping them
// (SIGKILL, a crash, a lost terminal): its stdin is a pipe from that process, so end-of-file means
// the parent is gone, however it went. Each stdin line "+PGID" tracks a process group, "-PGID"
// forgets one. Runs detached, in its own process group, so a terminal's Ctrl-C does not reach it.
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

const graceMs = Number(process.argv[2] ?? '5000');
const groups = new Set();

function alive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalAll(signal) {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, signal);
    } catch {
      groups.delete(pgid);
    }
  }
}

async function stopAll() {
  signalAll('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && [...groups].some(alive)) await sleep(100);
  signalAll('SIGKILL');
  process.exit(0);
}

process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});

createInterface({ input: process.stdin })
  .on('line', (line) => {
    const pgid = Number(line.slice(1));
    if (!Number.isInteger(pgid) || pgid <= 1) return;
    if (line.startsWith('+')) groups.add(pgid);
    else if (line.startsWith('-')) groups.delete(pgid);
  })
  .on('close', () => void stopAll());

import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevStackError, serverBinaries } from '../../src/devstack';
import { ensureServersInstalled } from '../../src/devstack/install';

// A project root whose install script is a stand-in: the real one downloads and builds for minutes.
function fakeProject(dir: string, script: string): string {
  const root = join(dir, 'project');
  mkdirSync(join(root, 'scripts'), { recursive: true });
  writeFileSync(join(root, 'scripts', 'install-servers.sh'), script);
  chmodSync(join(root, 'scripts', 'install-servers.sh'), 0o755);
  return root;
}

describe('installing the servers', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vecgate-install-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs scripts/install-servers.sh with VECGATE_CACHE when a binary is missing, and not when none is', async () => {
    const cacheDir = join(dir, 'cache');
    const projectRoot = fakeProject(
      dir,
      `set -e; echo run >> "${dir}/runs"; mkdir -p "$VECGATE_CACHE/bin"
       for b in temporal temporal-test-server ferretdb; do printf '#!/bin/sh\\n' > "$VECGATE_CACHE/bin/$b"; chmod +x "$VECGATE_CACHE/bin/$b"; done`,
    );
    const b = serverBinaries(cacheDir);
    const options = { projectRoot, cacheDir, binaries: [b.temporal, b.temporalTestServer, b.ferretdb], logFile: join(dir, 'install.log') };

    await ensureServersInstalled(options);
    await ensureServersInstalled(options);
    expect(readFileSync(join(dir, 'runs'), 'utf8')).toBe('run\n');
  });

  it('that fails names the script and shows the end of its output', async () => {
    const projectRoot = fakeProject(dir, 'echo "go: module lookup disabled"; exit 7');
    const attempt = ensureServersInstalled({
      projectRoot,
      cacheDir: join(dir, 'cache'),
      binaries: [serverBinaries(join(dir, 'cache')).ferretdb],
      logFile: join(dir, 'install.log'),
    });
    await expect(attempt).rejects.toBeInstanceOf(DevStackError);
    await expect(attempt).rejects.toMatchObject({ code: 'SERVERS_NOT_INSTALLED' });
    await expect(attempt).rejects.toThrow(/install-servers\.sh exited with code 7[\s\S]*go: module lookup disabled/);
  });
});

import { rmSync } from 'node:fs';
import { takeStackHandle } from './stack-env';

/** Stops what global-setup started and removes its temp dir. */
export default async function globalTeardown(): Promise<void> {
  const handle = takeStackHandle();
  if (!handle) return;
  await handle.stack.stop();
  rmSync(handle.runDir, { recursive: true, force: true });
}

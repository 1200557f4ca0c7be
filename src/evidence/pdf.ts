import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * `report.pdf`: report.html printed by headless Chromium, because GRC tools take PDF. Debian's
 * `chromium` package is used as installed (no browser download at run time); the report has no
 * script and forbids every fetch by its CSP, and the flags below keep Chromium itself off the
 * network, so printing contacts no one.
 */

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export interface PrintPdfOptions {
  /** the Chromium executable; default /usr/bin/chromium (Debian package `chromium`) */
  chromium?: string;
  /** give up after this long; default 60 s */
  timeoutMs?: number;
}

export class PdfError extends Error {
  readonly code = 'EVIDENCE_PDF';
}

export async function printPdf(htmlFile: string, pdfFile: string, options: PrintPdfOptions = {}): Promise<void> {
  const chromium = options.chromium ?? DEFAULT_CHROMIUM;
  try {
    accessSync(chromium, constants.X_OK);
  } catch {
    throw new PdfError(`--pdf needs headless Chromium at ${chromium}, which is missing: install Debian's package with \`apt-get install chromium\` (or name another executable), or export without --pdf`);
  }
  // A profile of its own: a user's running browser, its extensions and its caches stay out.
  const profile = mkdtempSync(join(tmpdir(), 'vecgate-pdf-'));
  const args = [
    '--headless',
    // Chromium's sandbox needs user namespaces, which containers and root often lack; the page
    // printed is our own static report with no script.
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-default-apps',
    '--disable-extensions',
    '--disable-sync',
    '--no-first-run',
    '--no-default-browser-check',
    '--metrics-recording-only',
    `--user-data-dir=${profile}`,
    '--no-pdf-header-footer',
    `--print-to-pdf=${resolve(pdfFile)}`,
    pathToFileURL(resolve(htmlFile)).href,
  ];
  try {
    await new Promise<void>((done, fail) => {
      execFile(chromium, args, { timeout: options.timeoutMs ?? 60_000, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 }, (error, _stdout, stderr) => {
        if (error) {
          const why = error.killed ? `did not finish within ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s` : `exited with ${error.code ?? error.signal}`;
          fail(new PdfError(`Chromium (${chromium}) ${why} while printing ${htmlFile}: ${lastLines(stderr)}`));
        } else done();
      });
    });
    let size = 0;
    try {
      size = statSync(pdfFile).size;
    } catch {
      size = 0;
    }
    if (size === 0) throw new PdfError(`Chromium (${chromium}) exited without writing ${pdfFile}`);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ') || 'no output';
}

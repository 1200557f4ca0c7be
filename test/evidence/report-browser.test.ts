import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildControlMap } from '../../src/evidence/control-map';
import { DEFAULT_CHROMIUM, printPdf } from '../../src/evidence/pdf';
import { renderReport } from '../../src/evidence/report';
import type { EvidenceSummary } from '../../src/evidence/summary';
import { summaryFixture } from './support/summary-fixture';

/**
 * report.html as an auditor sees it: opened from disk in Debian's headless Chromium (the `chromium`
 * package; scripts/install-servers.sh installs it), screenshotted, and watched for any request.
 */

const ARTIFACTS = resolve(__dirname, '../../.vecgate/test-artifacts');
const dir = mkdtempSync(join(tmpdir(), 'vecgate-report-'));
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: DEFAULT_CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
});

afterAll(async () => {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
});

function writeReport(name: string, summary: EvidenceSummary): string {
  const file = join(dir, name);
  writeFileSync(file, renderReport(summary, buildControlMap(summary)));
  return file;
}

/** Opens the file and records every request the page makes, the document's own included. */
async function open(file: string): Promise<{ page: Page; requests: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, requests };
}

/** Distinct colours and the share of non-white pixels of a PNG, counted in a scratch page. */
async function inkOf(png: Buffer): Promise<{ colours: number; inked: number }> {
  const scratch = await browser.newPage();
  try {
    await scratch.setContent('<canvas></canvas>');
    // a string, not a function: the test compiles without the DOM types
    return await scratch.evaluate<{ colours: number; inked: number }>(`(async (b64) => {
      const img = new Image();
      img.src = 'data:image/png;base64,' + b64;
      await img.decode();
      const canvas = document.querySelector('canvas');
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const data = ctx.getImageData(0, 0, img.width, img.height).data;
      const colours = new Set();
      let inked = 0;
      for (let i = 0; i < data.length; i += 4) {
        colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
        if (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240) inked++;
      }
      return { colours: colours.size, inked: inked / (data.length / 4) };
    })(${JSON.stringify(png.toString('base64'))})`);
  } finally {
    await scratch.close();
  }
}

describe('report.html in headless Chromium', () => {
  it('shows the verdict and every approval row, visibly, in a screenshot that is not blank', async () => {
    const file = writeReport('report.html', summaryFixture());
    const { page } = await open(file);

    const verdict = page.locator('#verdict');
    await expect(verdict.isVisible()).resolves.toBe(true);
    expect(await verdict.innerText()).toMatch(/^OK\s+Verified/);
    const vbox = await verdict.boundingBox();
    expect(vbox && vbox.width > 300 && vbox.height > 20).toBe(true);
    // green, as the verdict says
    expect(await page.evaluate<string>(`getComputedStyle(document.querySelector('#verdict')).backgroundColor`)).toBe('rgb(232, 245, 233)');

    const rows = page.locator('#approvals-table tbody tr');
    expect(await rows.count()).toBe(3);
    const texts = await rows.allInnerTexts();
    expect(texts[0]).toMatch(/apr-0001[\s\S]*alice@example\.com[\s\S]*executed[\s\S]*approved by carol@example\.com at 2026-11-02T09:20:41\.002Z[\s\S]*HTTP 200/);
    expect(texts[1]).toMatch(/apr-0002[\s\S]*bob@example\.com[\s\S]*denied by dave@example\.com/);
    expect(texts[2]).toMatch(/apr-0003[\s\S]*expired[\s\S]*no decision/);
    for (let i = 0; i < 3; i++) {
      const row = rows.nth(i);
      expect(await row.isVisible()).toBe(true);
      const box = await row.boundingBox();
      expect(box && box.width > 600 && box.height > 15).toBe(true);
    }

    const timeline = page.locator('figure.timeline svg');
    const tbox = await timeline.boundingBox();
    expect(tbox && tbox.width > 600 && tbox.height > 150).toBe(true);

    const shot = await page.screenshot({ fullPage: true, path: join(ARTIFACTS, 'report.png') });
    const ink = await inkOf(shot);
    expect(ink.colours).toBeGreaterThan(50);
    expect(ink.inked).toBeGreaterThan(0.03);
    // the approvals and verdict, close up, for a reader of the artifacts
    await page.locator('#approvals').screenshot({ path: join(ARTIFACTS, 'report-approvals.png') });
    await verdict.screenshot({ path: join(ARTIFACTS, 'report-verdict.png') });
    await page.close();
  });

  it('makes no network request: the only request is the file itself', async () => {
    const file = writeReport('quiet.html', summaryFixture({ unmasked: true }));
    const { page, requests } = await open(file);
    // print media too: a print stylesheet could fetch what the screen did not
    await page.emulateMedia({ media: 'print' });
    await page.waitForTimeout(300);
    expect(requests).toEqual([pathToFileURL(file).href]);
    await page.close();
  });

  it('shows an unmasked export as a red banner at the top', async () => {
    const file = writeReport('unmasked.html', summaryFixture({ unmasked: true }));
    const { page } = await open(file);
    const banner = page.locator('#unmasked');
    expect(await banner.isVisible()).toBe(true);
    const box = await banner.boundingBox();
    expect(box && box.y < 400).toBe(true);
    expect(await page.evaluate<string>(`getComputedStyle(document.querySelector('#unmasked')).backgroundColor`)).toBe('rgb(183, 28, 28)');
    await page.close();
  });

  it('runs no script from hostile names: the page has no script and the title stays', async () => {
    const s = summaryFixture();
    const row = s.approvals.rows[0];
    if (!row) throw new Error('fixture has approval rows');
    const evil = summaryFixture({
      approvals: { ...s.approvals, rows: [{ ...row, requester: '<script>document.title="pwned"</script>', reason: '<img src=x onerror="document.title=\'pwned\'">' }] },
    });
    const { page, requests } = await open(writeReport('evil.html', evil));
    expect(await page.title()).toMatch(/^vecgate evidence/);
    expect(await page.locator('script, img').count()).toBe(0);
    expect(await page.locator('#approvals-table tbody tr').first().innerText()).toContain('<script>document.title="pwned"</script>');
    expect(requests).toHaveLength(1);
    await page.close();
  });
});

describe('report.pdf', () => {
  it('is printed by headless Chromium: a PDF with A4 pages', async () => {
    const html = writeReport('print.html', summaryFixture());
    const pdf = join(ARTIFACTS, 'report.pdf');
    rmSync(pdf, { force: true });
    await printPdf(html, pdf);
    const bytes = readFileSync(pdf);
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = bytes.toString('latin1');
    const pages = text.match(/\/Type\s*\/Page\b/g) ?? [];
    expect(pages.length).toBeGreaterThanOrEqual(2);
    // A4 is 595 x 842 points
    expect(text).toMatch(/\/MediaBox\s*\[\s*0\s+0\s+59[45](\.\d+)?\s+84[12](\.\d+)?\s*\]/);
    expect(text.trimEnd().endsWith('%%EOF')).toBe(true);
  }, 90_000);

  it('names the Debian package when Chromium is missing', async () => {
    const html = writeReport('nochrome.html', summaryFixture());
    await expect(printPdf(html, join(dir, 'x.pdf'), { chromium: join(dir, 'no-such-chromium') })).rejects.toThrow(/apt-get install chromium/);
  });
});

describe('report.pdf when Chromium misbehaves', () => {
  const fake = (name: string, body: string): string => {
    const file = join(dir, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return file;
  };

  it('gives up after the timeout, naming it', async () => {
    const html = writeReport('slow.html', summaryFixture());
    await expect(printPdf(html, join(dir, 'slow.pdf'), { chromium: fake('slow-chromium', 'exec sleep 30'), timeoutMs: 500 })).rejects.toThrow(/did not finish within 1 s/);
  });

  it('fails when Chromium exits without writing the PDF', async () => {
    const html = writeReport('lazy.html', summaryFixture());
    await expect(printPdf(html, join(dir, 'lazy.pdf'), { chromium: fake('lazy-chromium', 'exit 0') })).rejects.toThrow(/exited without writing/);
  });

  it('passes on what Chromium said when it fails', async () => {
    const html = writeReport('broken.html', summaryFixture());
    await expect(printPdf(html, join(dir, 'broken.pdf'), { chromium: fake('broken-chromium', 'echo "cannot open display" >&2; exit 3') })).rejects.toThrow(/exited with 3 .*cannot open display/);
  });
});

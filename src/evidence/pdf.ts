/** PLACEHOLDER (being built on branch h-report): report.pdf printed by headless Chromium. */
export function printPdf(_htmlFile: string, _pdfFile: string, _options: { chromium?: string } = {}): Promise<void> {
  return Promise.reject(new Error('PDF printing not built yet'));
}

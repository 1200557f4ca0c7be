import type { ControlMap } from './control-map';
import type { EvidenceSummary } from './summary';

/** PLACEHOLDER (being built on branch h-report): report.html, self-contained, no network. */
export function renderReport(summary: EvidenceSummary, _controls: ControlMap): string {
  return `<!doctype html><meta charset="utf-8"><title>vecgate evidence</title><p>${summary.period.from} to ${summary.period.to}</p>`;
}

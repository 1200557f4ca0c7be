import type { TrailSummary } from './summary';

/**
 * The requests-per-bucket timeline as inline SVG: stacked bars (allowed, review, denied, other), a
 * y axis with round ticks and time labels, in colours that survive greyscale printing by order
 * and legend. Pure: the same buckets give the same bytes.
 */

type Bucket = TrailSummary['timeline'][number];

export const TIMELINE_SERIES = [
  { key: 'allowed', label: 'allowed', colour: '#2e7d32' },
  { key: 'review', label: 'held for review', colour: '#ef8f00' },
  { key: 'denied', label: 'denied', colour: '#c62828' },
  { key: 'other', label: 'other', colour: '#8a8f98' },
] as const;

const WIDTH = 960;
const HEIGHT = 280;
const M = { top: 16, right: 12, bottom: 58, left: 56 };

export function timelineSvg(buckets: readonly Bucket[], escape: (s: string) => string): string {
  const plotW = WIDTH - M.left - M.right;
  const plotH = HEIGHT - M.top - M.bottom;
  const totals = buckets.map((b) => b.allowed + b.review + b.denied + b.other);
  const max = niceMax(Math.max(0, ...totals));
  const step = buckets.length > 0 ? plotW / buckets.length : plotW;
  const barW = Math.max(1, step * 0.8);
  const y = (v: number): number => M.top + plotH - (v / max) * plotH;
  const parts: string[] = [];

  // y axis: five round ticks with grid lines
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    const yy = round(y(v));
    parts.push(`<line x1="${M.left}" x2="${WIDTH - M.right}" y1="${yy}" y2="${yy}" stroke="#d5d8dc" stroke-width="1"/>`);
    parts.push(`<text x="${M.left - 6}" y="${yy + 4}" text-anchor="end" font-size="11" fill="#333">${formatTick(v)}</text>`);
  }
  parts.push(`<text transform="translate(14 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="11" fill="#333">requests</text>`);

  // bars, stacked in the series order
  const labelEvery = Math.max(1, Math.ceil(buckets.length / 12));
  const [first, second] = buckets;
  const daily = first !== undefined && second !== undefined && Date.parse(second.start) - Date.parse(first.start) >= 86_400_000;
  buckets.forEach((b, i) => {
    const x = round(M.left + i * step + (step - barW) / 2);
    let base = 0;
    const tip = `${b.start}: ${b.allowed} allowed, ${b.review} held for review, ${b.denied} denied, ${b.other} other`;
    parts.push(`<g><title>${escape(tip)}</title>`);
    for (const s of TIMELINE_SERIES) {
      const v = b[s.key];
      if (v > 0) {
        const top = y(base + v);
        parts.push(`<rect class="bar-${s.key}" x="${x}" y="${round(top)}" width="${round(barW)}" height="${round(Math.max(0.5, y(base) - top))}" fill="${s.colour}"/>`);
      }
      base += v;
    }
    parts.push('</g>');
    if (i % labelEvery === 0) {
      const label = daily ? b.start.slice(0, 10) : `${b.start.slice(5, 10)} ${b.start.slice(11, 16)}`;
      const lx = round(M.left + i * step + step / 2);
      parts.push(`<text transform="translate(${lx} ${M.top + plotH + 12}) rotate(35)" font-size="10" fill="#333">${escape(label)}</text>`);
    }
  });
  parts.push(`<line x1="${M.left}" x2="${WIDTH - M.right}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="#333" stroke-width="1"/>`);

  const legend = TIMELINE_SERIES.map((s) => `<span class="key"><span class="swatch" style="background:${s.colour}"></span>${escape(s.label)}</span>`).join(' ');
  const summary = `Requests per ${daily ? 'day' : 'hour'} (UTC), ${buckets.length} buckets, at most ${Math.max(0, ...totals)} in one`;
  return (
    `<figure class="timeline"><svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-label="${escape(summary)}">` +
    parts.join('') +
    `</svg><figcaption>${escape(summary)}. ${legend}</figcaption></figure>`
  );
}

/** 1, 2, 2.5 or 5 times a power of ten, at least 1: ticks a reader can add up. */
function niceMax(v: number): number {
  if (v <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function formatTick(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(1);
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

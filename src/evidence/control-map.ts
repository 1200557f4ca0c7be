import type { EvidenceSummary } from './summary';

/** PLACEHOLDER (being built on branch h-report): the ISO/IEC 27001 control map, 2022 and 2013 editions. */

export interface ControlEntry {
  edition: '2022' | '2013';
  id: string;
  title: string;
  /** bundle files that evidence it */
  evidence: string[];
  counts: Record<string, number>;
  /** how vecgate supports it, one or two sentences */
  how: string;
  /** for 2022 controls: the 2013 controls Annex B of ISO/IEC 27002:2022 maps it to */
  corresponds?: string[];
}

export interface ControlMap {
  source: string;
  controls: ControlEntry[];
}

export function buildControlMap(_summary: EvidenceSummary): ControlMap {
  return { source: 'not built yet', controls: [] };
}

export function controlMapCsv(map: ControlMap): string {
  return `edition,id,title,evidence\n${map.controls.map((c) => `${c.edition},${c.id},${c.title},${c.evidence.join(' ')}`).join('\n')}`;
}

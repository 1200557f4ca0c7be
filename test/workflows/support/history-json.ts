import { readFileSync } from 'node:fs';
import { historyFromJson, historyToJson as toJson, type History } from '../../../src/evidence/history-json';

/** Recorded histories as files of Temporal's standard JSON (src/evidence/history-json.ts says why not historyToJSON). */
export type { History };

export function historyToJson(history: History): string {
  return `${JSON.stringify(toJson(history), null, 2)}\n`;
}

export function readHistoryFile(path: string): History {
  try {
    return historyFromJson(JSON.parse(readFileSync(path, 'utf8')));
  } catch (err) {
    throw new Error(`${path} ${(err as Error).message}`);
  }
}

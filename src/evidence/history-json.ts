import { createRequire } from 'node:module';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

/**
 * Workflow histories as Temporal's standard JSON (what `temporal workflow show --output json` and
 * the UI download give, and what `historyToJSON` of @temporalio/common writes). Not through that
 * function itself: with protobufjs installed twice (one copy under @temporalio/common, another
 * under @temporalio/client's grpc), `historyToJSON` / `historyFromJSON` throw "type must be a Type"
 * here. This uses the protojson of the protobufjs copy @temporalio/proto loads, which writes the
 * same JSON (test/workflows/support/history-json.ts does the same for the recorded histories).
 */
export type History = proto.temporal.api.history.v1.IHistory;

/** The history as plain JSON: events with their `...EventAttributes`, payloads base64. */
export interface HistoryJson {
  events: HistoryEventJson[];
}

export type HistoryEventJson = Record<string, unknown> & { eventId?: string; eventTime?: string; eventType?: string };

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): unknown;
}

const protojson = createRequire(require.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as ProtoJson;
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

export function historyToJson(history: History): HistoryJson {
  const message = proto.temporal.api.history.v1.History.fromObject(history);
  return protojson.toJson(historyType, message) as HistoryJson;
}

/** The decoded history the replayer takes; throws when the JSON is not a workflow history. */
export function historyFromJson(json: unknown): History {
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History | null;
  if (!history?.events?.length) throw new Error('holds no workflow history events');
  return history;
}

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

/**
 * Workflow histories as Temporal's standard JSON (what `temporal workflow show --output json` and
 * the UI download give). Not through @temporalio/common's historyToJSON / historyFromJSON: with
 * protobufjs installed twice (npm ls protobufjs: one copy under @temporalio/common, one under
 * @temporalio/proto) those throw "type must be a Type", and Worker.runReplayHistories does the same
 * when handed JSON. This uses the protojson of the protobufjs copy @temporalio/proto loads, and
 * hands the replayer decoded History objects.
 */
export type History = proto.temporal.api.history.v1.IHistory;

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): unknown;
}

const protojson = createRequire(require.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as ProtoJson;
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

export function historyToJson(history: History): string {
  const message = proto.temporal.api.history.v1.History.fromObject(history);
  return `${JSON.stringify(protojson.toJson(historyType, message), null, 2)}\n`;
}

export function readHistoryFile(path: string): History {
  const history = protojson.fromJson(historyType, JSON.parse(readFileSync(path, 'utf8')), { ignoreUnknownFields: true }) as History | null;
  if (!history?.events?.length) throw new Error(`${path} holds no workflow history events`);
  return history;
}
